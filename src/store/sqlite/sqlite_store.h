#pragma once
// The embedded SQLite backend: one database file under the data dir, WAL journal,
// synchronous=FULL, schema migrations applied on open. Both stores share the file; each thread
// gets its own connection, and all message writes go through one group-commit writer thread.

#include <memory>
#include <string>

#include "store/credential_store.h"
#include "store/message_store.h"

namespace sc::store {

struct SqliteOptions {
    std::string path;                  // database file
    int busyTimeoutMs = 5000;
    size_t maxBatch = 512;             // messages per group commit
};

class SqliteBackend {
public:
    // Opens (creating if needed) the database and migrates it. Throws std::runtime_error with a
    // clear message when the file cannot be opened or migrated (start-up failure).
    explicit SqliteBackend(SqliteOptions options);
    ~SqliteBackend();

    CredentialStore& credentials();
    MessageStore& messages();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sc::store
