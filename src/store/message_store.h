#pragma once
// MessageStore: one backend's message tables, which serve two kinds of caller through two
// interfaces: the send handlers (MessageIntake) and the readers of what was sent
// (MessageQueries). Only the process that owns the backend sees both, and stops it.

#include <memory>

#include "store/message_intake.h"
#include "store/message_queries.h"

namespace sc::store {

class MessageStore : public MessageIntake, public MessageQueries {
public:
    ~MessageStore() override = default;

    // Commits everything already enqueued, runs its callbacks, then refuses new work.
    virtual void stop() = 0;
};

using MessageStorePtr = std::unique_ptr<MessageStore>;

}  // namespace sc::store
