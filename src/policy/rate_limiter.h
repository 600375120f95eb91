#pragma once
// Per-user request rate limits: a token bucket per user holding up to `perMinute` tokens,
// refilled continuously at perMinute/60 per second, so a user may burst to its minute's budget
// and then proceeds at the steady rate. Time comes from the injected Clock.

#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "common/clock.h"

namespace sc::policy {

class RateLimiter {
public:
    explicit RateLimiter(const Clock& clock) : clock_(clock) {}

    // 0 when the request may proceed (a token was taken); otherwise the milliseconds until the
    // next token, for Retry-After. perMinute <= 0 means unlimited.
    int64_t tryAcquire(int64_t userId, int64_t perMinute);

private:
    struct Bucket {
        double tokens = 0;
        int64_t lastMs = 0;
        int64_t perMinute = 0;
    };
    const Clock& clock_;
    std::mutex mu_;
    std::unordered_map<int64_t, Bucket> buckets_;
};

}  // namespace sc::policy
