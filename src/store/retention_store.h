#pragma once
// RetentionStore: removes what has outlived its use, one small batch per call, so that pruning
// never holds the database's write lock for long (the send path's group commit waits for it).
// Each call answers how many rows it removed (or emptied); fewer than `limit` means nothing more
// is due. Messages themselves, their recipients, delivery attempts and events are never deleted:
// they are the record of what was sent and the source of statistics; a message past retention
// loses its body (content and attachments), and only once no recipient still needs it.

#include <cstdint>

#include "common/result.h"
#include "store/records.h"

namespace sc::store {

class RetentionStore {
public:
    virtual ~RetentionStore() = default;

    // sendRequestId records created before `beforeMs` (past their idempotency window).
    virtual Result<int64_t, StoreError> pruneSendRequests(int64_t beforeMs, int64_t limit) = 0;
    // Retired API_KEYs whose grace ended before `beforeMs`.
    virtual Result<int64_t, StoreError> pruneRetiredKeys(int64_t beforeMs, int64_t limit) = 0;
    // Hourly usage rows for hours that started before `beforeMs`.
    virtual Result<int64_t, StoreError> pruneUsage(int64_t beforeMs, int64_t limit) = 0;
    // SMS delivery receipts received before `beforeMs` that never matched a submitted message.
    virtual Result<int64_t, StoreError> prunePendingReceipts(int64_t beforeMs, int64_t limit) = 0;
    // The bodies (content, per-recipient content, attachments) of messages accepted before
    // `beforeMs` whose recipients are all past delivery (none queued, sending or deferred).
    // Walks messages in acceptance order from a mark kept in the database, and stops at the first
    // message that is not yet prunable, so a run costs what it prunes, not the table's size.
    virtual Result<int64_t, StoreError> pruneMessageBodies(int64_t beforeMs, int64_t limit) = 0;
};

}  // namespace sc::store
