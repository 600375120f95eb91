#include "auth/lockout.h"

namespace sc::auth {

LockoutTracker::LockoutTracker(const Clock& clock, LockoutOptions options)
    : clock_(clock), options_(options) {}

std::optional<int64_t> LockoutTracker::lockedUntil(Table& table, std::string_view key,
                                                   int64_t now) {
    auto it = table.find(std::string(key));
    if (it == table.end() || it->second.lockedUntilMs <= now) return std::nullopt;
    return it->second.lockedUntilMs;
}

std::optional<int64_t> LockoutTracker::ipLockedUntil(std::string_view ip) {
    std::lock_guard lk(mu_);
    return lockedUntil(ips_, ip, clock_.nowMillis());
}

std::optional<int64_t> LockoutTracker::userLockedUntil(std::string_view name) {
    std::lock_guard lk(mu_);
    return lockedUntil(users_, name, clock_.nowMillis());
}

void LockoutTracker::bump(Table& table, std::string_view key, int64_t threshold, int64_t now) {
    if (threshold <= 0 || key.empty()) return;
    if (table.size() >= options_.maxTracked) trim(table, now);
    Entry& e = table[std::string(key)];
    if (now - e.windowStartMs >= options_.window.count()) {
        e.windowStartMs = now;
        e.failures = 0;
    }
    if (++e.failures >= threshold && e.lockedUntilMs <= now) {
        e.lockedUntilMs = now + options_.lockFor.count();
    }
}

void LockoutTracker::trim(Table& table, int64_t now) {
    // Drop what no longer matters (window over, not locked); if an attacker keeps every entry
    // fresh, drop everything unlocked rather than grow without bound.
    std::erase_if(table, [&](const auto& kv) {
        return kv.second.lockedUntilMs <= now &&
               now - kv.second.windowStartMs >= options_.window.count();
    });
    if (table.size() >= options_.maxTracked) {
        std::erase_if(table, [&](const auto& kv) { return kv.second.lockedUntilMs <= now; });
    }
}

void LockoutTracker::recordFailure(std::string_view ip, std::string_view name) {
    std::lock_guard lk(mu_);
    const int64_t now = clock_.nowMillis();
    bump(ips_, ip, options_.ipFailures, now);
    bump(users_, name, options_.userFailures, now);
}

}  // namespace sc::auth
