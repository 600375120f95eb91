#pragma once
// Scheduler: the queue manager's loop (docs/delivery.md). On its own io_context and thread,
// never the HTTP threads, it claims due recipients in batches with a lease, groups email jobs by
// recipient domain, hands each group to the agent of its channel (test-mode messages to the
// built-in sandbox agent, whatever the channel), keeps at most maxInFlight attempts open, and
// passes every reported outcome to the OutcomeRecorder. It claims when recipients fall due and
// when poked (after an enqueue). Reports are recorded in groups, one transaction each.
// stop() stops claiming, lets in-flight attempts finish within the drain time and hands the
// remaining leases back.

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "queue/delivery.h"
#include "queue/outcome_recorder.h"
#include "store/queue_store.h"

namespace sc::queue {

struct SchedulerOptions {
    std::string nodeId;  // lease owner: this node (see node_id.h)
    size_t batchSize = 256;
    size_t maxInFlight = 1000;
    std::chrono::milliseconds lease{600'000};
    // The longest idle wait between claims (real time): a due time computed on the injectable
    // clock is only a hint, so the loop looks again at least this often.
    std::chrono::milliseconds pollInterval{1000};
    // Reports are recorded in groups (one transaction, one fsync each): a group is written once
    // recordBatch reports have arrived, or recordDelay after the first of them, whichever comes
    // first. Written one by one as they trickle in, a queue draining a few thousand messages a
    // second took the database's single write lock a thousand times a second, and every send
    // request's commit queued behind those fsyncs (docs/delivery.md, "Outcome groups").
    size_t recordBatch = 64;
    std::chrono::milliseconds recordDelay{5};
};

// Answers every job at once as Sandbox: test mode never leaves the box.
class SandboxAgent final : public DeliveryAgent {
public:
    explicit SandboxAgent(Clock& clock) : clock_(clock) {}
    void deliver(std::vector<DeliveryJob> jobs, Report report) override;
    void stop() override {}

private:
    Clock& clock_;
};

class Scheduler {
public:
    Scheduler(store::QueueStore& store, OutcomeRecorder& recorder, Clock& clock,
              SchedulerOptions options);
    ~Scheduler();

    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;

    // The one place where delivery agents are plugged in (sendcloudd/runtime.cpp): email and SMS
    // each have one agent. A channel without one is left queued. Call before start().
    void setAgent(store::UserKind channel, DeliveryAgent& agent);

    // Takes back the leases of this node's previous life, then starts the loop's thread.
    void start();
    // Claim now (after an enqueue); any thread, never blocks.
    void poke();
    // Stops claiming, waits up to `drain` for in-flight attempts, stops the agents and releases
    // what is still leased. Idempotent.
    void stop(std::chrono::milliseconds drain);

    size_t inFlight() const;
    // Claim rounds done (each looks at the queue once): lets a test wait for a poke to be
    // handled instead of sleeping.
    uint64_t claimRounds() const { return claimRounds_.load(); }

private:
    struct Pending {
        AttemptContext context;
    };

    void claimLoop();
    void claimOnce();
    void dispatch(std::vector<store::ClaimedRecipient> claimed);
    void onReport(DeliveryOutcome outcome);
    void recordArrived();
    void writeRecordings();
    void publishInFlight();
    void armTimer(std::chrono::milliseconds wait);
    DeliveryAgent::Report reporter();

    store::QueueStore& store_;
    OutcomeRecorder& recorder_;
    Clock& clock_;
    const SchedulerOptions options_;
    SandboxAgent sandbox_;
    DeliveryAgent* emailAgent_ = nullptr;
    DeliveryAgent* smsAgent_ = nullptr;

    boost::asio::io_context io_;
    boost::asio::steady_timer timer_{io_};
    boost::asio::steady_timer recordTimer_{io_};  // recordDelay after a group's first report
    std::thread thread_;
    bool started_ = false;

    // Touched on the loop's thread only.
    std::map<std::string, Pending, std::less<>> pending_;
    // Reports waiting to be recorded together (group commit), and those whose write failed
    // (the store was busy or away), recorded again with the next group.
    std::vector<Recording> arrived_;
    std::vector<Recording> unrecorded_;
    // How recordArrived() is due: not at all, when recordTimer_ fires, or posted to run next.
    enum class RecordPlan { None, Timer, Now };
    RecordPlan recordPlan_ = RecordPlan::None;
    bool stopping_ = false;
    bool claimPosted_ = false;

    // inFlight for stop() and inFlight(), from other threads.
    mutable std::mutex mutex_;
    std::condition_variable drained_;
    size_t inFlightCount_ = 0;
    std::atomic<uint64_t> claimRounds_{0};
    bool stopped_ = false;
};

}  // namespace sc::queue
