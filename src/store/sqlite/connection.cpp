#include "store/sqlite/connection.h"

#include <sqlite3.h>

#include <algorithm>
#include <climits>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>

namespace sc::store::sqlite {

namespace {

int checkedSize(size_t size) {
    // SQLite takes sizes as int; a silent narrowing would bind the wrong length.
    if (size > static_cast<size_t>(INT_MAX)) {
        throw SQLite::Exception("value too large for SQLite", SQLITE_TOOBIG);
    }
    return static_cast<int>(size);
}

// sqlite3_bind_blob() binds NULL for a null pointer even with size 0, and an empty
// std::string_view may carry one; NOT NULL columns must get a zero-length value instead.
const char* nonNull(std::string_view v) {
    return v.data() != nullptr ? v.data() : "";
}

// Before SQLite's first use in the process. MEMSTATUS off: with it on (the default), every
// sqlite3_malloc and sqlite3_free takes a process-wide mutex to keep memory statistics that
// nothing here reads, and the writer allocates ~15 times per message.
// Called for the database path, so that it runs before db_ opens the file.
const std::string& afterSqliteConfigured(const std::string& path) {
    static std::once_flag once;
    std::call_once(once, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
    return path;
}

}  // namespace

Connection::Connection(const std::string& path, int busyTimeoutMs)
    // NOMUTEX: a connection is only ever used by one thread at a time (pool lease or the
    // writer thread), so SQLite's per-connection mutex would be pure overhead. The busy timeout
    // (sqlite3_busy_timeout, as PRAGMA busy_timeout) makes a lock held by another process a
    // wait rather than an SQLITE_BUSY failure.
    : db_(afterSqliteConfigured(path),
          SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_NOMUTEX, busyTimeoutMs),
      busyTimeout_(busyTimeoutMs) {
    // SQLite's own busy handler (sqlite3_busy_timeout) sleeps 1, 2, 5, 10 ... 100 ms between
    // attempts. Our write locks are held for well under a millisecond (a group commit, an audit
    // batch), so the group-commit writer would sleep far longer than the lock it waits for, and
    // every request of its batch with it: that was the tail of the send latency. This handler
    // retries after 50 us, doubling up to 1 ms, until the same timeout.
    sqlite3_busy_handler(db_.getHandle(), &Connection::onBusy, this);
    // journal_mode answers the mode actually in force; it stays "delete" where WAL is not
    // possible (e.g. some network file systems), and then concurrent readers would block the
    // writer, which is not the database this code was written for.
    // Switching a new file to WAL takes an exclusive lock, and SQLite answers SQLITE_BUSY there
    // without calling the busy handler: two processes opening a new database together had one
    // fail with "database is locked". The same wait policy (onBusy) applies by hand.
    std::string mode;
    for (int attempt = 0;; ++attempt) {
        try {
            mode = db_.execAndGet("PRAGMA journal_mode=WAL").getString();
            break;
        } catch (const SQLite::Exception& e) {
            if (e.getErrorCode() != SQLITE_BUSY || onBusy(this, attempt) == 0) throw;
        }
    }
    if (mode != "wal") {
        throw SQLite::Exception("cannot enable WAL journal (journal_mode is " + mode + ")",
                                SQLITE_CANTOPEN);
    }
    // FULL: a commit must survive power loss before the client hears 200 (NORMAL in WAL mode
    // may lose the last transactions).
    db_.exec("PRAGMA synchronous=FULL");
    db_.exec("PRAGMA foreign_keys=ON");
}

int Connection::onBusy(void* self, int priorCalls) {
    auto* c = static_cast<Connection*>(self);
    c->busyWaits_.fetch_add(1, std::memory_order_relaxed);
    const auto now = std::chrono::steady_clock::now();
    if (priorCalls == 0) c->busySince_ = now;
    if (now - c->busySince_ >= c->busyTimeout_) return 0;  // give up: SQLITE_BUSY
    const auto pause = std::chrono::microseconds(50 << std::min(priorCalls, 5));
    std::this_thread::sleep_for(
        std::min<std::chrono::microseconds>(pause, std::chrono::milliseconds(1)));
    return 1;
}

SQLite::Statement& Connection::statement(std::string_view sql) {
    auto it = statements_.find(sql);
    if (it == statements_.end()) {
        auto stmt = std::make_unique<SQLite::Statement>(db_, std::string(sql));
        it = statements_.emplace(std::string(sql), std::move(stmt)).first;
    }
    return *it->second;
}

int Connection::exec(std::string_view sql) {
    ScopedStatement s(*this, sql);
    return s->exec();
}

bool Connection::inTransaction() const {
    return sqlite3_get_autocommit(db_.getHandle()) == 0;
}

void Connection::rollbackQuietly() noexcept {
    if (!inTransaction()) return;
    try {
        exec("ROLLBACK");
    } catch (...) {
        // The transaction is discarded when the connection closes; nothing more to do here.
    }
}

ScopedStatement::~ScopedStatement() {
    stmt_.tryReset();
    try {
        stmt_.clearBindings();
    } catch (...) {
        // sqlite3_clear_bindings() cannot fail; SQLiteCpp merely declares that it may throw.
    }
}

void bindInt(SQLite::Statement& s, int index, int64_t value) {
    s.bind(index, value);
}

void bindText(SQLite::Statement& s, int index, std::string_view value) {
    s.bind(index, std::string(value));
}

void bindBlob(SQLite::Statement& s, int index, std::string_view value) {
    s.bind(index, static_cast<const void*>(nonNull(value)), checkedSize(value.size()));
}

void bindBlobNoCopy(SQLite::Statement& s, int index, const std::string& value) {
    s.bindNoCopy(index, static_cast<const void*>(value.data()), checkedSize(value.size()));
}

void bindTextNoCopy(SQLite::Statement& s, int index, const std::string& value) {
    checkedSize(value.size());
    s.bindNoCopy(index, value);
}

void bindNull(SQLite::Statement& s, int index) {
    s.bind(index);
}

std::string columnBytes(const SQLite::Statement& s, int index) {
    const SQLite::Column col = s.getColumn(index);
    // Blob before bytes, as the SQLite documentation asks: the size is that of the
    // representation the first call produced.
    const auto* data = static_cast<const char*>(col.getBlob());
    const int size = col.getBytes();
    if (data == nullptr || size <= 0) return {};
    return std::string(data, static_cast<size_t>(size));
}

StoreError storeError(StoreError::Kind kind, std::string message) {
    StoreError err;
    err.kind = kind;
    err.message = std::move(message);
    return err;
}

StoreError toStoreError(const SQLite::Exception& e) {
    StoreError err;
    err.message = e.what();
    switch (e.getErrorCode() & 0xff) {
        case SQLITE_CONSTRAINT:
            err.kind = StoreError::Kind::Conflict;
            break;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
        case SQLITE_FULL:
        case SQLITE_IOERR:
        case SQLITE_CANTOPEN:
        case SQLITE_READONLY:
        case SQLITE_PROTOCOL:
        case SQLITE_NOMEM:
            err.kind = StoreError::Kind::Unavailable;
            break;
        default:
            err.kind = StoreError::Kind::Internal;
            break;
    }
    return err;
}

StoreError toStoreError(const std::exception& e) {
    if (const auto* se = dynamic_cast<const SQLite::Exception*>(&e)) return toStoreError(*se);
    return storeError(StoreError::Kind::Internal, e.what());
}

bool isForeignKeyViolation(const SQLite::Exception& e) {
    return e.getExtendedErrorCode() == SQLITE_CONSTRAINT_FOREIGNKEY;
}

ConnectionPool::ConnectionPool(std::string path, int busyTimeoutMs, size_t maxIdle, OnOpen onOpen)
    : path_(std::move(path)),
      busyTimeoutMs_(busyTimeoutMs),
      maxIdle_(maxIdle),
      onOpen_(std::move(onOpen)) {}

ConnectionPool::Lease ConnectionPool::acquire() {
    {
        std::lock_guard lock(mutex_);
        if (!idle_.empty()) {
            auto c = std::move(idle_.back());
            idle_.pop_back();
            return Lease(*this, std::move(c));
        }
    }
    // Opened outside the lock: opening touches the file and may wait on the busy handler.
    auto c = std::make_unique<Connection>(path_, busyTimeoutMs_);
    if (onOpen_) onOpen_(*c);
    return Lease(*this, std::move(c));
}

void ConnectionPool::adopt(std::unique_ptr<Connection> c) {
    if (onOpen_) onOpen_(*c);
    giveBack(std::move(c));
}

void ConnectionPool::giveBack(std::unique_ptr<Connection> c) {
    // A connection still inside a transaction would hand its locks and snapshot to the next
    // caller; one that cannot leave it is closed instead.
    c->rollbackQuietly();
    if (c->inTransaction()) return;
    {
        std::lock_guard lock(mutex_);
        if (idle_.size() < maxIdle_) {
            idle_.push_back(std::move(c));
            return;
        }
    }
    // A surplus connection is closed here, outside the lock: closing may checkpoint the WAL.
}

ConnectionPool::Lease::~Lease() {
    if (conn_) pool_->giveBack(std::move(conn_));
}

}  // namespace sc::store::sqlite
