#include "store/sqlite/sqlite_message_store.h"
#include "common/thread_role.h"

#include "store/sqlite/recipient_range.h"

#include "domain/limits.h"

#include <sqlite3.h>

#include <algorithm>
#include <string>
#include <utility>

namespace sc::store::sqlite {

namespace {

constexpr const char* kBegin = "BEGIN IMMEDIATE";
constexpr const char* kCommit = "COMMIT";
constexpr const char* kSavepoint = "SAVEPOINT enqueue_message";
constexpr const char* kReleaseSavepoint = "RELEASE enqueue_message";
constexpr const char* kRollbackToSavepoint = "ROLLBACK TO enqueue_message";

// How long a sendRequestId keeps a retried request from being queued again.

// One statement for both cases that let the message through: a new (user, id) is recorded,
// and a record older than the window (parameter 5: the oldest created_at_ms that still counts)
// is taken over by this request. A record inside the window is left alone and nothing changes,
// which is how the caller tells a duplicate.
constexpr const char* kClaimSendRequest =
    "INSERT INTO send_requests (api_user_id, request_id, created_at_ms, response_json) "
    "VALUES (?, ?, ?, ?) ON CONFLICT (api_user_id, request_id) DO UPDATE "
    "SET created_at_ms = excluded.created_at_ms, response_json = excluded.response_json "
    "WHERE send_requests.created_at_ms < ?";
constexpr const char* kInsertMessage =
    "INSERT INTO messages (id, kind, account_id, api_user_id, api_user_name, created_at_ms, "
    "test_mode, content_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
constexpr const char* kInsertAttachment =
    "INSERT INTO attachments (message_id, idx, filename, content_type, data) "
    "VALUES (?, ?, ?, ?, ?)";
constexpr const char* kInsertRecipient =
    "INSERT INTO recipients (id, message_id, address, role, state, attempts, "
    "next_attempt_at_ms, updated_at_ms, content_json) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?)";
constexpr const char* kSendRequestResponse =
    "SELECT response_json FROM send_requests WHERE api_user_id = ? AND request_id = ?";
constexpr const char* kFindSendRequest =
    "SELECT response_json FROM send_requests "
    "WHERE api_user_id = ? AND request_id = ? AND created_at_ms >= ?";

// Both queries select the columns readRecipient() expects, in its order.
#define SC_RECIPIENT_COLUMNS                                            \
    "r.id, r.message_id, r.address, r.role, r.state, m.created_at_ms, " \
    "coalesce(r.content_json, m.content_json) "                         \
    "FROM recipients r JOIN messages m ON m.id = r.message_id "
constexpr const char* kFindRecipient = "SELECT " SC_RECIPIENT_COLUMNS "WHERE r.id = ?";
constexpr const char* kRecipientsOf =
    "SELECT " SC_RECIPIENT_COLUMNS "WHERE " SC_RECIPIENTS_OF("r", "?1") " ORDER BY r.rowid";
#undef SC_RECIPIENT_COLUMNS
// The newest messages are chosen first (the inner LIMIT), then joined to all their recipients,
// so a message with many recipients never pushes another out of the page. CROSS JOIN keeps that
// order of the loops: without statistics SQLite would rather scan recipients and look each
// one's message up.
constexpr const char* kRecentMessages =
    "SELECT m.id, m.kind, m.api_user_name, m.created_at_ms, m.test_mode, "
    "r.address, r.role, r.state, r.attempts, r.updated_at_ms, r.id "
    "FROM (SELECT id, kind, api_user_name, created_at_ms, test_mode "
    "      FROM messages WHERE account_id = ? "
    "      ORDER BY created_at_ms DESC, rowid DESC LIMIT ?) m "
    "CROSS JOIN recipients r ON " SC_RECIPIENTS_OF("r", "m.id") " "
    "ORDER BY m.created_at_ms DESC, m.id DESC, r.rowid";

// Runs a statement that returns no rows; answers the number of changed rows.
int run(SQLite::Statement& statement) {
    ScopedStatement s(statement);
    return s->exec();
}

StoredRecipient readRecipient(const SQLite::Statement& s) {
    StoredRecipient r;
    r.id = columnBytes(s, 0);
    r.messageId = columnBytes(s, 1);
    r.address = columnBytes(s, 2);
    r.role = parsedColumn(s, 3, parseRecipientRole, "recipient role");
    r.state = parsedColumn(s, 4, parseRecipientState, "recipient state");
    r.createdAtMs = s.getColumn(5).getInt64();
    r.contentJson = columnBytes(s, 6);
    return r;
}

}  // namespace

SqliteMessageStore::SqliteMessageStore(const std::string& path, int busyTimeoutMs, size_t maxBatch,
                                       ConnectionPool& readers, ErrorSink onError,
                                       CheckpointPolicy checkpoints, IntakeFirst* intakeFirst,
                                       FullDiskGate* fullDisk, WriteTurn* writeTurn)
    : maxBatch_(maxBatch == 0 ? 1 : maxBatch),
      readers_(readers),
      intakeFirst_(intakeFirst),
      fullDisk_(fullDisk),
      onError_(std::move(onError)),
      writerConn_(std::make_unique<Connection>(path, busyTimeoutMs)),
      checkpointPolicy_(checkpoints) {
    Connection& w = *writerConn_;
    if (writeTurn != nullptr) w.takeTurnsWith(*writeTurn);
    // The writer inserts a message's attachments and recipients right after the message, in
    // the same transaction, and never deletes: checking each child's parent key would only
    // repeat a lookup that cannot fail. The other connections keep foreign keys on, so deletes
    // still cascade.
    w.db().exec("PRAGMA foreign_keys=OFF");
    stmts_.begin = &w.statement(kBegin);
    stmts_.commit = &w.statement(kCommit);
    stmts_.savepoint = &w.statement(kSavepoint);
    stmts_.releaseSavepoint = &w.statement(kReleaseSavepoint);
    stmts_.rollbackToSavepoint = &w.statement(kRollbackToSavepoint);
    stmts_.claimSendRequest = &w.statement(kClaimSendRequest);
    stmts_.sendRequestResponse = &w.statement(kSendRequestResponse);
    stmts_.insertMessage = &w.statement(kInsertMessage);
    stmts_.insertAttachment = &w.statement(kInsertAttachment);
    stmts_.insertRecipient = &w.statement(kInsertRecipient);
    auto checkpointConn = std::make_unique<Connection>(path, busyTimeoutMs);
    // Only RESTART consults the busy handler (PASSIVE never waits), and the writer waits as
    // long as RESTART does.
    sqlite3_busy_timeout(checkpointConn->db().getHandle(), checkpointPolicy_.restartBusyTimeoutMs);
    checkpointCommitsOf(*writerConn_);
    if (fullDisk_ != nullptr) {
        w.guardWritesWith(*fullDisk_);
        fullDisk_->onCheckpointDue([this] {
            std::unique_lock lock(checkpointMutex_);
            const uint64_t before = fullDiskCheckpoints_;
            fullDiskCheckpointDue_ = true;
            checkpointWake_.notify_one();
            checkpointIdle_.wait(
                lock, [&] { return checkpointerStopping_ || fullDiskCheckpoints_ > before; });
        });
    }
    checkpointer_ = std::thread([this, conn = std::move(checkpointConn)]() mutable {
        enterThreadRole("sc-checkpoint", ThreadPriority::Normal);
        checkpointerLoop(std::move(conn));
    });
    try {
        writer_ = std::thread([this] {
            enterThreadRole("sc-intake", ThreadPriority::Normal);
            writerLoop();
        });
    } catch (...) {
        // No destructor runs for a constructor that throws, and a joinable thread would abort.
        stopCheckpointer();
        throw;
    }
    writerId_ = writer_.get_id();
}

const char* SqliteMessageStore::recipientsOfSqlForTest() {
    return kRecipientsOf;
}

const char* SqliteMessageStore::recentMessagesSqlForTest() {
    return kRecentMessages;
}

SqliteMessageStore::~SqliteMessageStore() {
    stop();
}

void SqliteMessageStore::enqueue(NewMessage message, EnqueueDone done) {
    {
        std::lock_guard lock(mutex_);
        if (!stopping_) {
            pending_.push_back(Pending{std::move(message), std::move(done)});
            wake_.notify_one();
            return;
        }
    }
    done(fail(storeError(StoreError::Kind::Unavailable, "message store is stopped")));
}

void SqliteMessageStore::holdWriterForTest(bool hold) {
    {
        std::lock_guard lock(mutex_);
        held_ = hold && !stopping_;
    }
    wake_.notify_one();
}

void SqliteMessageStore::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        held_ = false;
    }
    wake_.notify_one();
    // A callback that calls stop() must not join its own thread; the writer sees stopping_
    // and exits once the queue is drained, and the destructor joins it.
    if (std::this_thread::get_id() == writerId_) return;
    std::lock_guard lock(stopMutex_);
    if (writer_.joinable()) writer_.join();
    // After the writer, whose commits are what wakes the checkpointer.
    stopCheckpointer();
}

