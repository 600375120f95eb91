#pragma once
// MessageStore on SQLite with group commit. enqueue() only queues; one writer thread owns the
// write connection and commits whatever has accumulated (up to maxBatch messages) in one
// transaction, so N concurrent sends cost one fsync instead of N. There is no timer: while the
// writer commits one batch the next one gathers. WAL checkpoints run on a thread of their own, so
// that no commit (and no client waiting for it) waits out the database file's fsync.

#include <atomic>
#include <chrono>
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
#include "store/sqlite/full_disk_gate.h"
#include "store/sqlite/intake_first.h"
#include "store/sqlite/write_turn.h"

namespace sc::store::sqlite {

// When the checkpointer thread copies the WAL back into the database file.
struct CheckpointPolicy {
    // A commit that leaves at least this many frames in the WAL (more than at the last
    // request) wakes the checkpointer for a PASSIVE checkpoint (SQLite's own auto-checkpoint
    // threshold).
    int passiveFrames = 1000;
    // PASSIVE never waits, so a writer that keeps appending keeps the WAL from ever being fully
    // copied, and so restarted (under a saturating load it reaches this size, ~40 MiB). Past
    // this many frames the checkpointer runs RESTART, which holds the write lock briefly to catch
    // up; if it cannot finish (a reader on old frames), it is tried again only after as many
    // frames more.
    int restartFrames = 10000;
    // How long RESTART may wait for the write lock and for readers of old frames; the writer
    // waits (at most) as long.
    int restartBusyTimeoutMs = 20;
};

class SqliteMessageStore final : public MessageStore {
public:
    // Opens the write and checkpoint connections (throws SQLite::Exception) and starts the
    // writer and checkpointer threads. The writer tells `intakeFirst` (when given) about each
    // batch, so that the delivery queue's writes give way to it. The writer's transactions wait
    // behind `fullDisk` (when given), and the checkpointer is what opens it again. They take
    // turns with the backend's other writers through `writeTurn` (when given).
    SqliteMessageStore(const std::string& path, int busyTimeoutMs, size_t maxBatch,
                       ConnectionPool& readers, ErrorSink onError,
                       CheckpointPolicy checkpoints = {}, IntakeFirst* intakeFirst = nullptr,
                       FullDiskGate* fullDisk = nullptr, WriteTurn* writeTurn = nullptr);
    ~SqliteMessageStore() override;

    void enqueue(NewMessage message, EnqueueDone done) override;
    Result<std::optional<std::string>, StoreError> findSendRequest(int64_t apiUserId,
                                                                   std::string_view sendRequestId,
                                                                   int64_t sinceMs) override;
    Result<std::optional<StoredRecipient>, StoreError> findRecipient(std::string_view id) override;
    Result<std::vector<StoredRecipient>, StoreError> recipientsOf(
        std::string_view messageId) override;
    Result<std::vector<StoredMessageSummary>, StoreError> recentMessages(int64_t accountId,
                                                                         int64_t limit) override;
    bool ping() override;
    void stop() override;

    // The SQL of recipientsOf() and recentMessages(), for tests of their query plans.
    static const char* recipientsOfSqlForTest();
    static const char* recentMessagesSqlForTest();

    size_t commitCount() const { return commits_.load(); }
    // Batches that had to be written again with a savepoint per message because one message's
    // statement failed (for tests and metrics).
    size_t savepointFallbackCount() const { return fallbacks_.load(); }
    void holdWriterForTest(bool hold);

    // Hands the commits of another connection on the same file (the delivery queue's) to this
    // store's checkpointer, as the writer's are: without it, SQLite's auto-checkpoint copies the
    // WAL inside that connection's commit, on its thread. The connection must not outlive this
    // store.
    void checkpointCommitsOf(Connection& c);

    // The WAL's size in frames after the latest commit of a connection whose commits this store
    // checkpoints.
    int walFrames() const { return walFrames_.load(std::memory_order_relaxed); }
    // Checkpoints run, and how many of them were RESTARTs (for tests and metrics).
    size_t checkpointCount() const { return checkpoints_.load(); }
    size_t restartCheckpointCount() const { return restartCheckpoints_.load(); }
    // Test hook: waits until the checkpointer has served every commit's request so far; false
    // when the deadline passed first.
    bool waitForCheckpointerForTest(std::chrono::milliseconds deadline);

private:
    struct Pending {
        NewMessage message;
        EnqueueDone done;
    };

