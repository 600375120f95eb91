#pragma once
// The embedded SQLite backend: one database file under the data dir, WAL journal,
// synchronous=FULL, schema migrations applied on open. All the stores share the file; each thread
// gets its own connection, and all message writes go through one group-commit writer thread.
// Next to the database, `<db>-credver` holds the credential version that every process opening
// the database shares (see SqliteCredentialStore), like SQLite's own -wal and -shm files.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "store/audit_store.h"
#include "store/credential_store.h"
#include "store/domain_store.h"
#include "store/message_store.h"
#include "store/queue_store.h"
#include "store/retention_store.h"
#include "store/template_store.h"

namespace sc::store {

struct SqliteOptions {
    std::string path;  // database file
    int busyTimeoutMs = 5000;
    size_t maxBatch = 512;  // messages per group commit
    // Idle reader connections kept open for reuse; a burst beyond this opens (and then closes)
    // extra connections rather than making callers wait for one.
    size_t maxIdleConnections = 16;
    // Receives failures that the store interfaces cannot return (a read that answers
    // std::optional or a vector, a callback that threw). Wire it to the server log.
    std::function<void(std::string_view message)> onError;
    // Hears news that is not a failure (writes resuming after a full disk). Wire it to the
    // server log's info level.
    std::function<void(std::string_view message)> onNotice;
    // Paces the checkpoints that a full disk makes the writers wait for (full_disk_gate.h);
    // the system clock when null. Must outlive the backend.
    const Clock* clock = nullptr;
};

class SqliteBackend {
public:
    // Opens (creating if needed) the database and migrates it. Throws std::runtime_error with a
    // clear message when the file cannot be opened or migrated (start-up failure).
    explicit SqliteBackend(SqliteOptions options);
    ~SqliteBackend();

    SqliteBackend(const SqliteBackend&) = delete;
    SqliteBackend& operator=(const SqliteBackend&) = delete;

    CredentialStore& credentials();
    MessageStore& messages();
    SessionStore& sessions();
    AuditStore& audit();
    TemplateStore& templates();
    DomainStore& domains();
    RetentionStore& retention();

    // The delivery queue on the same file. Its writes give way to the message writer's group
    // commit, on which send requests wait (sqlite/intake_first.h). The backend must outlive it.
    std::unique_ptr<QueueStore> openQueueStore();
    // How often the queue's writes have waited for the message writer (for tests and metrics).
    uint64_t queueYieldsToIntake() const;

    // Group commits done by the message writer since open (for metrics and tests).
    size_t commitCount() const;
    // Whether writes are refused after a full disk, until the WAL has been copied into the
    // database file (sqlite/full_disk_gate.h), and how many were refused since open.
    bool writesHeldForFullDisk() const;
    uint64_t writesRefusedForFullDisk() const;
    // Test hook: while held, the writer leaves new work queued, so a test can build a batch of
    // a known size without sleeping. stop() releases it.
    void holdWriterForTest(bool hold);

    // The schema version this build migrates to.
    static int schemaVersion();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sc::store
