#pragma once
// A MessageIntake that tells the scheduler about each committed enqueue, so that a new message is
// claimed at once rather than at the scheduler's next look. The send path keeps its store: this
// only forwards, and the notice (Scheduler::poke) never blocks.

#include <functional>
#include <utility>

#include "store/message_intake.h"

namespace sc::queue {

class EnqueueNotifier final : public store::MessageIntake {
public:
    EnqueueNotifier(store::MessageIntake& inner, std::function<void()> onCommitted)
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
    bool ping() override { return inner_.ping(); }

private:
    store::MessageIntake& inner_;
    std::function<void()> onCommitted_;
};

}  // namespace sc::queue
