#pragma once
// AuditStore on SQLite. Writes borrow a pooled connection of their own and take the write lock
// with BEGIN IMMEDIATE, waiting out the message writer (or another process) in the busy
// handler; they never go through the message writer thread, so a burst of audit records cannot
// delay a send's commit behind it in a queue.

#include "store/audit_store.h"
#include "store/sqlite/connection.h"

namespace sc::store::sqlite {

class SqliteAuditStore final : public AuditStore {
public:
    explicit SqliteAuditStore(ConnectionPool& pool);

    // The largest page queryEvents() answers; a smaller positive limit is honoured, anything
    // below 1 reads as 1.
    static constexpr int64_t kMaxEventsPerQuery = 1000;

    Result<Ok, StoreError> appendEvents(const std::vector<AuthEvent>& events) override;
    Result<Ok, StoreError> addUsage(const std::vector<UsageDelta>& deltas) override;
    Result<std::vector<StoredAuthEvent>, StoreError> queryEvents(
        const AuthEventQuery& query) override;
    Result<std::vector<UsageRow>, StoreError> queryUsage(const UsageQuery& query) override;
    Result<int64_t, StoreError> countKeyUses(int64_t userId, std::string_view fingerprint,
                                             int64_t fromMs) override;
    Result<std::optional<int64_t>, StoreError> lastUseOf(int64_t userId) override;
    Result<int64_t, StoreError> recipientsBetween(int64_t userId, int64_t fromMs,
                                                  int64_t toMs) override;
    Result<int64_t, StoreError> pruneEvents(int64_t olderThanMs) override;

private:
    ConnectionPool& pool_;
};

}  // namespace sc::store::sqlite
