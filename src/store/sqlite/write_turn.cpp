#include "store/sqlite/write_turn.h"

#include <SQLiteCpp/Exception.h>
#include <sqlite3.h>

namespace sc::store::sqlite {

std::unique_lock<std::timed_mutex> WriteTurn::take(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_, std::try_to_lock);
    if (lock.owns_lock()) return lock;
    waits_.fetch_add(1, std::memory_order_relaxed);
    waiting_.fetch_add(1, std::memory_order_relaxed);
    const bool taken = lock.try_lock_for(timeout);
    waiting_.fetch_sub(1, std::memory_order_relaxed);
    // The message SQLite gives when its own busy timeout runs out: callers map it to Unavailable.
    if (!taken) throw SQLite::Exception("database is locked", SQLITE_BUSY);
    return lock;
}

}  // namespace sc::store::sqlite
