#pragma once
// Daily quotas: accepted recipients per API user per UTC day. Each user's count for the day is
// seeded once from the usage counters (so a restart does not reset it), then kept in memory;
// a reservation that is not used (the enqueue failed) is released.

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <unordered_map>

#include "common/clock.h"

namespace sc::policy {

class DailyQuota {
public:
    // Returns the recipients already accepted for userId in [dayStartMs, nowMs).
    using Seed = std::function<int64_t(int64_t userId, int64_t dayStartMs, int64_t nowMs)>;

    DailyQuota(const Clock& clock, Seed seed) : clock_(clock), seed_(std::move(seed)) {}

    // The quota's day: a UTC day.
    static constexpr std::chrono::milliseconds kDay = std::chrono::hours(24);
    static int64_t dayStart(int64_t ms) { return ms - ms % kDay.count(); }

    // Reserves `count` recipients; false when that would exceed `quota` (<= 0: unlimited).
    bool tryReserve(int64_t userId, int64_t quota, int64_t count);
    void release(int64_t userId, int64_t count);

private:
    struct Day {
        int64_t startMs = 0;
        int64_t used = 0;
    };
    const Clock& clock_;
    Seed seed_;
    std::mutex mu_;
    std::unordered_map<int64_t, Day> days_;
};

}  // namespace sc::policy
