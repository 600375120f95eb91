#pragma once
// SQLite connections for the embedded backend: one configured connection with its own cache of
// prepared statements, a pool that lends each caller a connection of its own, and the helpers
// that keep SQLiteCpp's exceptions inside this folder.

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/records.h"
#include "store/sqlite/full_disk_gate.h"
#include "store/sqlite/write_turn.h"

namespace sc::store::sqlite {

using ErrorSink = std::function<void(std::string_view)>;

class Connection {
public:
    // Throws SQLite::Exception when the file cannot be opened or configured.
    Connection(const std::string& path, int busyTimeoutMs);

    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    SQLite::Database& db() { return db_; }

    // A prepared statement owned by this connection, prepared on first use. Use it through
    // ScopedStatement so that it is reset afterwards.
    SQLite::Statement& statement(std::string_view sql);

    // Runs a statement that returns no rows; answers the number of changed rows.
    int exec(std::string_view sql);

    bool inTransaction() const;
    // How often this connection has waited for another connection's lock (busy handler calls).
    uint64_t busyWaits() const { return busyWaits_.load(std::memory_order_relaxed); }
    // Best effort, for error paths: the caller is already reporting the original failure.
    void rollbackQuietly() noexcept;

    // This connection's writes wait behind `gate` (full_disk_gate.h); it must outlive the
    // connection. Every connection that writes to the file should be guarded by the same gate.
    void guardWritesWith(FullDiskGate& gate) { gate_ = &gate; }
    // Before a write transaction: throws SQLite::Exception (SQLITE_FULL) while the gate is
    // closed.
    void admitWrite() {
        if (gate_ != nullptr) gate_->admitWrite();
    }
    // This connection's write transactions take turns with the other connections that share
    // `turn` (write_turn.h); it must outlive the connection.
    void takeTurnsWith(WriteTurn& turn) { turn_ = &turn; }
    // Before BEGIN IMMEDIATE, after admitWrite(): the turn, held until the returned lock goes
    // (an empty lock when the connection takes no turns). Throws SQLite::Exception
    // (SQLITE_BUSY) when it does not come within the busy timeout.
    std::unique_lock<std::timed_mutex> takeWriteTurn() {
        return turn_ != nullptr ? turn_->take(busyTimeout_) : std::unique_lock<std::timed_mutex>();
    }
    // A write failed with `e`: a full disk closes the gate.
    void noteWriteFailure(const std::exception& e) {
        if (gate_ != nullptr && isDiskFull(e)) gate_->close();
    }
    // A write transaction failed with `e`: noted as above, and rolled back (quietly).
    void abandonWrite(const std::exception& e) {
        noteWriteFailure(e);
        rollbackQuietly();
    }

private:
    static int onBusy(void* self, int priorCalls);

    // Declared first so that it is destroyed last, after every statement is finalized: closing
    // a connection with live statements fails (and asserts inside SQLiteCpp).
    SQLite::Database db_;
    const std::chrono::milliseconds busyTimeout_;
    // When the current wait for a lock began (onBusy's first call for it).
    std::chrono::steady_clock::time_point busySince_;
    std::atomic<uint64_t> busyWaits_{0};
    FullDiskGate* gate_ = nullptr;
    WriteTurn* turn_ = nullptr;
    std::map<std::string, std::unique_ptr<SQLite::Statement>, std::less<>> statements_;
};

// Resets a cached statement when its use ends, even on error. A statement left mid-result keeps
// its read transaction open: in WAL mode that pins an old snapshot, so this connection would
// stop seeing commits from other connections and processes, and checkpoints could not finish.
class ScopedStatement {
public:
    ScopedStatement(Connection& c, std::string_view sql) : stmt_(c.statement(sql)) {}
    // A statement the caller already holds (one of c.statement()'s).
    explicit ScopedStatement(SQLite::Statement& s) : stmt_(s) {}
    ~ScopedStatement();

    ScopedStatement(const ScopedStatement&) = delete;
    ScopedStatement& operator=(const ScopedStatement&) = delete;