void SqliteMessageStore::checkpointCommitsOf(Connection& c) {
    sqlite3_wal_hook(c.db().getHandle(), &SqliteMessageStore::onWalCommit, this);
}

int SqliteMessageStore::onWalCommit(void* self, sqlite3* /*db*/, const char* /*dbName*/,
                                    int frames) {
    auto* store = static_cast<SqliteMessageStore*>(self);
    const CheckpointPolicy& policy = store->checkpointPolicy_;
    store->walFrames_.store(frames, std::memory_order_relaxed);
    // The WAL starts again from its beginning only when a write transaction begins after
    // everything has been copied. While the writers stay busy, a checkpoint finishes after the
    // next transaction has begun, and the WAL keeps growing past the threshold: asking again at
    // every commit would copy a few frames (and fsync the database file) per commit, so the next
    // request waits for another passiveFrames frames, as SQLite's own auto-checkpoint would.
    // Under the mutex: the intake writer and the queue's connections commit on their own threads.
    {
        std::lock_guard lock(store->checkpointMutex_);
        if (frames < store->lastCheckpointRequest_) store->lastCheckpointRequest_ = 0;  // restarted
        if (frames < store->lastCheckpointRequest_ + policy.passiveFrames) return SQLITE_OK;
        store->lastCheckpointRequest_ = frames;
        store->checkpointFrames_ = frames;
    }
    store->checkpointWake_.notify_one();
    return SQLITE_OK;
}

