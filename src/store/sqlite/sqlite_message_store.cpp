#include "store/sqlite/sqlite_message_store.h"

#include <algorithm>
#include <string>
#include <utility>

namespace sc::store::sqlite {

namespace {

constexpr const char* kSavepoint = "SAVEPOINT enqueue_message";
constexpr const char* kReleaseSavepoint = "RELEASE enqueue_message";
constexpr const char* kRollbackToSavepoint = "ROLLBACK TO enqueue_message";

// How long a sendRequestId keeps a retried request from being queued again.
constexpr int64_t kSendRequestWindowMs = 60 * 60 * 1000;

// One statement for both cases that let the message through: a new (user, id) is recorded,
// and a record older than the window (parameter 5: the oldest created_at_ms that still counts)
// is taken over by this request. A record inside the window is left alone and nothing changes,
// which is how the caller tells a duplicate.
constexpr const char* kClaimSendRequest =
    "INSERT INTO send_requests (api_user_id, request_id, created_at_ms, response_json) "
    "VALUES (?, ?, ?, ?) ON CONFLICT (api_user_id, request_id) DO UPDATE "
    "SET created_at_ms = excluded.created_at_ms, response_json = excluded.response_json "
    "WHERE send_requests.created_at_ms < ?";
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
// rowid order is insertion order: recipients come back as the request listed them.
constexpr const char* kRecipientsOf =
    "SELECT " SC_RECIPIENT_COLUMNS "WHERE r.message_id = ? ORDER BY r.rowid";
#undef SC_RECIPIENT_COLUMNS

StoredRecipient readRecipient(const SQLite::Statement& s) {
    StoredRecipient r;
    r.id = columnBytes(s, 0);
    r.messageId = columnBytes(s, 1);
    r.address = columnBytes(s, 2);
    r.role = columnBytes(s, 3);
    r.state = columnBytes(s, 4);
    r.createdAtMs = s.getColumn(5).getInt64();
    r.contentJson = columnBytes(s, 6);
    return r;
}

}  // namespace

SqliteMessageStore::SqliteMessageStore(const std::string& path, int busyTimeoutMs, size_t maxBatch,
                                       ConnectionPool& readers, ErrorSink onError)
    : maxBatch_(maxBatch == 0 ? 1 : maxBatch),
      readers_(readers),
      onError_(std::move(onError)),
      writerConn_(std::make_unique<Connection>(path, busyTimeoutMs)) {
    writer_ = std::thread([this] { writerLoop(); });
    writerId_ = writer_.get_id();
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
    Connection& c = *writerConn_;
    {
        ScopedStatement s(c, kClaimSendRequest);
        bindInt(*s, 1, m.apiUserId);
        bindText(*s, 2, m.sendRequestId);
        bindInt(*s, 3, m.createdAtMs);
        bindText(*s, 4, m.responseJson);
        bindInt(*s, 5, m.createdAtMs - kSendRequestWindowMs);
        if (s->exec() > 0) return std::nullopt;
    }
    // Inside the window. The record may have been written earlier in this very transaction (the
    // same id twice in one batch): the first one wins either way.
    ScopedStatement s(c, kSendRequestResponse);
    bindInt(*s, 1, m.apiUserId);
    bindText(*s, 2, m.sendRequestId);
    if (!s->executeStep()) {
        return storeError(StoreError::Kind::Internal, "send request record vanished");
    }
    StoreError dup = storeError(StoreError::Kind::Duplicate, "duplicate sendRequestId");
    dup.existingResponse = columnBytes(*s, 0);
    return dup;
}

void SqliteMessageStore::insertMessage(const NewMessage& m) {
    Connection& c = *writerConn_;
    {
        ScopedStatement s(c,
                          "INSERT INTO messages (id, kind, account_id, api_user_id, "
                          "api_user_name, created_at_ms, test_mode, content_json) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
        bindText(*s, 1, m.messageId);
        bindText(*s, 2, userKindName(m.kind));
        bindInt(*s, 3, m.accountId);
        bindInt(*s, 4, m.apiUserId);
        bindText(*s, 5, m.apiUserName);
        bindInt(*s, 6, m.createdAtMs);
        bindInt(*s, 7, m.testMode ? 1 : 0);
        // The message outlives the statement's execution, so the content is not copied.
        bindTextNoCopy(*s, 8, m.contentJson);
        s->exec();
    }
    for (size_t i = 0; i < m.attachments.size(); ++i) {
        const Attachment& a = m.attachments[i];
        ScopedStatement s(c,
                          "INSERT INTO attachments (message_id, idx, filename, content_type, "
                          "data) VALUES (?, ?, ?, ?, ?)");
        bindText(*s, 1, m.messageId);
        bindInt(*s, 2, static_cast<int64_t>(i));
        bindText(*s, 3, a.filename);
        bindText(*s, 4, a.contentType);
        bindBlobNoCopy(*s, 5, a.data);
        s->exec();
    }
    // A test-mode message is stored for status queries but never becomes due for delivery.
    const std::string_view state = m.testMode ? "test" : "queued";
    for (const Recipient& r : m.recipients) {
        ScopedStatement s(c,
                          "INSERT INTO recipients (id, message_id, address, role, state, "
                          "attempts, next_attempt_at_ms, updated_at_ms, content_json) "
                          "VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?)");
        bindText(*s, 1, r.id);
        bindText(*s, 2, m.messageId);
        bindText(*s, 3, r.address);
        bindText(*s, 4, r.role);
        bindText(*s, 5, state);
        if (m.testMode) {
            bindNull(*s, 6);
        } else {
            bindInt(*s, 6, m.createdAtMs);
        }
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

void SqliteMessageStore::writeBatch(std::vector<Pending>& batch) {
    Connection& c = *writerConn_;
    std::vector<std::optional<StoreError>> errors(batch.size());
    // Everyone not already refused for their own message shares the batch's fate. So does a
    // Duplicate: the record it saw may be one an earlier message of this very batch wrote, and
    // telling the client "already accepted" for a request that was never committed would lose
    // the send (a retry after Unavailable finds the committed record, if there is one).
    auto failRest = [&](const StoreError& e) {
        for (auto& err : errors) {
            if (!err || err->kind == StoreError::Kind::Duplicate) err = e;
        }
    };

    try {
        c.exec("BEGIN IMMEDIATE");
    } catch (const std::exception& e) {
        failRest(toStoreError(e));
        deliver(batch, errors);
        return;
    }

    try {
        for (size_t i = 0; i < batch.size(); ++i) {
            // A savepoint per message: one bad message (a duplicate id or sendRequestId) is
            // rolled back alone and the rest of the batch still commits.
            c.exec(kSavepoint);
            try {
                // The request id first: a duplicate is refused before anything else is written.
                errors[i] = claimSendRequest(batch[i].message);
                if (!errors[i]) insertMessage(batch[i].message);
            } catch (const std::exception& e) {
                errors[i] = toStoreError(e);
                // Some errors (disk full, I/O) make SQLite roll back the whole transaction;
                // then the other messages of the batch are lost too.
                if (!c.inTransaction()) throw;
            }
            // A refused message leaves nothing behind, not even its send request record, so a
            // retry of a message that failed (a conflicting id, say) is not taken for a
            // duplicate.
            if (errors[i]) c.exec(kRollbackToSavepoint);
            c.exec(kReleaseSavepoint);
        }
        c.exec("COMMIT");
        commits_.fetch_add(1);
    } catch (const std::exception& e) {
        c.rollbackQuietly();
        failRest(toStoreError(e));
    }
    deliver(batch, errors);
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

std::optional<StoredRecipient> SqliteMessageStore::findRecipient(std::string_view id) {
    try {
        auto conn = readers_.acquire();
        ScopedStatement s(*conn, kFindRecipient);
        bindText(*s, 1, id);
        if (!s->executeStep()) return std::nullopt;
        return readRecipient(*s);
    } catch (const std::exception& e) {
        report("findRecipient", e.what());
        return std::nullopt;
    }
}

std::vector<StoredRecipient> SqliteMessageStore::recipientsOf(std::string_view messageId) {
    std::vector<StoredRecipient> out;
    try {
        auto conn = readers_.acquire();
        ScopedStatement s(*conn, kRecipientsOf);
        bindText(*s, 1, messageId);
        while (s->executeStep()) out.push_back(readRecipient(*s));
        return out;
    } catch (const std::exception& e) {
        report("recipientsOf", e.what());
        return {};
    }
}

// The newest messages are chosen first (the inner LIMIT), then joined to all their recipients,
// so a message with many recipients never pushes another out of the page.
Result<std::vector<StoredMessageSummary>, StoreError> SqliteMessageStore::recentMessages(
    int64_t accountId, int64_t limit) {
    std::vector<StoredMessageSummary> out;
    try {
        auto conn = readers_.acquire();
        ScopedStatement s(*conn,
                          "SELECT m.id, m.kind, m.api_user_name, m.created_at_ms, m.test_mode, "
                          "r.address, r.role, r.state, r.attempts, r.updated_at_ms "
                          "FROM (SELECT id, kind, api_user_name, created_at_ms, test_mode "
                          "      FROM messages WHERE account_id = ? "
                          "      ORDER BY created_at_ms DESC, rowid DESC LIMIT ?) m "
                          "JOIN recipients r ON r.message_id = m.id "
                          "ORDER BY m.created_at_ms DESC, m.id DESC, r.rowid");
        bindInt(*s, 1, accountId);
        bindInt(*s, 2, limit);
        while (s->executeStep()) {
            std::string id = columnBytes(*s, 0);
            if (out.empty() || out.back().id != id) {
                StoredMessageSummary m;
                m.id = std::move(id);
                m.kind = columnBytes(*s, 1);
                m.apiUserName = columnBytes(*s, 2);
                m.createdAtMs = s->getColumn(3).getInt64();
                m.testMode = s->getColumn(4).getInt64() != 0;
                out.push_back(std::move(m));
            }
            RecipientStateRow r;
            r.address = columnBytes(*s, 5);
            r.role = columnBytes(*s, 6);
            r.state = columnBytes(*s, 7);
            r.attempts = s->getColumn(8).getInt64();
            r.updatedAtMs = s->getColumn(9).getInt64();
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
