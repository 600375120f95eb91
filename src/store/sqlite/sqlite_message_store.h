#pragma once
// MessageStore on SQLite with group commit. enqueue() only queues; one writer thread owns the
// write connection and commits whatever has accumulated (up to maxBatch messages) in one
// transaction, so N concurrent sends cost one fsync instead of N. There is no timer: while the
// writer commits one batch the next one gathers.

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "store/message_store.h"
#include "store/sqlite/connection.h"

namespace sc::store::sqlite {

class SqliteMessageStore final : public MessageStore {
public:
    // Opens the write connection (throws SQLite::Exception) and starts the writer thread.
    SqliteMessageStore(const std::string& path, int busyTimeoutMs, size_t maxBatch,
                       ConnectionPool& readers, ErrorSink onError);
    ~SqliteMessageStore() override;

    void enqueue(NewMessage message, EnqueueDone done) override;
    Result<std::optional<std::string>, StoreError> findSendRequest(int64_t apiUserId,
                                                                   std::string_view sendRequestId,
                                                                   int64_t sinceMs) override;
    std::optional<StoredRecipient> findRecipient(std::string_view id) override;
    std::vector<StoredRecipient> recipientsOf(std::string_view messageId) override;
    Result<std::vector<StoredMessageSummary>, StoreError> recentMessages(int64_t accountId,
                                                                         int64_t limit) override;
    bool ping() override;
    void stop() override;

    size_t commitCount() const { return commits_.load(); }
    void holdWriterForTest(bool hold);

private:
    struct Pending {
        NewMessage message;
        EnqueueDone done;
    };

    void writerLoop();
    void writeBatch(std::vector<Pending>& batch);
    // Records m's sendRequestId; answers Duplicate when a record of the same pair younger than
    // an hour exists (and then writes nothing).
    std::optional<StoreError> claimSendRequest(const NewMessage& m);
    void insertMessage(const NewMessage& m);
    void deliver(std::vector<Pending>& batch, const std::vector<std::optional<StoreError>>& errors);
    void report(std::string_view what, std::string_view detail) const;

    const size_t maxBatch_;
    ConnectionPool& readers_;
    ErrorSink onError_;
    std::unique_ptr<Connection> writerConn_;  // used by the writer thread only

    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Pending> pending_;  // guarded by mutex_
    bool stopping_ = false;        // guarded by mutex_
    bool held_ = false;            // guarded by mutex_

    std::atomic<size_t> commits_{0};
    std::mutex stopMutex_;  // serialises stop() callers around the join
    std::thread writer_;
    // Kept apart from writer_, which a concurrent stop() may be joining.
    std::thread::id writerId_;
};

}  // namespace sc::store::sqlite
