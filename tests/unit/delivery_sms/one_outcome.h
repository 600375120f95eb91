#pragma once
// Test support: one SMS job handed to an agent, and a wait (with a deadline) for the one outcome
// the agent reports for it, from whichever thread it reports on.
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "queue/delivery.h"

namespace sc::testing {

inline queue::DeliveryJob smsJob(const std::string& id, const std::string& to,
                                 const std::string& text) {
    auto m = std::make_shared<queue::MessageContent>();
    m->contentJson = nlohmann::json{{"message", text}}.dump();
    queue::DeliveryJob j;
    j.recipientId = id;
    j.address = to;
    j.message = m;
    return j;
}

class OneOutcome {
public:
    // Shares the state, so a report that comes after the test gave up touches nothing freed.
    queue::DeliveryAgent::Report report() {
        return [state = state_](queue::DeliveryOutcome o) {
            std::lock_guard lock(state->mutex);
            state->got = std::move(o);
            state->cv.notify_all();
        };
    }

    std::optional<queue::DeliveryOutcome> wait(std::chrono::seconds timeout) {
        std::unique_lock lock(state_->mutex);
        state_->cv.wait_for(lock, timeout, [&] { return state_->got.has_value(); });
        return state_->got;
    }

private:
    struct State {
        std::mutex mutex;
        std::condition_variable cv;
        std::optional<queue::DeliveryOutcome> got;
    };
    std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace sc::testing
