#include "store/sqlite/sqlite_store.h"

#include <stdexcept>

#include "store/sqlite/connection.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/sqlite_credential_store.h"
#include "store/sqlite/sqlite_message_store.h"

namespace sc::store {

struct SqliteBackend::Impl {
    explicit Impl(SqliteOptions o)
        : options(std::move(o)),
          pool(options.path, options.busyTimeoutMs, options.maxIdleConnections) {
        try {
            // Migrate before any other connection prepares statements against the schema.
            auto first = std::make_unique<sqlite::Connection>(options.path, options.busyTimeoutMs);
            sqlite::migrate(*first);
            pool.adopt(std::move(first));
            credentials = std::make_unique<sqlite::SqliteCredentialStore>(pool, options.onError);
            messages = std::make_unique<sqlite::SqliteMessageStore>(
                options.path, options.busyTimeoutMs, options.maxBatch, pool, options.onError);
        } catch (const std::exception& e) {
            throw std::runtime_error("cannot open SQLite database '" + options.path +
                                     "': " + e.what());
        }
    }

    SqliteOptions options;
    // Declared before the stores, so that it outlives them.
    sqlite::ConnectionPool pool;
    std::unique_ptr<sqlite::SqliteCredentialStore> credentials;
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