    SQLite::Statement& operator*() { return stmt_; }
    SQLite::Statement* operator->() { return &stmt_; }

private:
    SQLite::Statement& stmt_;
};

// Binding helpers. SQLiteCpp's bind() overloads make `long long` ambiguous and bind
// std::string as TEXT; BLOB columns need the (pointer, size) form so NUL bytes survive and
// STRICT tables accept the value.
void bindInt(SQLite::Statement& s, int index, int64_t value);
void bindText(SQLite::Statement& s, int index, std::string_view value);
void bindBlob(SQLite::Statement& s, int index, std::string_view value);
// For large values that outlive the statement's execution (attachment data, content JSON).
void bindBlobNoCopy(SQLite::Statement& s, int index, const std::string& value);
void bindTextNoCopy(SQLite::Statement& s, int index, const std::string& value);
void bindNull(SQLite::Statement& s, int index);

// Reads a TEXT or BLOB column byte for byte (NULL reads as empty).
std::string columnBytes(const SQLite::Statement& s, int index);

// Reads a column holding one of records.h's enums through its parse function. The schema's
// CHECK constraints allow only the texts records.cpp knows; anything else is a database written
// by something else, thrown as std::runtime_error, which toStoreError makes an Internal error.
template <class E>
E parsedColumn(const SQLite::Statement& s, int column, std::optional<E> (*parse)(std::string_view),
               const char* what) {
    if (auto value = parse(columnBytes(s, column))) return *value;
    throw std::runtime_error(std::string("unknown ").append(what).append(" in the database"));
}

// Runs body inside BEGIN IMMEDIATE, once the connection's full-disk gate admits it and its write
// turn has come (write_turn.h), and ends with COMMIT when commitIf(result) holds, else ROLLBACK.
// IMMEDIATE takes the write lock up front, so a writer from another process makes us wait in the
// busy handler instead of failing later with SQLITE_BUSY when a read transaction tries to
// upgrade.
template <class Body, class CommitIf>
auto inWriteTransactionCommittingIf(Connection& c, Body&& body, CommitIf&& commitIf) {
    c.admitWrite();
    // Declared before the try: given back only after the catch blocks have rolled back.
    const auto turn = c.takeWriteTurn();
    c.exec("BEGIN IMMEDIATE");
    try {
        auto result = body();
        c.exec(commitIf(result) ? "COMMIT" : "ROLLBACK");
        return result;
    } catch (const std::exception& e) {
        c.abandonWrite(e);
        throw;
    } catch (...) {
        c.rollbackQuietly();
        throw;
    }
}

template <class Body>
auto inWriteTransaction(Connection& c, Body&& body) {
    return inWriteTransactionCommittingIf(c, std::forward<Body>(body),
                                          [](const auto&) { return true; });
}

// For a body that answers a Result: a failed Result (NotFound, say) rolls the transaction back
// instead of committing whatever the body did before it noticed.
template <class Body>
auto inWriteTransactionIfOk(Connection& c, Body&& body) {
    return inWriteTransactionCommittingIf(c, std::forward<Body>(body),
                                          [](const auto& result) { return result.ok(); });
}

// synchronous=NORMAL on a pooled connection for writes that need not reach the disk before
// their caller goes on, FULL again afterwards (the next borrower may write something that must
// be durable before it answers). In WAL mode NORMAL keeps the database consistent and the
// commit order: the next FULL commit, of any connection, syncs these frames with its own.
// Users: the audit's batches, the queue's claims and lease releases.
class SynchronousNormal {
public:
    explicit SynchronousNormal(Connection& c) : c_(c) { c_.exec("PRAGMA synchronous=NORMAL"); }
    ~SynchronousNormal() {
        try {
            c_.exec("PRAGMA synchronous=FULL");
        } catch (...) {
            // Setting a pragma on an open connection takes no lock and does not fail in
            // practice; a destructor has no one to report it to anyway.
        }
    }
    SynchronousNormal(const SynchronousNormal&) = delete;
    SynchronousNormal& operator=(const SynchronousNormal&) = delete;

private:
    Connection& c_;
};

// A StoreError without a Duplicate's response. `StoreError{kind, message}` leaves
// existingResponse out, which -Wextra (missing-field-initializers) rejects.
StoreError storeError(StoreError::Kind kind, std::string message);

// Maps an SQLite failure onto the store's error kinds. Constraint violations become Conflict;
// locking, I/O and disk-full failures become Unavailable (the environment, likely transient).
StoreError toStoreError(const SQLite::Exception& e);
StoreError toStoreError(const std::exception& e);
bool isForeignKeyViolation(const SQLite::Exception& e);

// Lends connections to callers, one caller at a time per connection: SQLite connections are
// not to be shared by concurrent threads, and each keeps its prepared statements warm.
class ConnectionPool {
public:
    // Runs on each connection the pool opens (or adopts), before the pool lends it.
    using OnOpen = std::function<void(Connection&)>;

    ConnectionPool(std::string path, int busyTimeoutMs, size_t maxIdle, OnOpen onOpen = {});

    class Lease {
    public:
        Lease(ConnectionPool& pool, std::unique_ptr<Connection> c)
            : pool_(&pool), conn_(std::move(c)) {}
        Lease(Lease&& other) noexcept = default;
        Lease& operator=(Lease&&) = delete;
        ~Lease();

        Connection& operator*() { return *conn_; }
        Connection* operator->() { return conn_.get(); }

    private:
        ConnectionPool* pool_;
        std::unique_ptr<Connection> conn_;
    };

    // Throws SQLite::Exception when a new connection cannot be opened.
    Lease acquire();
    // Hands an already open connection to the pool (the one used for migrations), after
    // running onOpen on it as on the pool's own.
    void adopt(std::unique_ptr<Connection> c);

private:
    void giveBack(std::unique_ptr<Connection> c);

    const std::string path_;
    const int busyTimeoutMs_;
    const size_t maxIdle_;
    const OnOpen onOpen_;
    std::mutex mutex_;
    std::vector<std::unique_ptr<Connection>> idle_;
};

}  // namespace sc::store::sqlite
