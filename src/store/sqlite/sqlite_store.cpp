#include "store/sqlite/sqlite_store.h"

#include <stdexcept>

#include "store/sqlite/connection.h"
#include "store/sqlite/full_disk_gate.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/sqlite_audit_store.h"
#include "store/sqlite/sqlite_credential_store.h"
#include "store/sqlite/sqlite_domain_store.h"
#include "store/sqlite/sqlite_message_store.h"
#include "store/sqlite/sqlite_queue_store.h"
#include "store/sqlite/sqlite_retention_store.h"
#include "store/sqlite/sqlite_session_store.h"
#include "store/sqlite/sqlite_template_store.h"
#include "store/sqlite/write_turn.h"

namespace sc::store {

struct SqliteBackend::Impl {
    explicit Impl(SqliteOptions o)
        : options(std::move(o)),
          fullDisk(options.clock != nullptr ? *options.clock : systemClock, options.onError,
                   options.onNotice),
          pool(options.path, options.busyTimeoutMs, options.maxIdleConnections,
               [this](sqlite::Connection& c) { followWriteRules(c); }) {
        try {
            // Migrate before any other connection prepares statements against the schema.
            auto first = std::make_unique<sqlite::Connection>(options.path, options.busyTimeoutMs);
            sqlite::migrate(*first);
            pool.adopt(std::move(first));
            credentials = std::make_unique<sqlite::SqliteCredentialStore>(pool, options.path,
                                                                          options.onError);
            sessions = std::make_unique<sqlite::SqliteSessionStore>(pool);
            audit = std::make_unique<sqlite::SqliteAuditStore>(pool);
            templates = std::make_unique<sqlite::SqliteTemplateStore>(pool);
            domains = std::make_unique<sqlite::SqliteDomainStore>(pool);
            retention = std::make_unique<sqlite::SqliteRetentionStore>(pool);
            messages = std::make_unique<sqlite::SqliteMessageStore>(
                options.path, options.busyTimeoutMs, options.maxBatch, pool, options.onError,
                sqlite::CheckpointPolicy{}, &intakeFirst, &fullDisk, &writeTurn);
        } catch (const std::exception& e) {
            // append(): "literal" + std::string&& trips a false -Wrestrict in g++ 12 at -O2.
            throw std::runtime_error(std::string("cannot open SQLite database '")
                                         .append(options.path)
                                         .append("': ")
                                         .append(e.what()));
        }
    }

    // What every connection that writes to the file obeys: the full-disk gate and the write
    // turn. (The intake writer is given both by its store.)
    void followWriteRules(sqlite::Connection& c) {
        c.guardWritesWith(fullDisk);
        c.takeTurnsWith(writeTurn);
    }

    SqliteOptions options;
    SystemClock systemClock;  // when the options name no clock
    // Every connection on the file writes behind it; declared before them all.
    sqlite::FullDiskGate fullDisk;
    // Every write transaction on the file takes its turn here (write_turn.h).
    sqlite::WriteTurn writeTurn;
    // Declared before the stores, so that it outlives them.
    sqlite::ConnectionPool pool;
    sqlite::IntakeFirst intakeFirst;
    std::unique_ptr<sqlite::SqliteCredentialStore> credentials;
    std::unique_ptr<sqlite::SqliteSessionStore> sessions;
    std::unique_ptr<sqlite::SqliteAuditStore> audit;
    std::unique_ptr<sqlite::SqliteTemplateStore> templates;
    std::unique_ptr<sqlite::SqliteDomainStore> domains;
    std::unique_ptr<sqlite::SqliteRetentionStore> retention;
    std::unique_ptr<sqlite::SqliteMessageStore> messages;
};

SqliteBackend::SqliteBackend(SqliteOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

SqliteBackend::~SqliteBackend() {
    // Pending sends are committed and answered before any connection closes.
    impl_->messages->stop();
}

CredentialStore& SqliteBackend::credentials() {
    return *impl_->credentials;
}

MessageStore& SqliteBackend::messages() {
    return *impl_->messages;
}

SessionStore& SqliteBackend::sessions() {
    return *impl_->sessions;
}

AuditStore& SqliteBackend::audit() {
    return *impl_->audit;
}

RetentionStore& SqliteBackend::retention() {
    return *impl_->retention;
}

TemplateStore& SqliteBackend::templates() {
    return *impl_->templates;
}

DomainStore& SqliteBackend::domains() {
    return *impl_->domains;
}

std::unique_ptr<QueueStore> SqliteBackend::openQueueStore() {
    // The queue's commits wake the message store's checkpointer, as the intake's do: SQLite's
    // auto-checkpoint would copy the WAL inside the queue's commits, on the scheduler's thread,
    // which a draining queue keeps busy (docs/delivery.md, "Outcome groups").
    sqlite::SqliteMessageStore* messages = impl_->messages.get();
    return sqlite::openSqliteQueueStore(impl_->options.path, impl_->options.busyTimeoutMs,
                                        impl_->intakeFirst,
                                        [messages, impl = impl_.get()](sqlite::Connection& c) {
                                            messages->checkpointCommitsOf(c);
                                            impl->followWriteRules(c);
                                        });
}

bool SqliteBackend::writesHeldForFullDisk() const {
    return impl_->fullDisk.closed();
}

uint64_t SqliteBackend::writesRefusedForFullDisk() const {
    return impl_->fullDisk.refusals();
}

uint64_t SqliteBackend::queueYieldsToIntake() const {
    return impl_->intakeFirst.yields();
}

size_t SqliteBackend::commitCount() const {
    return impl_->messages->commitCount();
}

void SqliteBackend::holdWriterForTest(bool hold) {
    impl_->messages->holdWriterForTest(hold);
}

int SqliteBackend::schemaVersion() {
    return sqlite::latestSchemaVersion();
}

}  // namespace sc::store
