#pragma once
// OutcomeRecorder: the one writer of delivery state (docs/delivery.md). It turns an agent's
// DeliveryOutcome into a state (with the retry schedule and the queue lifetime applied), an
// attempt row and an event row, written in one transaction; and, as the ReceiptSink, it records
// SMS delivery receipts and inbound SMS.

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/log_throttle.h"
#include "common/result.h"
#include "queue/delivery.h"
#include "store/queue_store.h"

namespace sc::queue {

// --retry-first doubling to --retry-max; --queue-lifetime, after which a deferral is final.
struct RetryPolicy {
    std::chrono::milliseconds first{60'000};
    std::chrono::milliseconds max{3'600'000};
    std::chrono::milliseconds queueLifetime{432'000'000};

    // The wait after the attempt-th attempt failed (attempt counts from 1).
    std::chrono::milliseconds delayAfter(int attempt) const;
};

// What the scheduler knows of the attempt an outcome answers.
struct AttemptContext {
    store::UserKind channel = store::UserKind::Email;
    int attempt = 1;
    int64_t acceptedAtMs = 0;
    std::optional<int64_t> accountId;  // unset: the store looks it up
    std::string messageId;
    std::string apiUserName;
    std::string address;
    int64_t recipientKey = 0;  // store::ClaimedRecipient::recipientKey
};

// An outcome with the attempt it answers: what the scheduler hands the recorder.
struct Recording {
    DeliveryOutcome outcome;
    AttemptContext context;
};

class OutcomeRecorder final : public ReceiptSink {
public:
    // Sees every recorded outcome (for metrics); runs on the recording thread, must not block.
    using Observer =
        std::function<void(const DeliveryOutcome&, store::RecipientState, const AttemptContext&)>;

    OutcomeRecorder(store::QueueStore& store, Clock& clock, RetryPolicy policy);

    // The state written, or why nothing was (the recipient keeps its lease; record again).
    Result<store::RecipientState, store::StoreError> record(const DeliveryOutcome& outcome,
                                                            const AttemptContext& context);
    // Many outcomes in one transaction (one fsync): the scheduler records whatever reports have
    // arrived together, so recording keeps pace with fast agents and the window in which a
    // delivered message is not yet recorded (delivered again after a crash) stays short.
    // Answers one result per recording, in order; a failure of the transaction fails them all.
    std::vector<Result<store::RecipientState, store::StoreError>> recordAll(
        std::span<const Recording> recordings);

    // ReceiptSink. The write is one short transaction on the caller's thread.
    void receipt(SmsReceipt r) override;
    void inbound(InboundSms sms) override;

    void setObserver(Observer o) { observer_ = std::move(o); }
    // Receives failures that have no caller to answer (a receipt that could not be stored), and
    // outcome writes that failed (recordAll's caller keeps those and writes them again).
    void setErrorSink(std::function<void(std::string_view)> sink) { onError_ = std::move(sink); }

    // The state and event kind an outcome becomes (exposed for tests and docs). An empty kind:
    // the outcome writes no event (an SMS submit).
    store::RecipientState stateFor(const DeliveryOutcome& outcome,
                                   const AttemptContext& context) const;
    static std::string eventKindFor(store::RecipientState state, store::UserKind channel);

private:
    store::OutcomeWrite writeFor(const DeliveryOutcome& outcome,
                                 const AttemptContext& context) const;

public:
    // The event row's JSON (docs/delivery.md "Events"); public for its test.
    static std::string eventPayload(const DeliveryOutcome& o, const AttemptContext& c,
                                    const store::OutcomeWrite& w, int64_t atMs);

private:
    store::QueueStore& store_;
    Clock& clock_;
    const RetryPolicy policy_;
    Observer observer_;
    std::function<void(std::string_view)> onError_;
    // Failed outcome writes reach onError_ at most once a second, with a count: they fail for
    // every report while the disk is full.
    LogThrottle outcomeFailureLog_{clock_, 1};
};

}  // namespace sc::queue