    // The writer's statements, prepared once on its connection: finding a statement by its
    // text in the connection's cache costs string comparisons on every use, several times per
    // message.
    struct WriterStatements {
        SQLite::Statement* begin = nullptr;
        SQLite::Statement* commit = nullptr;
        SQLite::Statement* savepoint = nullptr;
        SQLite::Statement* releaseSavepoint = nullptr;
        SQLite::Statement* rollbackToSavepoint = nullptr;
        SQLite::Statement* claimSendRequest = nullptr;
        SQLite::Statement* sendRequestResponse = nullptr;
        SQLite::Statement* insertMessage = nullptr;
        SQLite::Statement* insertAttachment = nullptr;
        SQLite::Statement* insertRecipient = nullptr;
    };

    void writerLoop();
    // Writes the batch in one transaction; falls back to writeBatchWithSavepoints when a
    // message's statement fails. Runs the callbacks.
    void writeBatch(std::vector<Pending>& batch);
    // The careful way: a savepoint per message, so that a failing message is refused alone.
    void writeBatchWithSavepoints(std::vector<Pending>& batch,
                                  std::vector<std::optional<StoreError>>& errors);
    // Records m's sendRequestId; answers Duplicate when a record of the same pair younger than
    // an hour exists (and then writes nothing).
    std::optional<StoreError> claimSendRequest(const NewMessage& m);
    void insertMessage(const NewMessage& m);
    void deliver(std::vector<Pending>& batch, const std::vector<std::optional<StoreError>>& errors);
    void report(std::string_view what, std::string_view detail) const;
    // sqlite3_wal_hook on the writer connection (and those of checkpointCommitsOf); it replaces
    // SQLite's auto-checkpoint, which would run the checkpoint inside the committer's commit.
    static int onWalCommit(void* self, sqlite3* db, const char* dbName, int frames);
    void checkpointerLoop(std::unique_ptr<Connection> conn);
    void stopCheckpointer();

    const size_t maxBatch_;
    ConnectionPool& readers_;
    IntakeFirst* const intakeFirst_;  // may be null
    FullDiskGate* const fullDisk_;    // may be null
    ErrorSink onError_;
    std::unique_ptr<Connection> writerConn_;  // used by the writer thread only
    WriterStatements stmts_;                  // owned by writerConn_

    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Pending> pending_;  // guarded by mutex_
    bool stopping_ = false;        // guarded by mutex_
    bool held_ = false;            // guarded by mutex_

    std::atomic<size_t> commits_{0};
    std::atomic<size_t> fallbacks_{0};

    const CheckpointPolicy checkpointPolicy_;
    std::atomic<int> walFrames_{0};
    int lastCheckpointRequest_ = 0;  // WAL frames at the last request; guarded by checkpointMutex_
    std::atomic<size_t> checkpoints_{0};
    std::atomic<size_t> restartCheckpoints_{0};
    // Apart from mutex_, which every enqueue takes.
    std::mutex checkpointMutex_;
    std::condition_variable checkpointWake_;  // the checkpointer waits on it
    std::condition_variable checkpointIdle_;  // waitForCheckpointerForTest waits on it
    int checkpointFrames_ = 0;                // guarded by checkpointMutex_; 0: nothing due
    bool fullDiskCheckpointDue_ = false;      // guarded by checkpointMutex_
    uint64_t fullDiskCheckpoints_ = 0;        // guarded by checkpointMutex_; TRUNCATEs run
    bool checkpointRunning_ = false;          // guarded by checkpointMutex_
    bool checkpointerStopping_ = false;       // guarded by checkpointMutex_
    std::thread checkpointer_;
    std::mutex stopMutex_;  // serialises stop() callers around the join
    std::thread writer_;
    // Kept apart from writer_, which a concurrent stop() may be joining.
    std::thread::id writerId_;
};

}  // namespace sc::store::sqlite
