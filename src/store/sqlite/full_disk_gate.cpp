#include "store/sqlite/full_disk_gate.h"

#include <SQLiteCpp/Exception.h>
#include <sqlite3.h>

#include <utility>

namespace sc::store::sqlite {

FullDiskGate::FullDiskGate(const Clock& clock, std::function<void(std::string_view)> onClosed,
                           std::function<void(std::string_view)> onOpened,
                           std::chrono::milliseconds retryEvery)
    : clock_(clock),
      onClosed_(std::move(onClosed)),
      onOpened_(std::move(onOpened)),
      retryEvery_(retryEvery) {}

void FullDiskGate::onCheckpointDue(std::function<void()> checkpointNow) {
    std::lock_guard lock(mutex_);
    checkpointNow_ = std::move(checkpointNow);
}

void FullDiskGate::admitWrite() {
    if (!closed()) return;
    std::function<void()> checkpointNow;
    {
        std::lock_guard lock(mutex_);
        const auto now = clock_.monotonicNow();
        if (!lastRequest_ || now - *lastRequest_ >= retryEvery_) {
            lastRequest_ = now;
            checkpointNow = checkpointNow_;
        }
    }
    // Outside the lock: the checkpoint takes a while, and other writers are refused meanwhile.
    if (checkpointNow) {
        checkpointNow();
        if (!closed()) return;
    }
    refusals_.fetch_add(1, std::memory_order_relaxed);
    // The text SQLite gives a full disk, so that logs and hints read the same either way.
    throw SQLite::Exception(
        "database or disk is full (writes wait until the WAL has been copied into the database "
        "file; free space in the data directory)",
        SQLITE_FULL);
}

bool FullDiskGate::close() {
    if (closed_.exchange(true, std::memory_order_acq_rel)) return false;
    {
        std::lock_guard lock(mutex_);
        lastRequest_.reset();
    }
    if (onClosed_) {
        onClosed_(
            "database: the disk is full; writes are refused until the WAL has been copied into "
            "the database file (free space in the data directory)");
    }
    return true;
}

bool FullDiskGate::reopen() {
    if (!closed_.exchange(false, std::memory_order_acq_rel)) return false;
    if (onOpened_)
        onOpened_("database: the WAL has been copied into the database file; writes resume");
    return true;
}

bool isDiskFull(const std::exception& e) {
    const auto* sqliteError = dynamic_cast<const SQLite::Exception*>(&e);
    return sqliteError != nullptr && isDiskFull(sqliteError->getErrorCode());
}

bool isDiskFull(int resultCode) {
    return (resultCode & 0xff) == SQLITE_FULL;
}

}  // namespace sc::store::sqlite
