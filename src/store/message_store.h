#pragma once
// MessageStore: the durable queue. enqueue() reports success only once the message and all its
// recipient rows are on disk; concurrent enqueues share one transaction (group commit) so that
// durability does not cost one fsync per request.

#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "store/records.h"

namespace sc::store {

class MessageStore {
public:
    using EnqueueDone = std::function<void(Result<Ok, StoreError>)>;

    virtual ~MessageStore() = default;

    // Asynchronous: `done` runs on a store thread after the commit (or its failure). It must not
    // block. Never called after stop() has returned.
    virtual void enqueue(NewMessage message, EnqueueDone done) = 0;

    // The responseJson recorded for (apiUserId, sendRequestId) at or after sinceMs, if any.
    virtual Result<std::optional<std::string>, StoreError> findSendRequest(
        int64_t apiUserId, std::string_view sendRequestId, int64_t sinceMs) = 0;

    virtual std::optional<StoredRecipient> findRecipient(std::string_view id) = 0;
    virtual std::vector<StoredRecipient> recipientsOf(std::string_view messageId) = 0;

    // The account's `limit` most recent messages, newest first, with their recipients.
    virtual Result<std::vector<StoredMessageSummary>, StoreError> recentMessages(int64_t accountId,
                                                                                 int64_t limit) = 0;

    // True when the store answers (for /readyz).
    virtual bool ping() = 0;

    // Commits everything already enqueued, runs its callbacks, then refuses new work.
    virtual void stop() = 0;
};

using MessageStorePtr = std::unique_ptr<MessageStore>;

}  // namespace sc::store
