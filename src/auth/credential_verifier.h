#pragma once
// CredentialVerifier: the authentication rules of docs/api.md §2 for the send APIs, in one place.
// Credentials are read only from request parameters; anything in a header is refused with its
// own reason, as are the other API's parameter names and stray whitespace. An unknown user and
// a wrong key take the same path (a hash and a constant-time comparison against a dummy) and
// give the caller the same answer; the operator's log gets the real reason.
//
// Successes are cached (CredentialCache, keyed by user name): a request whose key equals the
// cached user's current key, for the right API, succeeds without a store read. Everything else
// (a miss, a wrong, retired or expired key, the other API's user, an unknown name) takes the
// uncached path unchanged, so failures never come from the cache and cost what they did. The
// cache is keyed to the store's credential version (read before the cache and the store), so a
// reset, disable or delete committed anywhere is seen by the next request; a store without a
// version gets no caching.

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "auth/credential_cache.h"
#include "auth/key_material.h"
#include "auth/replay_cache.h"
#include "common/clock.h"
#include "common/result.h"
#include "http/params.h"
#include "http/request.h"
#include "store/credential_store.h"

namespace sc::auth {

enum class Api { Email, Sms };

// Who a request authenticated as, and what it may do. Carries no secret.
struct AuthContext {
    int64_t accountId = 0;
    int64_t userId = 0;
    std::string userName;
    store::UserKind kind = store::UserKind::Email;
    std::string keyFingerprint;  // of the key the request used
    store::UserPolicy policy;
    // Set when the request used a reset key still in its grace period: when it stops working.
    std::optional<int64_t> keySunsetAtMs;
};

enum class AuthFailureReason {
    CredentialsInHeader,  // 401 auth.credentials_in_header
    WrongParameterNames,  // 401 auth.wrong_parameter_names
    MissingCredentials,   // 401 auth.missing_credentials
    Whitespace,           // 401 auth.whitespace
    Failed,               // 401 auth.failed (unknown user, wrong key, other API's user)
    KeyExpired,           // 401 auth.key_expired (a reset key after its grace period)
    SignatureInvalid,     // 401 auth.signature_invalid (signed SMS: wrong signature)
    SignatureStale,       // 401 auth.signature_stale (signed SMS: timestamp outside 60 s)
    SignatureReplayed,    // 401 auth.signature_replayed (signed SMS: this signature was used)
    ReplayCacheFull,      // 503 auth.replay_cache_full (signed SMS: too many to remember)
    UserDisabled,         // 403 auth.user_disabled
    StoreUnavailable,     // 503 store.unavailable (we could not check)
};

struct AuthFailure {
    AuthFailureReason reason = AuthFailureReason::Failed;
    std::string hint;       // for the caller; never holds a secret
    std::string logDetail;  // for the operator ("unknown user", "wrong key", ...)
    std::string userName;   // as presented, when it is safe to log (no whitespace problem)
    // Set when the presented user exists (for the audit log and usage counters).
    int64_t accountId = 0;
    int64_t userId = 0;
    std::string keyFingerprint;  // of the presented key when it is one of the user's keys
};

std::string_view errorCode(AuthFailureReason r);
int httpStatus(AuthFailureReason r);

class CredentialVerifier {
public:
    CredentialVerifier(store::CredentialStore& store, const KeyMaterial& keys, const Clock& clock,
                       CredentialCacheOptions cacheOptions = {},
                       ReplayCacheOptions replayOptions = {});

    Result<AuthContext, AuthFailure> verify(Api api, const http::ParamMap& params,
                                            const http::Request& request) const;

    // SendCloud's signed SMS form (smsUser, timestamp, signature; no smsKey): the signature is
    // checked with the user's decrypted SMS_KEY over `signedParams` (every request parameter
    // as received), and the timestamp must be within `window` of the clock. A signature is
    // accepted once: sent again while its timestamp is inside the window it is a replay.
    Result<AuthContext, AuthFailure> verifySignedSms(
        const http::ParamMap& params,
        const std::vector<std::pair<std::string, std::string>>& signedParams,
        std::chrono::milliseconds window = std::chrono::seconds(60)) const;

    // The parameter names each API reads its credentials from.
    static std::string_view userParam(Api api);
    static std::string_view keyParam(Api api);

private:
    // The presented key against the user's current key (or a dummy, for an unknown user or the
    // other API's), and the retired key it may be.
    struct KeyMatch {
        std::optional<store::ApiUser> record;
        bool kindMatches = false;  // the user exists and is of the API's kind
        bool currentKey = false;
        std::optional<store::RetiredKey> retiredKey;  // only when kindMatches && !currentKey
    };
    Result<KeyMatch, store::StoreError> matchKey(store::UserKind kind, std::string_view user,
                                                 std::string_view key) const;

    store::CredentialStore& store_;
    const KeyMaterial& keys_;
    const Clock& clock_;
    std::string dummyHash_;
    // Filled by verify(), which is const to its callers; the cache does its own locking.
    mutable CredentialCache cache_;
    mutable SignatureReplayCache replays_;
};

}  // namespace sc::auth
