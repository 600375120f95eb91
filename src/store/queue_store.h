#pragma once
// QueueStore: what the delivery queue reads and writes (docs/delivery.md). The scheduler claims due
// recipients with a lease; the outcome recorder writes each attempt's result in one transaction
// (state, attempt row, event row, SMSC ids). Leases rather than an in-memory flag, so that a
// restarted node takes its own claims back at once and another node takes an abandoned claim once
// its lease has run out. A backend with row locks (PostgreSQL) claims with SELECT ... FOR UPDATE
// SKIP LOCKED under the same contract; SQLite's single writer makes the claim's transaction
// exclusive already.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "store/records.h"

namespace sc::store {

struct ClaimRequest {
    std::string owner;  // this node's id (persisted in the data dir)
    int64_t nowMs = 0;
    int64_t leaseUntilMs = 0;
    size_t limit = 100;
    // Channels that have an agent; a test-mode message is claimed whatever its channel (it goes
    // to the sandbox agent).
    bool email = true;
    bool sms = true;
};

// A recipient leased for one attempt, with what its message carries (but the attachments, which
// messageContent() reads once per message).
struct ClaimedRecipient {
    std::string id;
    std::string messageId;
    std::string address;
    std::string role;
    std::string contentJson;  // the recipient's own content; empty: the message's
    int64_t attempts = 0;     // attempts recorded before this one
    UserKind kind = UserKind::Email;
    bool testMode = false;
    int64_t accountId = 0;
    int64_t apiUserId = 0;
    std::string apiUserName;
    int64_t createdAtMs = 0;
    // The store's own key for the recipient's row, handed back in OutcomeWrite::recipientKey so
    // that the outcome finds the row without a look-up by its text id.
    int64_t recipientKey = 0;
};

struct QueuedMessageContent {
    std::string contentJson;
    std::vector<Attachment> attachments;
};

// One line of a recipient's attempt log (the status API's sendLog).
struct AttemptRecord {
    int64_t atMs = 0;
    std::string outcome;  // a state name, or "receipt:STAT" for an SMS delivery receipt
    std::string remoteHost;
    std::string remoteIp;
    int64_t replyCode = 0;
    std::string enhancedCode;
    std::string replyText;
    std::string tlsVersion;
    std::string tlsCipher;
    std::string smscMessageId;
};

// The result of one attempt, as the recorder decided it.
struct OutcomeWrite {
    std::string recipientId;
    int64_t recipientKey = 0;  // ClaimedRecipient::recipientKey; 0: found by recipientId
    RecipientState state = RecipientState::Deferred;
    std::optional<int64_t> nextAttemptAtMs;  // Deferred: when the recipient is due again
    AttemptRecord attempt;
    std::string eventKind;  // docs/delivery.md "Events"; empty: no event row
    std::string eventPayloadJson = "{}";
    // The event's account, when the caller knows it (the claim read it); unset: looked up.
    std::optional<int64_t> accountId;
    // SMS Submitted: the route and, per part, the forms of its SMSC id (queue/smsc_id.h). The
    // first, the normalised id as the SMSC gave it, is what smsc_ids keeps; all of them find a
    // receipt that came before the submit was recorded.
    std::string route;
    std::vector<std::vector<std::string>> smscIdForms;
};

struct ReceiptWrite {
    std::string route;
    std::string smscId;  // normalised
    // The id's other spellings (smscIdForms() after the first), tried in turn when no submit was
    // kept under smscId: the SMSC may spell an id in hex at submit and in decimal in the receipt.
    std::vector<std::string> otherForms;
    std::string stat;  // DELIVRD | EXPIRED | DELETED | UNDELIV | ACCEPTD | UNKNOWN | REJECTD
    std::string errorCode;
    int64_t atMs = 0;
};

struct ReceiptResult {
    bool matched = false;  // false: kept as pending until its submit is recorded
    std::string recipientId;
    std::optional<RecipientState> newState;  // set when every part has a final receipt
};

struct InboundRecord {
    std::string route;
    std::string from;
    std::string to;
    std::string text;
    int64_t atMs = 0;
};

struct RecipientStatus {
    std::string id;
    std::string messageId;
    UserKind kind = UserKind::Email;
    int64_t accountId = 0;
    std::string apiUserName;
    std::string address;
    std::string state;
    int64_t createdAtMs = 0;
    int64_t updatedAtMs = 0;
    std::vector<AttemptRecord> attempts;  // oldest first
};

struct QueueStats {
    std::map<std::string, int64_t> recipientsByState;
    int64_t due = 0;                       // queued or deferred and due now
    std::optional<int64_t> oldestDueAtMs;  // acceptance time of the oldest waiting recipient
};

class QueueStore {
public:
    virtual ~QueueStore() = default;

    // Leases up to `limit` due recipients (queued, deferred, or claimed under a lease that ran
    // out, another node's or a previous life's) to `owner`: state 'sending' until recorded.
    virtual Result<std::vector<ClaimedRecipient>, StoreError> claimDue(const ClaimRequest& req) = 0;
    virtual Result<std::optional<QueuedMessageContent>, StoreError> messageContent(
        std::string_view messageId) = 0;
    // Hands every lease `owner` holds back to the queue, due at nowMs (start-up: the leases of the
    // node's previous life; shutdown: what did not finish). Answers how many.
    virtual Result<int64_t, StoreError> releaseLeases(std::string_view owner, int64_t nowMs) = 0;
    // One transaction for all of `writes` (the queue's group commit: one fsync however many
    // outcomes arrived together). Each write is the recipient's state, an attempt row, an event
    // row and, for a submitted SMS, its SMSC ids (and any receipt that was waiting for them).
    // Answers, per write, whether its recipient existed (a missing one is skipped, the others
    // are written); an error means nothing was written.
    virtual Result<std::vector<bool>, StoreError> recordOutcomes(
        std::span<const OutcomeWrite> writes) = 0;
    // One outcome; NotFound when its recipient does not exist.
    Result<Ok, StoreError> recordOutcome(const OutcomeWrite& w) {
        auto r = recordOutcomes(std::span<const OutcomeWrite>(&w, 1));
        if (!r.ok()) return fail(r.error());
        if (!r.value().front())
            return fail(StoreError(StoreError::Kind::NotFound, "no such recipient"));
        return Ok{};
    }
    virtual Result<ReceiptResult, StoreError> recordReceipt(const ReceiptWrite& w) = 0;
    virtual Result<Ok, StoreError> recordInbound(const InboundRecord& r) = 0;
    // When the next waiting recipient becomes due (none: nothing waits).
    virtual Result<std::optional<int64_t>, StoreError> nextDueAtMs() = 0;
    // The recipients among `ids` that exist, with their attempt logs (unknown ids are left out).
    virtual Result<std::vector<RecipientStatus>, StoreError> statusOf(
        const std::vector<std::string>& ids) = 0;
    virtual Result<QueueStats, StoreError> stats(int64_t nowMs) = 0;
};

// The SQLite implementation, on the database file at `path` (migrated by SqliteBackend first).
std::unique_ptr<QueueStore> openSqliteQueueStore(const std::string& path, int busyTimeoutMs = 5000);

}  // namespace sc::store
