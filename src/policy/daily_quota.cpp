#include "policy/daily_quota.h"

namespace sc::policy {

bool DailyQuota::tryReserve(int64_t userId, int64_t quota, int64_t count) {
    if (quota <= 0) return true;
    const int64_t now = clock_.nowMillis();
    const int64_t start = dayStart(now);
    std::unique_lock lk(mu_);
    auto it = days_.find(userId);
    if (it == days_.end() || it->second.startMs != start) {
        lk.unlock();
        // Seeding reads the store: not under the lock. Two threads may both seed; the second
        // simply overwrites with the same value.
        int64_t used = seed_ ? seed_(userId, start, now) : 0;
        lk.lock();
        it = days_.find(userId);
        if (it == days_.end() || it->second.startMs != start) {
            it = days_.insert_or_assign(userId, Day{start, used}).first;
        }
    }
    if (it->second.used + count > quota) return false;
    it->second.used += count;
    return true;
}

void DailyQuota::release(int64_t userId, int64_t count) {
    std::lock_guard lk(mu_);
    auto it = days_.find(userId);
    if (it != days_.end()) it->second.used = std::max<int64_t>(0, it->second.used - count);
}

}  // namespace sc::policy
