#include "common/shifted_clock.h"

namespace sc {

Clock::TimePoint ShiftedClock::now() const {
    return base_.now() + Duration(offsetMs_.load(std::memory_order_relaxed));
}

std::chrono::steady_clock::time_point ShiftedClock::monotonicNow() const {
    return base_.monotonicNow() +
           std::chrono::milliseconds(offsetMs_.load(std::memory_order_relaxed));
}

void ShiftedClock::advance(int64_t ms) {
    if (ms > 0) offsetMs_.fetch_add(ms, std::memory_order_relaxed);
}

}  // namespace sc
