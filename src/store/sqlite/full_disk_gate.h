#pragma once
// FullDiskGate: after SQLite reports a full disk, no connection on the database file writes again
// until a checkpoint has copied the whole WAL into the database file and truncated the WAL.
//
// Why: on a full disk the WAL holds pages the database file has not got yet (the checkpoint that
// would copy them could not grow the file). The WAL can only start again from its beginning, and
// reuse its own space, once they are copied. When space comes back, every writer still appends
// to the WAL, and under load they take the freed space within a fraction of a second, before the
// checkpoint has grown the database file into it: the disk is full again, the checkpoint can
// never finish, and the database stays unwritable until more space is freed by hand (seen in the
// disk-full integration test under CPU load). So the gate closes at the first SQLITE_FULL of any
// writer or checkpoint; while it is closed, writers are refused before they touch the file, as
// they would be by the disk itself (SQLITE_FULL, Unavailable to callers, 503 to clients), and the
// freed space goes to the checkpoint first. A writer that finds the gate closed asks for a
// checkpoint and waits for it, at most once per retry interval of the clock (on a disk that stays
// full each attempt rewrites the WAL's pages into the database file before it fails): when space
// is back, that writer goes ahead instead of being refused.

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string_view>

#include "common/clock.h"

namespace sc::store::sqlite {

class FullDiskGate {
public:
    static constexpr std::chrono::milliseconds kDefaultRetryEvery{200};

    // The server log hears when the gate closes (onClosed, an error) and opens (onOpened): an
    // operator must learn that writes stopped, and that they resumed.
    FullDiskGate(const Clock& clock, std::function<void(std::string_view)> onClosed,
                 std::function<void(std::string_view)> onOpened,
                 std::chrono::milliseconds retryEvery = kDefaultRetryEvery);

    // Who copies the WAL: called on a writer's thread when a checkpoint attempt is due, and
    // returns once that attempt has ended (reopen() first if it copied everything).
    void onCheckpointDue(std::function<void()> checkpointNow);

    // A writer, before its transaction: returns while the gate is open (or a checkpoint it
    // asked for opened it); throws SQLite::Exception (SQLITE_FULL) otherwise.
    void admitWrite();
    // A write or a checkpoint failed with SQLITE_FULL. Answers whether this closed the gate (it
    // was open).
    bool close();
    // A checkpoint copied the whole WAL (and truncated it, unless a reader still used it).
    // Answers whether this opened the gate.
    bool reopen();

    bool closed() const { return closed_.load(std::memory_order_acquire); }
    // Writes refused while closed (for metrics).
    uint64_t refusals() const { return refusals_.load(std::memory_order_relaxed); }

private:
    const Clock& clock_;
    const std::function<void(std::string_view)> onClosed_;
    const std::function<void(std::string_view)> onOpened_;
    const std::chrono::milliseconds retryEvery_;
    std::atomic<bool> closed_{false};
    std::atomic<uint64_t> refusals_{0};
    std::mutex mutex_;
    std::function<void()> checkpointNow_;
    // When a writer last asked for a checkpoint; none yet since the gate closed.
    std::optional<std::chrono::steady_clock::time_point> lastRequest_;
};

// Whether an SQLite failure, or a result code, is a full disk (SQLITE_FULL, whatever its
// extended code).
bool isDiskFull(const std::exception& e);
bool isDiskFull(int resultCode);

}  // namespace sc::store::sqlite
