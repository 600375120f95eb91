#pragma once
// The contract between the queue manager and the delivery agents (docs/delivery.md). One
// direction, as in Postfix (qmgr owns the queue, delivery agents only report):
//
//   store (queued) -> queue::Scheduler (claims due recipients with a lease, groups them by
//   destination) -> DeliveryAgent (SMTP, SMPP, Kannel, HTTP, sandbox) -> DeliveryOutcome ->
//   queue::OutcomeRecorder (one transaction: state, attempt, event row)
//
// Agents never write the store: everything they learn travels back in a DeliveryOutcome, and the
// recorder is the one writer of delivery state. Agents run on the delivery io_context, never on
// the HTTP threads.

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/records.h"

namespace sc::queue {

// What a message carries once for all its recipients; shared by the jobs of one message.
struct MessageContent {
    std::string messageId;
    store::UserKind channel = store::UserKind::Email;
    int64_t accountId = 0;
    int64_t apiUserId = 0;
    std::string apiUserName;
    int64_t acceptedAtMs = 0;
    bool testMode = false;
    std::string contentJson;  // the message's validated content (see api/send_validation.h)
    std::vector<store::Attachment> attachments;
};

// One recipient, leased to an agent for one attempt.
struct DeliveryJob {
    std::string recipientId;  // emailId / smsId: unique, also what Message-ID derives from
    std::string address;      // e-mail address or E.164 number
    std::string role;         // "to", "cc", "bcc" (email) or "to" (SMS)
    // The recipient's own content (X-SMTPAPI substitution), else empty: use message->contentJson.
    std::string contentJson;
    int attempt = 1;  // 1 for the first try
    // Email: the recipient's domain (lower case); jobs of one destination are handed to the agent
    // together so it can share connections and budgets. SMS: empty (the SMS agent chooses the
    // route of each job itself: the SMS_USER's route, then prefixes, then the default route).
    std::string destination;
    std::shared_ptr<const MessageContent> message;

    const std::string& content() const {
        return contentJson.empty() ? message->contentJson : contentJson;
    }
};

// What became of one attempt. The recorder maps it to a state, an attempt row and an event.
struct DeliveryOutcome {
    enum class Kind {
        Delivered,  // email: 2xx after DATA; SMS: a DELIVRD receipt for every part
        Deferred,   // temporary: retried with backoff until the queue lifetime ends
        Bounced,    // email: permanent (5xx, null MX, NXDOMAIN)
        Sandbox,    // test mode: recorded, never sent
        Submitted,  // SMS: submit_sm_resp status 0 (smscMessageIds set)
        Failed,     // SMS: refused by the SMSC / provider for good
    };

    std::string recipientId;
    Kind kind = Kind::Deferred;
    int64_t atMs = 0;

    // The remote side's answer, for the attempt log (never a secret).
    int replyCode = 0;         // SMTP basic code, HTTP status, or SMPP command_status
    std::string enhancedCode;  // RFC 3463 "5.1.1", empty when none
    std::string replyText;     // the reply as received (first 512 bytes)
    std::string remoteHost;    // MX host name, SMSC or provider host
    std::string remoteIp;      // "" when no connection was made
    std::string tlsVersion;    // "TLSv1.3", "" when clear text
    std::string tlsCipher;     //
    std::vector<std::string> smscMessageIds;  // SMS: one per part, as the SMSC gave them
    // SMS: the route's name (SmsReceipt::route of the receipts to come): SMSC ids are unique per
    // route only.
    std::string route;

    // Deferred: the earliest next attempt the agent asks for (e.g. a throttled destination);
    // unset: the scheduler's backoff decides.
    std::optional<std::chrono::milliseconds> retryAfter;
};

// A delivery agent: takes leased jobs of one destination and reports exactly one outcome per
// job through `report`, from any thread, possibly after deliver() returned. report() must not
// block.
class DeliveryAgent {
public:
    using Report = std::function<void(DeliveryOutcome)>;

    virtual ~DeliveryAgent() = default;
    virtual void deliver(std::vector<DeliveryJob> jobs, Report report) = 0;
    // Stop taking work; in-flight attempts finish (or report Deferred) within the drain time.
    virtual void stop() = 0;
};

// A delivery receipt from an SMS centre (SMPP deliver_sm with a receipt esm_class, or a Kannel
// DLR). It may arrive before the submit's outcome is recorded: the recorder keeps it and matches
// it later. Ids are matched after normalisation (normaliseSmscId in the queue).
struct SmsReceipt {
    std::string route;          // the route's name
    std::string smscMessageId;  // as received
    std::string stat;       // DELIVRD | EXPIRED | DELETED | UNDELIV | ACCEPTD | UNKNOWN | REJECTD
    std::string errorCode;  // "err:" of the receipt, "" when none
    int64_t atMs = 0;
};

// A mobile-originated SMS (a reply), stored for the webhooks' `reply` event.
struct InboundSms {
    std::string route;
    std::string from;  // E.164 when the SMSC gave a number
    std::string to;
    std::string text;  // UTF-8
    int64_t atMs = 0;
};

// Where agents hand what arrives without a job: implemented by the OutcomeRecorder, the one
// writer of delivery state. Must not block.
class ReceiptSink {
public:
    virtual ~ReceiptSink() = default;
    virtual void receipt(SmsReceipt r) = 0;
    virtual void inbound(InboundSms sms) = 0;
};

// What an SMS route's connector counts for /metrics (docs/operations.md, "Metrics"). It lives in
// the contract rather than in src/delivery/sms because src/metrics, which reads it, may use
// `queue` but not `delivery` (docs/architecture.md, "Walls"). The connector writes from its
// strand; a scrape reads from an HTTP thread: atomics with relaxed order, since each value stands
// alone and a scrape that sees one a moment late is harmless.
struct SmsRouteCounters {
    // Upper bounds of the submit latency buckets, in seconds (+Inf is implicit): an SMSC on the
    // same LAN answers in a millisecond, a carrier across the internet in tens to hundreds.
    static constexpr std::array<double, 12> kSubmitBuckets = {
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10};

    std::atomic<bool> bound{false};          // smpp: a bind is up now
    std::atomic<int64_t> bindsUp{0};         // smpp: binds that succeeded
    std::atomic<int64_t> bindsDown{0};       // smpp: bound sessions that ended
    std::atomic<int64_t> windowInUse{0};     // submits sent and not answered yet
    std::atomic<int64_t> throttlePauses{0};  // pauses after a temporary submit error
    std::atomic<int64_t> submitted{0};       // parts accepted by the SMSC or provider
    // Submit sent -> its answer: one count per bucket (not cumulative; the last one is past the
    // largest bound), so a scrape's +Inf and _count come from one sum and always agree.
    std::array<std::atomic<uint64_t>, kSubmitBuckets.size() + 1> submitLatencyBuckets{};
    std::atomic<int64_t> submitLatencyMicrosTotal{0};

    void observeSubmitLatency(std::chrono::microseconds d) {
        const int64_t us = std::max<int64_t>(0, d.count());
        const double seconds = static_cast<double>(us) / 1e6;
        size_t i = 0;
        while (i < kSubmitBuckets.size() && seconds > kSubmitBuckets[i]) ++i;
        submitLatencyBuckets[i].fetch_add(1, std::memory_order_relaxed);
        submitLatencyMicrosTotal.fetch_add(us, std::memory_order_relaxed);
    }
};

}  // namespace sc::queue
