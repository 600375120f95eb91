#pragma once
// A MessageStore that tells the scheduler about each committed enqueue, so that a new message is
// claimed at once rather than at the scheduler's next look. The send path keeps its store: this
// only forwards, and the notice (Scheduler::poke) never blocks.

#include <functional>
#include <utility>

#include "store/message_store.h"

namespace sc::queue {

class EnqueueNotifier final : public store::MessageStore {
public:
    EnqueueNotifier(store::MessageStore& inner, std::function<void()> onCommitted)
        : inner_(inner), onCommitted_(std::move(onCommitted)) {}

    void enqueue(store::NewMessage message, EnqueueDone done) override {
        inner_.enqueue(std::move(message),
                       [this, done = std::move(done)](Result<Ok, store::StoreError> r) {
                           const bool committed = r.ok();
                           done(std::move(r));
                           if (committed && onCommitted_) onCommitted_();
                       });
    }
    Result<std::optional<std::string>, store::StoreError> findSendRequest(
        int64_t apiUserId, std::string_view sendRequestId, int64_t sinceMs) override {
        return inner_.findSendRequest(apiUserId, sendRequestId, sinceMs);
    }
    std::optional<store::StoredRecipient> findRecipient(std::string_view id) override {
        return inner_.findRecipient(id);
    }
    std::vector<store::StoredRecipient> recipientsOf(std::string_view messageId) override {
        return inner_.recipientsOf(messageId);
    }
    Result<std::vector<store::StoredMessageSummary>, store::StoreError> recentMessages(
        int64_t accountId, int64_t limit) override {
        return inner_.recentMessages(accountId, limit);
    }
    bool ping() override { return inner_.ping(); }
    void stop() override { inner_.stop(); }

private:
    store::MessageStore& inner_;
    std::function<void()> onCommitted_;
};

}  // namespace sc::queue
