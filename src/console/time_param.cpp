#include "console/time_param.h"

#include <chrono>
#include <cstdio>

#include "common/clock.h"

namespace sc::console {

namespace {

// Reads exactly `n` digits at `pos`.
bool digits(std::string_view s, size_t& pos, size_t n, int& out) {
    if (pos + n > s.size()) return false;
    int v = 0;
    for (size_t i = 0; i < n; ++i) {
        char c = s[pos + i];
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
    }
    pos += n;
    out = v;
    return true;
}

bool expect(std::string_view s, size_t& pos, char c) {
    if (pos >= s.size() || s[pos] != c) return false;
    ++pos;
    return true;
}

}  // namespace

std::optional<int64_t> parseTimeParam(std::string_view s) {
    if (s.empty()) return std::nullopt;
    if (s.find_first_not_of("0123456789") == std::string_view::npos) {
        // Up to 15 digits: year 33658 at most, and no overflow.
        if (s.size() > 15) return std::nullopt;
        int64_t v = 0;
        for (char c : s) v = v * 10 + (c - '0');
        return v;
    }
    size_t pos = 0;
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, ms = 0;
    if (!digits(s, pos, 4, y) || !expect(s, pos, '-') || !digits(s, pos, 2, mo) ||
        !expect(s, pos, '-') || !digits(s, pos, 2, d)) {
        return std::nullopt;
    }
    using namespace std::chrono;
    year_month_day ymd{year(y), month(static_cast<unsigned>(mo)), day(static_cast<unsigned>(d))};
    if (!ymd.ok()) return std::nullopt;
    int64_t offsetMin = 0;
    if (pos < s.size()) {
        if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') return std::nullopt;
        ++pos;
        if (!digits(s, pos, 2, h) || !expect(s, pos, ':') || !digits(s, pos, 2, mi) ||
            !expect(s, pos, ':') || !digits(s, pos, 2, sec)) {
            return std::nullopt;
        }
        if (h > 23 || mi > 59 || sec > 59) return std::nullopt;
        if (pos < s.size() && s[pos] == '.') {
            ++pos;
            size_t start = pos;
            int scale = 100;
            while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
                ms += (s[pos] - '0') * scale;  // digits past the third add nothing
                scale /= 10;
                ++pos;
            }
            if (pos == start || pos - start > 9) return std::nullopt;
        }
        if (pos >= s.size()) return std::nullopt;  // a time needs a zone: no local-time guessing
        if (s[pos] == 'Z' || s[pos] == 'z') {
            ++pos;
        } else if (s[pos] == '+' || s[pos] == '-') {
            int sign = s[pos] == '-' ? -1 : 1;
            ++pos;
            int oh = 0, om = 0;
            if (!digits(s, pos, 2, oh) || !expect(s, pos, ':') || !digits(s, pos, 2, om) ||
                oh > 23 || om > 59) {
                return std::nullopt;
            }
            offsetMin = sign * (oh * 60 + om);
        } else {
            return std::nullopt;
        }
        if (pos != s.size()) return std::nullopt;
    }
    int64_t days = sys_days(ymd).time_since_epoch().count();
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - offsetMin * 60;
    return secs * 1000 + ms;
}

std::string formatTimeMs(int64_t ms) {
    std::string base = formatIso8601(Clock::TimePoint(Clock::Duration(ms)));
    int64_t frac = ((ms % 1000) + 1000) % 1000;
    if (frac == 0) return base;
    // "...:SSZ" -> "...:SS.mmmZ"
    base.pop_back();
    char buf[6];
    std::snprintf(buf, sizeof buf, ".%03dZ", static_cast<int>(frac));
    base += buf;
    return base;
}

}  // namespace sc::console
