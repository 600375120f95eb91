#include "console/login_throttle.h"

#include <algorithm>

namespace sc::console {

namespace {
constexpr int64_t kInFlightRetryMs = 1000;
}

LoginThrottle::LoginThrottle(const Clock& clock, ThrottleOptions options)
    : clock_(clock), options_(options) {}

std::string LoginThrottle::emailKey(std::string_view email) {
    // Owner@Example.com and owner@example.com are one target for a guesser.
    std::string k(email.substr(0, 320));
    for (auto& c : k) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return k;
}

void LoginThrottle::prune(Entry& e, int64_t nowMs) const {
    const int64_t windowMs = std::chrono::milliseconds(options_.window).count();
    while (!e.failures.empty() && e.failures.front() <= nowMs - windowMs) e.failures.pop_front();
}

int64_t LoginThrottle::waitFor(Entry& e, int threshold, int64_t nowMs) {
    prune(e, nowMs);
    if (e.lockedUntilMs > nowMs) return e.lockedUntilMs - nowMs;
    if (static_cast<int64_t>(e.failures.size()) + e.pending >= threshold) return kInFlightRetryMs;
    return 0;
}

void LoginThrottle::recordFailure(Entry& e, int threshold, int64_t nowMs) {
    prune(e, nowMs);
    e.failures.push_back(nowMs);
    if (static_cast<int64_t>(e.failures.size()) >= threshold) {
        e.lockedUntilMs = nowMs + std::chrono::milliseconds(options_.lockDuration).count();
        // The lock is the memory now; counting starts afresh once it ends.
        e.failures.clear();
    }
}

void LoginThrottle::sweep(std::unordered_map<std::string, Entry>& map, int64_t nowMs) {
    if (map.size() <= options_.sweepAbove) return;
    for (auto& [key, e] : map) prune(e, nowMs);
    std::erase_if(map, [&](const auto& kv) {
        const Entry& e = kv.second;
        return e.failures.empty() && e.pending == 0 && e.lockedUntilMs <= nowMs;
    });
    // Someone keeps more keys fresh than we track (a distributed spray): forget the counts of
    // unlocked keys rather than grow without bound. Locks and attempts in flight are kept.
    if (map.size() > options_.sweepAbove) {
        std::erase_if(map, [&](const auto& kv) {
            return kv.second.pending == 0 && kv.second.lockedUntilMs <= nowMs;
        });
    }
}

int64_t LoginThrottle::begin(std::string_view email, std::string_view ip) {
    const int64_t now = clock_.nowMillis();
    std::lock_guard lk(mu_);
    sweep(byEmail_, now);
    sweep(byIp_, now);
    Entry& byEmail = byEmail_[emailKey(email)];
    Entry& byIp = byIp_[std::string(ip)];
    const int64_t wait = std::max(waitFor(byEmail, options_.maxFailuresPerEmail, now),
                                  waitFor(byIp, options_.maxFailuresPerIp, now));
    if (wait > 0) return wait;
    ++byEmail.pending;
    ++byIp.pending;
    return 0;
}

void LoginThrottle::finish(std::string_view email, std::string_view ip, Outcome outcome) {
    const int64_t now = clock_.nowMillis();
    std::lock_guard lk(mu_);
    Entry& byEmail = byEmail_[emailKey(email)];
    Entry& byIp = byIp_[std::string(ip)];
    if (byEmail.pending > 0) --byEmail.pending;
    if (byIp.pending > 0) --byIp.pending;
    if (outcome == Outcome::Aborted) return;
    if (outcome == Outcome::Success) {
        byEmail.failures.clear();
        return;
    }
    recordFailure(byEmail, options_.maxFailuresPerEmail, now);
    recordFailure(byIp, options_.maxFailuresPerIp, now);
}

}  // namespace sc::console