void SqliteMessageStore::checkpointerLoop(std::unique_ptr<Connection> conn) {
    sqlite3* db = conn->db().getHandle();
    int restartAt = checkpointPolicy_.restartFrames;
    std::unique_lock lock(checkpointMutex_);
    for (;;) {
        checkpointWake_.wait(lock, [&] {
            return checkpointerStopping_ || checkpointFrames_ > 0 || fullDiskCheckpointDue_;
        });
        if (checkpointerStopping_) break;
        const int frames = checkpointFrames_;
        checkpointFrames_ = 0;
        fullDiskCheckpointDue_ = false;
        checkpointRunning_ = true;
        lock.unlock();

        // Behind a closed full-disk gate nobody writes: TRUNCATE copies the whole WAL, waiting
        // briefly for readers of old frames, and gives the WAL's space back to the file system.
        const bool fullDisk = fullDisk_ != nullptr && fullDisk_->closed();
        // Below the limit again: the WAL has been restarted since the last RESTART.
        if (frames < checkpointPolicy_.restartFrames) restartAt = checkpointPolicy_.restartFrames;
        const bool restart = !fullDisk && frames >= restartAt;
        int logFrames = 0;
        int copiedFrames = 0;
        const int rc = sqlite3_wal_checkpoint_v2(db, nullptr,
                                                 fullDisk  ? SQLITE_CHECKPOINT_TRUNCATE
                                                 : restart ? SQLITE_CHECKPOINT_RESTART
                                                           : SQLITE_CHECKPOINT_PASSIVE,
                                                 &logFrames, &copiedFrames);
        // Everything copied opens the gate even when a reader kept TRUNCATE from cutting the WAL
        // (BUSY): the database file then has every page, and an operator's open `sqlite3` shell
        // must not hold the writes back for as long as it stays open.
        const bool allCopied =
            rc == SQLITE_OK || (rc == SQLITE_BUSY && logFrames >= 0 && copiedFrames == logFrames);
        if (fullDisk && allCopied) fullDisk_->reopen();
        // A checkpoint that cannot grow the database file leaves the WAL unable to start again:
        // writers must stop adding to it (full_disk_gate.h).
        if (isDiskFull(rc) && fullDisk_ != nullptr) fullDisk_->close();
        // BUSY: another checkpoint was running, or RESTART could not finish in time (a reader
        // still on old frames); the next request tries again. Behind a closed gate, failing is
        // what is expected until space comes back, and the gate has said so.
        if (rc != SQLITE_OK && rc != SQLITE_BUSY && !fullDisk) {
            report("checkpoint", sqlite3_errstr(rc));
        }
        if (restart) {
            restartCheckpoints_.fetch_add(1);
            // A reader that keeps old frames alive must not cost the writer a wait per request.
            if (rc != SQLITE_OK) restartAt = frames + checkpointPolicy_.restartFrames;
        }
        checkpoints_.fetch_add(1);

        lock.lock();
        // A checkpoint that failed (a full disk, an I/O error) is asked for again at the next
        // commit, not passiveFrames frames later: on a full disk the WAL cannot grow that much
        // more, and only a checkpoint lets it restart from its beginning and reuse its space.
        if (rc != SQLITE_OK && rc != SQLITE_BUSY) lastCheckpointRequest_ = 0;
        if (fullDisk) ++fullDiskCheckpoints_;
        checkpointRunning_ = false;
        checkpointIdle_.notify_all();
    }
    lock.unlock();
    // Closed on this thread, which is the only one that ever used it.
    conn.reset();
}

