#include "common/clock.h"

#include <ctime>

namespace sc {

Clock::TimePoint SystemClock::now() const {
    return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
}

std::chrono::steady_clock::time_point SystemClock::monotonicNow() const {
    return std::chrono::steady_clock::now();
}

namespace {
std::tm toUtc(Clock::TimePoint t) {
    std::time_t secs =
        std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
    std::tm tm{};
    gmtime_r(&secs, &tm);
    return tm;
}
}  // namespace

std::string formatIso8601(Clock::TimePoint t) {
    std::tm tm = toUtc(t);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string formatHttpDate(Clock::TimePoint t) {
    std::tm tm = toUtc(t);
    char buf[40];
    // strftime's %a/%b follow the C locale, which is what HTTP wants.
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return buf;
}

}  // namespace sc
