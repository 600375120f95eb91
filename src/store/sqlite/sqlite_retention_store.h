#pragma once
// RetentionStore on SQLite. Every call is a short read (WAL readers never block the writer) to
// find a batch, then one short write transaction that re-checks each row's condition as it
// deletes it: the group-commit writer of the send path waits at most one batch.

#include "store/retention_store.h"
#include "store/sqlite/connection.h"

namespace sc::store::sqlite {

class SqliteRetentionStore final : public RetentionStore {
public:
    explicit SqliteRetentionStore(ConnectionPool& pool);

    Result<int64_t, StoreError> pruneSendRequests(int64_t beforeMs, int64_t limit) override;
    Result<int64_t, StoreError> pruneRetiredKeys(int64_t beforeMs, int64_t limit) override;
    Result<int64_t, StoreError> pruneUsage(int64_t beforeMs, int64_t limit) override;
    Result<int64_t, StoreError> prunePendingReceipts(int64_t beforeMs, int64_t limit) override;
    Result<int64_t, StoreError> pruneMessageBodies(int64_t beforeMs, int64_t limit) override;

private:
    ConnectionPool& pool_;
};

}  // namespace sc::store::sqlite