void SqliteMessageStore::stopCheckpointer() {
    // A queue connection may still knock at the gate after this store is gone.
    if (fullDisk_ != nullptr) fullDisk_->onCheckpointDue({});
    {
        std::lock_guard lock(checkpointMutex_);
        checkpointerStopping_ = true;
    }
    checkpointWake_.notify_one();
    checkpointIdle_.notify_all();  // writers waiting for a full disk's checkpoint
    if (checkpointer_.joinable()) checkpointer_.join();
}

bool SqliteMessageStore::waitForCheckpointerForTest(std::chrono::milliseconds deadline) {
    std::unique_lock lock(checkpointMutex_);
    return checkpointIdle_.wait_for(lock, deadline, [&] {
        return checkpointerStopping_ || (checkpointFrames_ == 0 && !checkpointRunning_);
    });
}

void SqliteMessageStore::writerLoop() {
    std::vector<Pending> batch;
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait(lock, [&] { return stopping_ || (!held_ && !pending_.empty()); });
        if (pending_.empty()) break;  // stopping, and everything accepted has been written
        const size_t n = std::min(pending_.size(), maxBatch_);
        batch.reserve(n);
        for (size_t i = 0; i < n; ++i) {
            batch.push_back(std::move(pending_.front()));
            pending_.pop_front();
        }
        lock.unlock();
        writeBatch(batch);
        batch.clear();  // frees the messages (attachments may be large) before waiting again
        lock.lock();
    }
    lock.unlock();
    // Closed on this thread, which is the only one that ever used it.
    writerConn_.reset();
}

