#pragma once
// IntakeFirst: lets the intake writer (SqliteMessageStore's group commit) have SQLite's single
// write lock before the delivery queue (SqliteQueueStore) when both want it.
//
// A send request waits for the intake commit that holds its message; the queue's claims and
// outcome groups wait for nobody. SQLite itself has no queue for its write lock: whoever polls in
// the busy handler first gets it, so a draining queue that begins its next transaction the moment
// the last one commits can keep the intake writer polling for several transactions in a row.
// Before each of its write transactions the queue therefore yields while the intake writer has a
// batch to write, until that batch has committed: the intake waits at most for the one queue
// transaction already under way, and the two alternate when both are busy, so the queue is
// slowed, never stopped. The yield is bounded (maxYield) so that a stuck intake (a disk that
// stalls) cannot hold delivery up for longer.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace sc::store::sqlite {

class IntakeFirst {
public:
    explicit IntakeFirst(std::chrono::milliseconds maxYield = std::chrono::milliseconds(100))
        : maxYield_(maxYield) {}

    // The intake writer: it has a batch and is about to begin its transaction...
    void intakeWants();
    // ... and it has committed (or given up on) that batch.
    void intakeDone();

    // The queue, before each write transaction: returns at once unless the intake writer wants
    // the lock, else once it has finished a transaction (or after maxYield).
    void yieldToIntake();

    // How often the queue waited (for tests and metrics).
    uint64_t yields() const;
    // Whether the intake writer has a batch under way (for tests).
    bool intakeWaiting() const;

private:
    const std::chrono::milliseconds maxYield_;
    mutable std::mutex mutex_;
    std::condition_variable done_;
    bool intakeWants_ = false;    // guarded by mutex_
    uint64_t intakeBatches_ = 0;  // guarded by mutex_: transactions finished
    uint64_t yields_ = 0;         // guarded by mutex_
};

}  // namespace sc::store::sqlite
