#include "policy/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace sc::policy {

int64_t RateLimiter::tryAcquire(int64_t userId, int64_t perMinute) {
    if (perMinute <= 0) return 0;
    const int64_t now = clock_.nowMillis();
    const double capacity = static_cast<double>(perMinute);
    const double perMs = capacity / 60000.0;
    std::lock_guard lk(mu_);
    auto [it, inserted] = buckets_.try_emplace(userId);
    Bucket& b = it->second;
    if (inserted || b.perMinute != perMinute) {
        // A new user, or a limit changed by the owner: start from a full bucket of the new size.
        b = Bucket{capacity, now, perMinute};
    } else if (now > b.lastMs) {
        b.tokens = std::min(capacity, b.tokens + static_cast<double>(now - b.lastMs) * perMs);
        b.lastMs = now;
    }
    if (b.tokens >= 1.0) {
        b.tokens -= 1.0;
        return 0;
    }
    return std::max<int64_t>(1, static_cast<int64_t>(std::ceil((1.0 - b.tokens) / perMs)));
}

}  // namespace sc::policy
