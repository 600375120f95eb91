#pragma once
// LoginThrottle: console login lockout. Failed logins are counted per e-mail (so one account
// cannot be guessed at from many addresses) and per client IP (so one address cannot spray many
// accounts). When a key reaches its threshold within the window it is locked for lockDuration;
// while locked, attempts are refused before any password work is done. State is in memory:
// a restart forgets it, which costs an attacker a restart they cannot cause.

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"

namespace sc::console {

struct ThrottleOptions {
    int maxFailuresPerEmail = 5;
    int maxFailuresPerIp = 20;
    std::chrono::seconds window{15 * 60};
    std::chrono::seconds lockDuration{15 * 60};
    // Above this many tracked keys, entries with nothing left to remember are swept.
    size_t sweepAbove = 10000;
};

class LoginThrottle {
public:
    LoginThrottle(const Clock& clock, ThrottleOptions options);

    // Milliseconds until `email` and `ip` may try again (0: go ahead). A non-zero answer is
    // also given while attempts already in flight could reach the threshold, so concurrent
    // guesses cannot overshoot it; such an answer is short (1 s).
    int64_t begin(std::string_view email, std::string_view ip);
    enum class Outcome {
        Success,  // forgets the e-mail's failures (not the IP's: one good account must not
                  // launder an address that guesses at others)
        Failure,  // counts against both
        Aborted,  // the server could not decide (store down, pool full): counts against neither
    };
    // Ends an attempt begin() let through.
    void finish(std::string_view email, std::string_view ip, Outcome outcome);

private:
    struct Entry {
        std::deque<int64_t> failures;  // times, oldest first, within the window
        int pending = 0;
        int64_t lockedUntilMs = 0;
    };
    int64_t waitFor(Entry& e, int threshold, int64_t nowMs);
    void recordFailure(Entry& e, int threshold, int64_t nowMs);
    void prune(Entry& e, int64_t nowMs) const;
    void sweep(std::unordered_map<std::string, Entry>& map, int64_t nowMs);
    static std::string emailKey(std::string_view email);

    const Clock& clock_;
    ThrottleOptions options_;
    std::mutex mu_;
    std::unordered_map<std::string, Entry> byEmail_;
    std::unordered_map<std::string, Entry> byIp_;
};

}  // namespace sc::console
