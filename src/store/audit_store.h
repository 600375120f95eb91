#pragma once
// AuditStore: the authentication log and the hourly usage counters. Writes come in batches from
// a recorder thread (the send path never waits for them); reads serve the management API.

#include <optional>
#include <vector>

#include "common/result.h"
#include "store/records.h"

namespace sc::store {

class AuditStore {
public:
    virtual ~AuditStore() = default;

    // One transaction for the whole batch.
    virtual Result<Ok, StoreError> appendEvents(const std::vector<AuthEvent>& events) = 0;
    // Adds each delta to its (user, hour) row, creating the row when needed.
    virtual Result<Ok, StoreError> addUsage(const std::vector<UsageDelta>& deltas) = 0;

    // Newest first.
    virtual Result<std::vector<StoredAuthEvent>, StoreError> queryEvents(
        const AuthEventQuery& query) = 0;
    // Ordered by hour, then user name.
    virtual Result<std::vector<UsageRow>, StoreError> queryUsage(const UsageQuery& query) = 0;
    // Successful requests of this user that used the key with this fingerprint since fromMs.
    virtual Result<int64_t, StoreError> countKeyUses(int64_t userId, std::string_view fingerprint,
                                                     int64_t fromMs) = 0;
    // The user's latest successful authentication as recorded with the usage counters
    // (UsageDelta::lastUsedMs), or nullopt when none is kept (never used, or only before
    // usage_retention_days).
    virtual Result<std::optional<int64_t>, StoreError> lastUseOf(int64_t userId) = 0;
    // Accepted recipients of this user in [fromMs, toMs), from the usage counters.
    virtual Result<int64_t, StoreError> recipientsBetween(int64_t userId, int64_t fromMs,
                                                          int64_t toMs) = 0;
    // Deletes events older than olderThanMs; returns how many.
    virtual Result<int64_t, StoreError> pruneEvents(int64_t olderThanMs) = 0;
};

}  // namespace sc::store
