#pragma once
// A Clock that only moves when a test says so.

#include <atomic>

#include "common/clock.h"

namespace sc::testing {

class FakeClock final : public Clock {
public:
    explicit FakeClock(int64_t startMs = 1795827000000) : ms_(startMs) {}

    TimePoint now() const override { return TimePoint(Duration(ms_.load())); }
    std::chrono::steady_clock::time_point monotonicNow() const override {
        return std::chrono::steady_clock::time_point(std::chrono::milliseconds(ms_.load()));
    }

    void advance(Duration d) { ms_ += d.count(); }
    void set(int64_t ms) { ms_ = ms; }

private:
    std::atomic<int64_t> ms_;
};

}  // namespace sc::testing
