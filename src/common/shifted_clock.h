#pragma once
// ShiftedClock: another Clock plus an offset that only grows. sendcloudd runs on it so that the
// end-to-end tests can move the whole server (grace periods, lockouts, audit hours, sessions)
// forward through a test-only control instead of waiting 15 minutes. With no advance() call it
// is the wrapped clock exactly; production builds have no way to call advance().

#include <atomic>
#include <cstdint>

#include "common/clock.h"

namespace sc {

class ShiftedClock final : public Clock {
public:
    explicit ShiftedClock(const Clock& base) : base_(base) {}

    TimePoint now() const override;
    // Monotonic time moves too, so timers measured against it agree with now().
    std::chrono::steady_clock::time_point monotonicNow() const override;

    // Moves time forward by `ms` (negative values are ignored: time never goes back).
    void advance(int64_t ms);
    int64_t offsetMillis() const { return offsetMs_.load(std::memory_order_relaxed); }

private:
    const Clock& base_;
    std::atomic<int64_t> offsetMs_{0};
};

}  // namespace sc
