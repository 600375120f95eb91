#pragma once
// MessageIntake: what the send handlers need of the durable queue, and nothing else. enqueue()
// reports success only once the message and all its recipient rows are on disk; concurrent
// enqueues share one transaction (group commit) so that durability does not cost one fsync per
// request.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "store/records.h"

namespace sc::store {

class MessageIntake {
public:
    using EnqueueDone = std::function<void(Result<Ok, StoreError>)>;

    virtual ~MessageIntake() = default;

    // Asynchronous: `done` runs on a store thread after the commit (or its failure). It must not
    // block. Never called after stop() has returned.
    virtual void enqueue(NewMessage message, EnqueueDone done) = 0;

    // The responseJson recorded for (apiUserId, sendRequestId) at or after sinceMs, if any.
    virtual Result<std::optional<std::string>, StoreError> findSendRequest(
        int64_t apiUserId, std::string_view sendRequestId, int64_t sinceMs) = 0;

    // True when the store answers (for /readyz).
    virtual bool ping() = 0;
};

}  // namespace sc::store