std::optional<StoreError> SqliteMessageStore::claimSendRequest(const NewMessage& m) {
    if (m.sendRequestId.empty()) return std::nullopt;
    {
        ScopedStatement s(*stmts_.claimSendRequest);
        bindInt(*s, 1, m.apiUserId);
        bindTextNoCopy(*s, 2, m.sendRequestId);
        bindInt(*s, 3, m.createdAtMs);
        bindTextNoCopy(*s, 4, m.responseJson);
        bindInt(*s, 5, m.createdAtMs - domain::kSendRequestWindow.count());
        if (s->exec() > 0) return std::nullopt;
    }
    // Inside the window. The record may have been written earlier in this very transaction (the
    // same id twice in one batch): the first one wins either way.
    ScopedStatement s(*stmts_.sendRequestResponse);
    bindInt(*s, 1, m.apiUserId);
    bindTextNoCopy(*s, 2, m.sendRequestId);
    if (!s->executeStep()) {
        return storeError(StoreError::Kind::Internal, "send request record vanished");
    }
    StoreError dup = storeError(StoreError::Kind::Duplicate, "duplicate sendRequestId");
    dup.existingResponse = columnBytes(*s, 0);
    return dup;
}

void SqliteMessageStore::insertMessage(const NewMessage& m) {
    // The message outlives the statements' execution, so its strings are not copied.
    {
        ScopedStatement s(*stmts_.insertMessage);
        bindTextNoCopy(*s, 1, m.messageId);
        bindText(*s, 2, userKindName(m.kind));
        bindInt(*s, 3, m.accountId);
        bindInt(*s, 4, m.apiUserId);
        bindTextNoCopy(*s, 5, m.apiUserName);
        bindInt(*s, 6, m.createdAtMs);
        bindInt(*s, 7, m.testMode ? 1 : 0);
        bindTextNoCopy(*s, 8, m.contentJson);
        s->exec();
    }
    for (size_t i = 0; i < m.attachments.size(); ++i) {
        const Attachment& a = m.attachments[i];
        ScopedStatement s(*stmts_.insertAttachment);
        bindTextNoCopy(*s, 1, m.messageId);
        bindInt(*s, 2, static_cast<int64_t>(i));
        bindTextNoCopy(*s, 3, a.filename);
        bindTextNoCopy(*s, 4, a.contentType);
        bindBlobNoCopy(*s, 5, a.data);
        s->exec();
    }
    // A test-mode message is queued like any other: the scheduler hands it to the sandbox agent
    // (docs/delivery.md), which records it as 'sandbox' without sending it anywhere.
    const std::string_view state = recipientStateName(RecipientState::Queued);
    for (const Recipient& r : m.recipients) {
        ScopedStatement s(*stmts_.insertRecipient);
        bindTextNoCopy(*s, 1, r.id);
        bindTextNoCopy(*s, 2, m.messageId);
        bindTextNoCopy(*s, 3, r.address);
        bindText(*s, 4, recipientRoleName(r.role));
        bindText(*s, 5, state);
        bindInt(*s, 6, m.createdAtMs);
        bindInt(*s, 7, m.createdAtMs);
        // NULL, not '': readers fall back to the message's content with coalesce().
        if (r.contentJson.empty()) {
            bindNull(*s, 8);
        } else {
            bindTextNoCopy(*s, 8, r.contentJson);
        }
        s->exec();
    }
}

namespace {

// Everyone not already refused for their own message shares the batch's fate. So does a
// Duplicate: the record it saw may be one an earlier message of this very batch wrote, and
// telling the client "already accepted" for a request that was never committed would lose the
// send (a retry after Unavailable finds the committed record, if there is one).
void failRest(std::vector<std::optional<StoreError>>& errors, const StoreError& e) {
    for (auto& err : errors) {
        if (!err || err->kind == StoreError::Kind::Duplicate) err = e;
    }
}

}  // namespace

