#pragma once
// The one clock. Everything that depends on time (grace periods, rate limits, lockouts, retries,
// timestamps in ids) takes a Clock& so that tests move time instead of sleeping. Only
// system_clock.cpp reads the real time; tests use tests/fakes/fake_clock.h.

#include <chrono>
#include <cstdint>
#include <string>

namespace sc {

class Clock {
public:
    using Duration = std::chrono::milliseconds;
    using TimePoint = std::chrono::time_point<std::chrono::system_clock, Duration>;

    virtual ~Clock() = default;
    // Wall-clock time (UTC), millisecond resolution.
    virtual TimePoint now() const = 0;
    // Monotonic time for measuring latencies; never goes back.
    virtual std::chrono::steady_clock::time_point monotonicNow() const = 0;

    int64_t nowMillis() const { return now().time_since_epoch().count(); }
};

class SystemClock final : public Clock {
public:
    TimePoint now() const override;
    std::chrono::steady_clock::time_point monotonicNow() const override;
};

// RFC 3339 UTC, e.g. 2026-11-28T10:00:00Z.
std::string formatIso8601(Clock::TimePoint t);
// RFC 7231 IMF-fixdate, e.g. Sat, 28 Nov 2026 10:15:00 GMT (used by Sunset and Retry-After).
std::string formatHttpDate(Clock::TimePoint t);

}  // namespace sc
