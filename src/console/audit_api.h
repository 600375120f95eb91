#pragma once
// AuditApi: what an account's users did (docs/api.md §15):
//   GET /console/api/auth-events  the authentication log, newest first, a page at a time
//                                 (?user, outcome, from, to, before, limit)
//   GET /console/api/usage        hourly counters per user (?user, from, to)

#include <chrono>
#include <cstdint>

#include "common/clock.h"
#include "console/api_room.h"
#include "store/audit_store.h"

namespace sc::console {

struct AuditOptions {
    int64_t defaultEventsPerPage = 100;
    // Below the store's own per-query cap (1000 in SQLite), since a page asks for one more row
    // than it shows to learn whether another page exists.
    int64_t maxEventsPerPage = 500;
    // GET /usage without `from` covers this much before `to` (or now).
    std::chrono::hours defaultUsageWindow{24 * 7};
};

class AuditApi {
public:
    AuditApi(store::AuditStore& audit, const Clock& clock, AuditOptions options,
             const SessionGuard& guard);

    void registerRoutes(http::Router& router);

private:
    http::Response authEvents(const SessionCall& call);
    http::Response usage(const SessionCall& call);

    store::AuditStore& audit_;
    const Clock& clock_;
    AuditOptions options_;
    const SessionGuard& guard_;
};

}  // namespace sc::console