void SqliteMessageStore::writeBatch(std::vector<Pending>& batch) {
    Connection& c = *writerConn_;
    std::vector<std::optional<StoreError>> errors(batch.size());
    if (intakeFirst_ != nullptr) intakeFirst_->intakeWants();

    // First the whole batch in one transaction without a savepoint per message: a savepoint
    // costs two statements and makes SQLite open a statement journal (a temp file) on the
    // serial writer thread. A Duplicate needs none, since claimSendRequest writes nothing when
    // it refuses. Only when a message's statement throws is the batch rolled back and written
    // again with savepoints, so that one bad message (a duplicate id) still cannot take the
    // others down.
    size_t current = batch.size();  // the message being written when a statement threw
    bool retryWithSavepoints = false;
    // Given back after the rollback below, not before it (write_turn.h).
    std::unique_lock<std::timed_mutex> turn;
    try {
        c.admitWrite();
        turn = c.takeWriteTurn();
        run(*stmts_.begin);
        for (current = 0; current < batch.size(); ++current) {
            // The request id first: a duplicate is refused before anything else is written.
            errors[current] = claimSendRequest(batch[current].message);
            if (!errors[current]) insertMessage(batch[current].message);
        }
        run(*stmts_.commit);
        commits_.fetch_add(1);
    } catch (const std::exception& e) {
        const StoreError error = toStoreError(e);
        // Otherwise BEGIN or COMMIT failed, or SQLite rolled the whole transaction back itself
        // (disk full, I/O): the batch fails as one, as it would have with savepoints.
        const bool messageFailed = current < batch.size() && c.inTransaction();
        c.abandonWrite(e);
        // A batch of one has just been rolled back exactly as its savepoint would have been.
        retryWithSavepoints = messageFailed && batch.size() > 1;
        if (!retryWithSavepoints) {
            if (current < batch.size()) errors[current] = error;
            failRest(errors, error);
        }
    }
    if (turn.owns_lock()) turn.unlock();
    if (retryWithSavepoints) {
        fallbacks_.fetch_add(1);
        errors.assign(batch.size(), std::nullopt);
        writeBatchWithSavepoints(batch, errors);
    }
    // Before the callbacks: the lock is free again, and the queue need not wait for our replies.
    if (intakeFirst_ != nullptr) intakeFirst_->intakeDone();
    deliver(batch, errors);
}

void SqliteMessageStore::writeBatchWithSavepoints(std::vector<Pending>& batch,
                                                  std::vector<std::optional<StoreError>>& errors) {
    Connection& c = *writerConn_;
    std::unique_lock<std::timed_mutex> turn;  // held until this function returns
    try {
        c.admitWrite();
        turn = c.takeWriteTurn();
        run(*stmts_.begin);
    } catch (const std::exception& e) {
        failRest(errors, toStoreError(e));
        return;
    }

    try {
        for (size_t i = 0; i < batch.size(); ++i) {
            // A savepoint per message: one bad message (a duplicate id or sendRequestId) is
            // rolled back alone and the rest of the batch still commits.
            run(*stmts_.savepoint);
            try {
                errors[i] = claimSendRequest(batch[i].message);
                if (!errors[i]) insertMessage(batch[i].message);
            } catch (const std::exception& e) {
                c.noteWriteFailure(e);
                errors[i] = toStoreError(e);
                // Some errors (disk full, I/O) make SQLite roll back the whole transaction;
                // then the other messages of the batch are lost too.
                if (!c.inTransaction()) throw;
            }
            // A refused message leaves nothing behind, not even its send request record, so a
            // retry of a message that failed (a conflicting id, say) is not taken for a
            // duplicate.
            if (errors[i]) run(*stmts_.rollbackToSavepoint);
            run(*stmts_.releaseSavepoint);
        }
        run(*stmts_.commit);
        commits_.fetch_add(1);
    } catch (const std::exception& e) {
        c.abandonWrite(e);
        failRest(errors, toStoreError(e));
    }
}

