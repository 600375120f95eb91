#pragma once
// The records the stores speak in: accounts, API users and queued messages. Plain data, no SQL.

#include <climits>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sc::store {

// Every kind and state the schema stores as text is an enum here, converted to and from its
// text in records.cpp alone; the schema's CHECK constraints allow exactly these texts.

enum class UserKind { Email, Sms };

std::string_view userKindName(UserKind k);  // "email" | "sms"
std::optional<UserKind> parseUserKind(std::string_view text);

// A recipient's place in its message: SMS recipients are always To.
enum class RecipientRole { To, Cc, Bcc };

std::string_view recipientRoleName(RecipientRole r);  // "to" | "cc" | "bcc"
std::optional<RecipientRole> parseRecipientRole(std::string_view text);

// Which door an authentication attempt came through.
enum class AuthApi { Email, Sms, Console };

std::string_view authApiName(AuthApi a);  // "email" | "sms" | "console"
std::optional<AuthApi> parseAuthApi(std::string_view text);

// How an authentication attempt ended (the audit log's outcome column).
enum class AuthOutcome { Success, Failure, Locked, RateLimited, Quota, Forbidden };
// Every outcome, for those who list them (the console's answer to an unknown one).
inline constexpr AuthOutcome kAuthOutcomes[] = {AuthOutcome::Success, AuthOutcome::Failure,
                                                AuthOutcome::Locked,  AuthOutcome::RateLimited,
                                                AuthOutcome::Quota,   AuthOutcome::Forbidden};

// "success" | "failure" | "locked" | "rate_limited" | "quota" | "forbidden"
std::string_view authOutcomeName(AuthOutcome o);
std::optional<AuthOutcome> parseAuthOutcome(std::string_view text);

// Where a recipient is in its life (docs/delivery.md, "States"). Email: queued -> sending ->
// delivered | deferred (-> sending ...) | bounced | expired, or suppressed / sandbox. SMS:
// queued -> sending -> submitted -> delivered | undeliverable | expired | rejected, or failed
// (refused by the SMSC), or sandbox. The text forms are what the schema's CHECK allows and what
// the status API answers.
enum class RecipientState {
    Queued,
    Sending,
    Delivered,
    Deferred,
    Bounced,
    Expired,
    Suppressed,
    Sandbox,
    Submitted,
    Undeliverable,
    Rejected,
    Failed,
};

std::string_view recipientStateName(RecipientState s);
std::optional<RecipientState> parseRecipientState(std::string_view text);
// A final state: no agent will touch the recipient again.
bool isFinal(RecipientState s);

struct Account {
    int64_t id = 0;
    std::string email;
    int64_t createdAtMs = 0;
    std::string passwordHash;  // argon2id string (crypto_pwhash_str); empty: no console login
};

// What an API user may do (docs/api.md §15): least privilege, set by the account owner.
struct UserPolicy {
    std::string purpose;
    bool testMode = false;                   // accepted and recorded as 'sandbox', never delivered
    std::vector<std::string> ipAllowlist;    // CIDRs (IPv4 and IPv6); empty: any address
    std::vector<std::string> senderDomains;  // email users: allowed `from` domains; empty: any
    int64_t rateLimitPerMinute = 0;          // requests; 0: unlimited
    int64_t dailyQuota = 0;                  // accepted recipients per UTC day; 0: unlimited
    // SMS users: the [[sms_route]] their messages take (docs/delivery.md, "Which route"); empty:
    // the number's prefix, then the default route, decide.
    std::string smsRoute;
};

// An API user as stored. The secret material is opaque here: only src/auth/ interprets it.
struct ApiUser {
    int64_t id = 0;
    int64_t accountId = 0;
    std::string name;
    UserKind kind = UserKind::Email;
    bool disabled = false;
    std::string keyHash;         // HMAC-SHA256 of the current key (32 raw bytes)
    std::string keyCipher;       // SMS users only: nonce || secretbox(key); empty for email users
    std::string keyFingerprint;  // first 8 hex of the key's HMAC; safe to show and log
    int64_t keyCreatedAtMs = 0;
    int64_t createdAtMs = 0;
    UserPolicy policy;
};

// A key replaced by a reset. It stays valid until expiresAtMs (the grace period; equal to
// resetAtMs for SMS keys and emergency resets) and is remembered afterwards so that a request
// using it can be told when it was reset and when it expired.
struct RetiredKey {
    int64_t userId = 0;
    std::string keyHash;
    std::string keyFingerprint;
    int64_t createdAtMs = 0;
    int64_t resetAtMs = 0;
    int64_t expiresAtMs = 0;
};

// A new current key, and until when the key it replaces stays valid. Any older retired key
// still valid at nowMs ends at nowMs, so at most two keys are ever valid at once.
struct KeyRotation {
    std::string keyHash;
    std::string keyCipher;  // SMS users only
    std::string keyFingerprint;
    int64_t nowMs = 0;
    int64_t oldKeyExpiresAtMs = 0;
};

// A console login session. Only hashes of the session and CSRF tokens are stored.
struct Session {
    std::string tokenHash;
    std::string csrfHash;
    int64_t accountId = 0;
    int64_t createdAtMs = 0;
    int64_t expiresAtMs = 0;
};

