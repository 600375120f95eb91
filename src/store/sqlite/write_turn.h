#pragma once
// WriteTurn: hands SQLite's single write lock from one of our threads to the next the moment it
// is free, instead of leaving them to poll for it.
//
// SQLite keeps no queue for its write lock. A connection that finds it taken sleeps in the busy
// handler (Connection::onBusy: 50 us, doubling to 1 ms) and tries again, and a writer that comes
// back sooner takes it first. Between the threads of one process that made the delivery queue
// lose nearly every race to the intake writer while HTTP clients were sending: during the SMS
// benchmark's intake it slept in the busy handler for half of each second, and the lock stood
// idle while everyone slept (bench/README.md, "The write lock handed over"). So every write
// transaction of a backend's connections first takes this turn, a mutex, and a thread waiting
// for it is woken as soon as the transaction before it has ended. Other processes on the file
// (an operator's sqlite3 shell, a second sendcloudd) still meet in SQLite's busy handler.
//
// Order: the full-disk gate first (a writer may wait there for a checkpoint, and must not hold
// the turn meanwhile), then the turn, then BEGIN IMMEDIATE; the turn is given back after COMMIT
// or ROLLBACK.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>

namespace sc::store::sqlite {

class WriteTurn {
public:
    // Waits at most `timeout` for the turn (a writer stuck on a stalled disk must not hold the
    // others for longer than SQLite's busy timeout would); throws SQLite::Exception (SQLITE_BUSY,
    // "database is locked") after it.
    [[nodiscard]] std::unique_lock<std::timed_mutex> take(std::chrono::milliseconds timeout);

    // Threads waiting for the turn right now (for tests).
    uint64_t waiting() const { return waiting_.load(std::memory_order_relaxed); }
    // How often a writer had to wait for the turn (for tests).
    uint64_t waits() const { return waits_.load(std::memory_order_relaxed); }

private:
    std::timed_mutex mutex_;
    std::atomic<uint64_t> waiting_{0};
    std::atomic<uint64_t> waits_{0};
};

}  // namespace sc::store::sqlite