void SqliteMessageStore::deliver(std::vector<Pending>& batch,
                                 const std::vector<std::optional<StoreError>>& errors) {
    for (size_t i = 0; i < batch.size(); ++i) {
        try {
            if (errors[i]) {
                batch[i].done(fail(*errors[i]));
            } else {
                batch[i].done(Ok{});
            }
        } catch (const std::exception& e) {
            // A throwing callback is a bug in the caller, but it must not stop the other
            // callbacks of the batch or kill the writer thread.
            report("enqueue callback threw", e.what());
        } catch (...) {
            report("enqueue callback threw", "unknown exception");
        }
    }
}

Result<std::optional<std::string>, StoreError> SqliteMessageStore::findSendRequest(
    int64_t apiUserId, std::string_view sendRequestId, int64_t sinceMs) {
    try {
        auto conn = readers_.acquire();
        ScopedStatement s(*conn, kFindSendRequest);
        bindInt(*s, 1, apiUserId);
        bindText(*s, 2, sendRequestId);
        bindInt(*s, 3, sinceMs);
        if (!s->executeStep()) return std::optional<std::string>();
        return std::optional<std::string>(columnBytes(*s, 0));
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

Result<std::optional<StoredRecipient>, StoreError> SqliteMessageStore::findRecipient(
    std::string_view id) {
    try {
        auto conn = readers_.acquire();
        ScopedStatement s(*conn, kFindRecipient);
        bindText(*s, 1, id);
        if (!s->executeStep()) return std::optional<StoredRecipient>();
        return std::optional<StoredRecipient>(readRecipient(*s));
    } catch (const std::exception& e) {
        report("findRecipient", e.what());
        return fail(toStoreError(e));
    }
}

Result<std::vector<StoredRecipient>, StoreError> SqliteMessageStore::recipientsOf(
    std::string_view messageId) {
    std::vector<StoredRecipient> out;
    try {
        auto conn = readers_.acquire();
        ScopedStatement s(*conn, kRecipientsOf);
        bindText(*s, 1, messageId);
        while (s->executeStep()) out.push_back(readRecipient(*s));
        return out;
    } catch (const std::exception& e) {
        report("recipientsOf", e.what());
        return fail(toStoreError(e));
    }
}

Result<std::vector<StoredMessageSummary>, StoreError> SqliteMessageStore::recentMessages(
    int64_t accountId, int64_t limit) {
    std::vector<StoredMessageSummary> out;
    try {
        auto conn = readers_.acquire();
        ScopedStatement s(*conn, kRecentMessages);
        bindInt(*s, 1, accountId);
        bindInt(*s, 2, limit);
        while (s->executeStep()) {
            std::string id = columnBytes(*s, 0);
            if (out.empty() || out.back().id != id) {
                StoredMessageSummary m;
                m.id = std::move(id);
                m.kind = parsedColumn(*s, 1, parseUserKind, "message kind");
                m.apiUserName = columnBytes(*s, 2);
                m.createdAtMs = s->getColumn(3).getInt64();
                m.testMode = s->getColumn(4).getInt64() != 0;
                out.push_back(std::move(m));
            }
            RecipientStateRow r;
            r.address = columnBytes(*s, 5);
            r.role = parsedColumn(*s, 6, parseRecipientRole, "recipient role");
            r.state = parsedColumn(*s, 7, parseRecipientState, "recipient state");
            r.attempts = s->getColumn(8).getInt64();
            r.updatedAtMs = s->getColumn(9).getInt64();
            r.id = columnBytes(*s, 10);
            out.back().recipients.push_back(std::move(r));
        }
        return out;
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

bool SqliteMessageStore::ping() {
    try {
        auto conn = readers_.acquire();
        // Reads page 1 of the file, so a missing or unreadable database does not pass.
        ScopedStatement s(*conn, "SELECT 1 FROM sqlite_schema LIMIT 1");
        return s->executeStep();
    } catch (const std::exception& e) {
        report("ping", e.what());
        return false;
    }
}

void SqliteMessageStore::report(std::string_view what, std::string_view detail) const {
    if (onError_) {
        onError_(std::string("sqlite message store: ") + std::string(what) + ": " +
                 std::string(detail));
    }
}

}  // namespace sc::store::sqlite
