#pragma once
// Brute-force lockout (docs/api.md §2, rule 9): too many failed authentications from one client IP,
// or against one user name, within a window lock that IP or name for a while. A locked IP is
// refused outright. A locked name refuses only wrong keys: the right key still succeeds from
// any IP that is not itself locked, so an attacker cannot lock a legitimate user out.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"

namespace sc::auth {

struct LockoutOptions {
    int64_t ipFailures = 20;    // per window; 0 disables
    int64_t userFailures = 20;  // per window; 0 disables
    std::chrono::milliseconds window{60000};
    std::chrono::milliseconds lockFor{300000};
    size_t maxTracked = 100000;  // entries per table; the oldest idle ones are dropped first
};

class LockoutTracker {
public:
    LockoutTracker(const Clock& clock, LockoutOptions options);

    // When the IP / name is locked: the time (ms) the lock ends.
    std::optional<int64_t> ipLockedUntil(std::string_view ip);
    std::optional<int64_t> userLockedUntil(std::string_view name);
    void recordFailure(std::string_view ip, std::string_view name);

private:
    struct Entry {
        int64_t windowStartMs = 0;
        int64_t failures = 0;
        int64_t lockedUntilMs = 0;
    };
    using Table = std::unordered_map<std::string, Entry>;

    std::optional<int64_t> lockedUntil(Table& table, std::string_view key, int64_t now);
    void bump(Table& table, std::string_view key, int64_t threshold, int64_t now);
    void trim(Table& table, int64_t now);

    const Clock& clock_;
    LockoutOptions options_;
    std::mutex mu_;
    Table ips_, users_;
};

}  // namespace sc::auth