// One authentication attempt, as docs/api.md §15 says: never the key, only its fingerprint.
struct AuthEvent {
    int64_t atMs = 0;
    AuthApi api = AuthApi::Email;
    std::string userName;   // as presented when loggable, else "-"
    int64_t accountId = 0;  // 0 when the user is unknown
    int64_t userId = 0;     // 0 when the user is unknown
    // Failure until the steps say otherwise: an event left unfinished must never count as a use.
    AuthOutcome outcome = AuthOutcome::Failure;
    std::string reason;  // errorCode or detail
    std::string keyFingerprint;
    std::string clientIp;
    std::string userAgent;
    // Attempts alike in every field above but the time, and within the same second, are one
    // record: how many there were, and when the last one came (atMs is the first).
    int64_t attempts = 1;
    int64_t lastAtMs = 0;  // 0 (or anything before atMs): one attempt, at atMs

    int64_t lastAttemptAtMs() const { return lastAtMs > atMs ? lastAtMs : atMs; }
};

struct StoredAuthEvent {
    int64_t id = 0;
    AuthEvent event;
};

struct AuthEventQuery {
    int64_t accountId = 0;               // only this account's events
    std::string userName;                // empty: any
    std::optional<AuthOutcome> outcome;  // empty: any
    int64_t fromMs = 0;                  // inclusive
    int64_t toMs = INT64_MAX;            // exclusive
    int64_t beforeId = 0;  // paging cursor: only events with id < beforeId; 0: from the newest
    int64_t limit = 100;
};

// Increments of one user's counters for one hour.
struct UsageDelta {
    int64_t userId = 0;
    int64_t accountId = 0;
    std::string userName;
    int64_t hourStartMs = 0;
    int64_t requests = 0;
    int64_t recipients = 0;  // accepted recipients
    int64_t authFailures = 0;
    int64_t rateLimited = 0;
    // The latest successful authentication of the user in this hour (0: none in this delta).
    // Kept with the counters so that a user's last use is one indexed read, not a search of
    // the authentication log; a row keeps the larger of what it has and what a delta brings.
    int64_t lastUsedMs = 0;
};

struct UsageRow {
    int64_t userId = 0;
    std::string userName;
    int64_t hourStartMs = 0;
    int64_t requests = 0;
    int64_t recipients = 0;
    int64_t authFailures = 0;
    int64_t rateLimited = 0;
};

struct UsageQuery {
    int64_t accountId = 0;
    std::string userName;  // empty: all of the account's users
    int64_t fromMs = 0;
    int64_t toMs = INT64_MAX;
};

struct NewApiUser {
    int64_t accountId = 0;
    std::string name;
    UserKind kind = UserKind::Email;
    std::string keyHash;
    std::string keyCipher;
    std::string keyFingerprint;
    int64_t createdAtMs = 0;
    UserPolicy policy;
};

struct Attachment {
    std::string filename;
    std::string contentType;
    std::string data;
};

struct Recipient {
    std::string id;       // emailId / smsId returned to the client; unique
    std::string address;  // e-mail address or E.164 number
    RecipientRole role = RecipientRole::To;
    // This recipient's own content (X-SMTPAPI substitution gives each recipient its own
    // message); empty: the message's contentJson.
    std::string contentJson;
};

// One accepted send request: its content once, and one row per recipient, all committed
// together before the client gets its 200.
struct NewMessage {
    std::string messageId;  // unique
    UserKind kind = UserKind::Email;
    int64_t accountId = 0;
    int64_t apiUserId = 0;
    std::string apiUserName;
    int64_t createdAtMs = 0;
    bool testMode = false;
    std::string contentJson;  // the validated content (from, subject, bodies, headers / text)
    std::vector<Attachment> attachments;
    std::vector<Recipient> recipients;
    // When set, (apiUserId, sendRequestId) is recorded with responseJson in the same
    // transaction; a record of the same pair younger than an hour makes the enqueue fail with
    // Duplicate (carrying that record's response) and queue nothing.
    std::string sendRequestId;
    std::string responseJson;
};

struct EmailTemplate {
    int64_t id = 0;
    int64_t accountId = 0;
    std::string invokeName;  // unique per account; what template sends name
    std::string name;
    std::string subject;
    std::string html;
    std::string plain;
    int64_t createdAtMs = 0;
    int64_t updatedAtMs = 0;
};

struct SmsTemplate {
    int64_t id = 0;  // assigned by the store; what signed SMS requests send as templateId
    int64_t accountId = 0;
    std::string name;
    std::string text;  // with %var% placeholders
    int64_t createdAtMs = 0;
    int64_t updatedAtMs = 0;
};

struct StoredRecipient {
    std::string id;
    std::string messageId;
    std::string address;
    RecipientRole role = RecipientRole::To;
    RecipientState state = RecipientState::Queued;
    int64_t createdAtMs = 0;
    std::string contentJson;  // the recipient's own content, else the message's
};

// One message of an account's recent list (the console's Messages page): the message and the
// current state of each recipient (its attempt log is the queue's: QueueStore::statusOf).
struct RecipientStateRow {
    std::string id;  // the emailId / smsId
    std::string address;
    RecipientRole role = RecipientRole::To;
    RecipientState state = RecipientState::Queued;
    int64_t attempts = 0;
    int64_t updatedAtMs = 0;
};

struct StoredMessageSummary {
    std::string id;
    UserKind kind = UserKind::Email;
    std::string apiUserName;
    int64_t createdAtMs = 0;
    bool testMode = false;
    std::vector<RecipientStateRow> recipients;
};

struct StoreError {
    enum class Kind { Conflict, NotFound, Unavailable, Internal, Duplicate };

    StoreError() = default;
    StoreError(Kind k, std::string m, std::string existing = {})
        : kind(k), message(std::move(m)), existingResponse(std::move(existing)) {}

    Kind kind = Kind::Internal;
    std::string message;           // for the operator's log; never contains a secret
    std::string existingResponse;  // Duplicate: the first request's responseJson
};

}  // namespace sc::store
