#pragma once
// The records the stores speak in: accounts, API users and queued messages. Plain data, no SQL.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sc::store {

enum class UserKind { Email, Sms };

std::string_view userKindName(UserKind k);  // "email" | "sms"

struct Account {
    int64_t id = 0;
    std::string email;
    int64_t createdAtMs = 0;
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
};

struct NewApiUser {
    int64_t accountId = 0;
    std::string name;
    UserKind kind = UserKind::Email;
    std::string keyHash;
    std::string keyCipher;
    std::string keyFingerprint;
    int64_t createdAtMs = 0;
};

struct Attachment {
    std::string filename;
    std::string contentType;
    std::string data;
};

struct Recipient {
    std::string id;       // emailId / smsId returned to the client; unique
    std::string address;  // e-mail address or E.164 number
    std::string role;     // "to", "cc", "bcc" (email) or "to" (sms)
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
};

struct StoredRecipient {
    std::string id;
    std::string messageId;
    std::string address;
    std::string role;
    std::string state;  // queued | sending | sent | deferred | failed | test
    int64_t createdAtMs = 0;
};

struct StoreError {
    enum class Kind { Conflict, NotFound, Unavailable, Internal };
    Kind kind = Kind::Internal;
    std::string message;  // for the operator's log; never contains a secret
};

}  // namespace sc::store
