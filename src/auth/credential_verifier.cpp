#include "auth/credential_verifier.h"

#include "auth/sms_signature.h"

#include <array>
#include <cctype>
#include <memory>

namespace sc::auth {

namespace {

constexpr std::array<std::string_view, 9> kCredentialHeaders = {
    "authorization", "x-api-key",  "x-api-user",   "x-apikey",           "api-key",
    "x-sms-key",     "x-sms-user", "x-auth-token", "proxy-authorization"};

bool hasOuterWhitespace(std::string_view v) {
    if (v.empty()) return false;
    auto isSpace = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
    return isSpace(v.front()) || isSpace(v.back());
}

AuthFailure failure(AuthFailureReason reason, std::string hint, std::string detail,
                    std::string user = "") {
    AuthFailure f;
    f.reason = reason;
    f.hint = std::move(hint);
    f.logDetail = std::move(detail);
    f.userName = std::move(user);
    return f;
}

std::string apiLabel(Api api) {
    return api == Api::Email ? "Email API" : "SMS API";
}

std::string_view headerNamed(const http::Request& req) {
    for (auto name : kCredentialHeaders) {
        if (req.header(name)) return name;
    }
    return {};
}

}  // namespace

std::string_view errorCode(AuthFailureReason r) {
    switch (r) {
        case AuthFailureReason::CredentialsInHeader:
            return "auth.credentials_in_header";
        case AuthFailureReason::WrongParameterNames:
            return "auth.wrong_parameter_names";
        case AuthFailureReason::MissingCredentials:
            return "auth.missing_credentials";
        case AuthFailureReason::Whitespace:
            return "auth.whitespace";
        case AuthFailureReason::Failed:
            return "auth.failed";
        case AuthFailureReason::KeyExpired:
            return "auth.key_expired";
        case AuthFailureReason::SignatureInvalid:
            return "auth.signature_invalid";
        case AuthFailureReason::SignatureStale:
            return "auth.signature_stale";
        case AuthFailureReason::SignatureReplayed:
            return "auth.signature_replayed";
        case AuthFailureReason::ReplayCacheFull:
            return "auth.replay_cache_full";
        case AuthFailureReason::UserDisabled:
            return "auth.user_disabled";
        case AuthFailureReason::StoreUnavailable:
            return "store.unavailable";
    }
    return "auth.failed";
}

int httpStatus(AuthFailureReason r) {
    switch (r) {
        case AuthFailureReason::UserDisabled:
            return 403;
        case AuthFailureReason::StoreUnavailable:
        case AuthFailureReason::ReplayCacheFull:
            return 503;
        default:
            return 401;
    }
}

std::string_view CredentialVerifier::userParam(Api api) {
    return api == Api::Email ? "apiUser" : "smsUser";
}

std::string_view CredentialVerifier::keyParam(Api api) {
    return api == Api::Email ? "apiKey" : "smsKey";
}

CredentialVerifier::CredentialVerifier(store::CredentialStore& store, const KeyMaterial& keys,
                                       const Clock& clock, CredentialCacheOptions cacheOptions,
                                       ReplayCacheOptions replayOptions)
    : store_(store),
      keys_(keys),
      clock_(clock),
      dummyHash_(keys.hash("unknown-user-dummy-key")),
      cache_(clock, cacheOptions),
      replays_(clock, replayOptions) {}

namespace {

// Missing, empty or misplaced credentials: refused before any lookup. Kept apart so that the
// request path does not build these strings.
AuthFailure malformedCredentials(Api api, const http::ParamMap& params, const http::Request& req,
                                 const std::optional<std::string_view>& user,
                                 const std::optional<std::string_view>& key) {
    const Api other = api == Api::Email ? Api::Sms : Api::Email;
    const std::string userName(CredentialVerifier::userParam(api));
    const std::string keyName(CredentialVerifier::keyParam(api));
    const std::string otherUser(CredentialVerifier::userParam(other));
    const std::string otherKey(CredentialVerifier::keyParam(other));
    if (!user || !key) {
        if (params.has(otherUser) || params.has(otherKey)) {
            return failure(AuthFailureReason::WrongParameterNames,
                           "the " + apiLabel(api) + " reads its credentials from the parameters " +
                               userName + " and " + keyName + "; " + otherUser + "/" + otherKey +
                               " belong to the " + apiLabel(other),
                           "credentials sent under the " + apiLabel(other) + "'s parameter names",
                           "");
        }
        if (!user && !key) {
            if (auto header = headerNamed(req); !header.empty()) {
                return failure(AuthFailureReason::CredentialsInHeader,
                               "credentials in the " + std::string(header) +
                                   " header are not accepted; send " + userName + " and " +
                                   keyName + " as request parameters (query string or form body)",
                               "credentials in header " + std::string(header), "");
            }
        }
        std::string missing = !user && !key ? userName + " and " + keyName
                              : !user       ? userName
                                            : keyName;
        return failure(AuthFailureReason::MissingCredentials,
                       "the request has no " + missing + " parameter; the " + apiLabel(api) +
                           " needs " + userName + " and " + keyName,
                       "missing " + missing, "");
    }
    if (user->empty() || key->empty()) {
        std::string which = user->empty() ? userName : keyName;
        return failure(AuthFailureReason::MissingCredentials,
                       "the " + which + " parameter is empty", "empty " + which, "");
    }
    std::string which = hasOuterWhitespace(*user) ? userName : keyName;
    return failure(AuthFailureReason::Whitespace,
                   "the " + which +
                       " value starts or ends with whitespace; remove it (keys and user names "
                       "never contain spaces, and a '+' in a URL query must be sent as %2B)",
                   "whitespace around " + which, "");
}

AuthContext contextFor(const store::ApiUser& user, const std::string& keyFingerprint) {
    return AuthContext{user.accountId, user.id,     user.name,   user.kind,
                       keyFingerprint, user.policy, std::nullopt};
}

// A refusal of a user that exists: the audit log and the usage counters get its ids, and the
// fingerprint of the key the request used when it is one of the user's.
AuthFailure userFailure(AuthFailureReason reason, std::string hint, std::string detail,
                        std::string_view presentedName, const store::ApiUser& user,
                        std::string keyFingerprint = "") {
    AuthFailure f = failure(reason, std::move(hint), std::move(detail), std::string(presentedName));
    f.accountId = user.accountId;
    f.userId = user.id;
    f.keyFingerprint = std::move(keyFingerprint);
    return f;
}

AuthFailure storeUnavailable(const store::StoreError& e) {
    return failure(AuthFailureReason::StoreUnavailable,
                   "credentials could not be checked just now; retry shortly",
                   "store: " + e.message);
}

AuthFailure userDisabled(std::string_view userLabel, std::string_view presentedName,
                         const store::ApiUser& user, std::string keyFingerprint) {
    return userFailure(
        AuthFailureReason::UserDisabled,
        "this " + std::string(userLabel) + " is disabled; an account owner can enable it again",
        "user disabled", presentedName, user, std::move(keyFingerprint));
}

// auth.failed: an unknown user, the other API's user, or a key that is none of the user's. The
// caller gets one answer for all three; the log gets which.
AuthFailure notAuthenticated(Api api, std::string_view presentedName,
                             const std::optional<store::ApiUser>& record, bool kindMatches) {
    const std::string userName(CredentialVerifier::userParam(api));
    const std::string keyName(CredentialVerifier::keyParam(api));
    const Api other = api == Api::Email ? Api::Sms : Api::Email;
    std::string detail = !record        ? "unknown user"
                         : !kindMatches ? "user belongs to the " + apiLabel(other)
                                        : "wrong key";
    std::string hint = "check " + userName + " and " + keyName;
    if (api == Api::Sms) {
        hint += "; the SMS API takes an SMS_USER and its SMS_KEY, not an email API_USER";
    } else {
        hint += "; the Email API takes an API_USER and its API_KEY, not an SMS_USER";
    }
    if (!record)
        return failure(AuthFailureReason::Failed, hint, detail, std::string(presentedName));
    return userFailure(AuthFailureReason::Failed, hint, detail, presentedName, *record);
}

// auth.key_expired: a reset key after its grace period, told when it was reset and ended.
AuthFailure keyExpired(Api api, std::string_view presentedName, const store::ApiUser& user,
                       const store::RetiredKey& old) {
    std::string hint = "this " + std::string(CredentialVerifier::keyParam(api)) + " was reset at " +
                       formatIso8601(Clock::TimePoint(Clock::Duration(old.resetAtMs)));
    if (old.expiresAtMs > old.resetAtMs) {
        hint += "; its grace period ended at " +
                formatIso8601(Clock::TimePoint(Clock::Duration(old.expiresAtMs)));
    } else {
        hint += " and stopped working then";
    }
    hint += ". Use the new key";
    return userFailure(AuthFailureReason::KeyExpired, hint, "reset key used", presentedName, user,
                       old.keyFingerprint);
}

// A signed SMS request's own fields, checked before any lookup: present, without whitespace,
// and a signature of an algorithm's length.
Result<SignatureAlgorithm, AuthFailure> checkSignedFields(
    const std::optional<std::string_view>& user, const std::optional<std::string_view>& signature,
    const std::optional<std::string_view>& timestamp) {
    if (!user || user->empty() || !signature || !timestamp) {
        std::string missing = !user || user->empty() ? "smsUser"
                              : !signature           ? "signature"
                                                     : "timestamp";
        return fail(failure(AuthFailureReason::MissingCredentials,
                            "a signed SMS request needs smsUser, timestamp and signature; " +
                                missing + " is missing",
                            "signed request without " + missing));
    }
    if (hasOuterWhitespace(*user) || hasOuterWhitespace(*signature)) {
        return fail(failure(AuthFailureReason::Whitespace,
                            "smsUser and signature must not start or end with whitespace",
                            "whitespace in signed request"));
    }
    const auto algorithm = signatureAlgorithmFor(*signature);
    if (!algorithm) {
        return fail(failure(AuthFailureReason::SignatureInvalid,
                            "signature must be 32 hex characters (MD5) or 64 (SHA-256)",
                            "signature of a wrong length", std::string(*user)));
    }
    return *algorithm;
}

// Whether `presented` (lower case) is the signature of `signedParams` under the SMS user's key.
// Unknown users (smsUser null) are checked against a dummy key, so they cost what a real user
// costs.
bool signatureMatches(const KeyMaterial& keys, const store::ApiUser* smsUser,
                      const std::string& presented,
                      const std::vector<std::pair<std::string, std::string>>& signedParams,
                      SignatureAlgorithm algorithm) {
    std::optional<std::string> key = smsUser ? keys.open(smsUser->keyCipher) : std::nullopt;
    std::string expected =
        computeSmsSignature(key ? *key : std::string(kKeyLength, 'x'), signedParams, algorithm);
    const bool opened = key.has_value();
    if (key) std::fill(key->begin(), key->end(), '\0');
    return KeyMaterial::hashesEqual(presented, expected) && smsUser && opened;
}

AuthFailure signatureMismatch(std::string_view presentedName,
                              const std::optional<store::ApiUser>& record, bool usable) {
    std::string hint =
        "the signature does not match: sign every parameter except smsKey and signature, sorted "
        "by name, joined raw as k=v&k=v, wrapped as SMS_KEY&...&SMS_KEY, with MD5 or SHA-256";
    std::string detail = !record ? "unknown user" : !usable ? "not an SMS user" : "wrong signature";
    if (!record) {
        return failure(AuthFailureReason::SignatureInvalid, hint, detail,
                       std::string(presentedName));
    }
    return userFailure(AuthFailureReason::SignatureInvalid, hint, detail, presentedName, *record);
}

AuthFailure signatureStale(std::string_view presentedName, const store::ApiUser& user,
                           std::chrono::milliseconds window, const Clock& clock) {
    return userFailure(AuthFailureReason::SignatureStale,
                       "timestamp must be the current time in seconds or milliseconds, within " +
                           std::to_string(window.count() / 1000) + " s of the server's clock (" +
                           formatIso8601(clock.now()) + ")",
                       "stale timestamp", presentedName, user, user.keyFingerprint);
}

AuthFailure signatureNotAdmitted(SignatureReplayCache::Admit admitted,
                                 std::string_view presentedName, const store::ApiUser& user) {
    if (admitted == SignatureReplayCache::Admit::Replay) {
        return userFailure(AuthFailureReason::SignatureReplayed,
                           "this signed request was accepted already; each signature is "
                           "accepted once: sign a new request with the current timestamp",
                           "signature replayed", presentedName, user, user.keyFingerprint);
    }
    return userFailure(AuthFailureReason::ReplayCacheFull,
                       "too many signed requests in the last two minutes to check this one for "
                       "a replay; retry shortly, or send smsKey instead",
                       "replay cache full", presentedName, user, user.keyFingerprint);
}

}  // namespace

Result<AuthContext, AuthFailure> CredentialVerifier::verify(Api api, const http::ParamMap& params,
                                                            const http::Request& req) const {
    const auto user = params.get(userParam(api));
    const auto key = params.get(keyParam(api));
    if (!user || !key || user->empty() || key->empty() || hasOuterWhitespace(*user) ||
        hasOuterWhitespace(*key)) {
        return fail(malformedCredentials(api, params, req, user, key));
    }
    const store::UserKind kind = api == Api::Email ? store::UserKind::Email : store::UserKind::Sms;

    // Read before the cache and the store: a change committed after this read moves the version
    // past it, so neither a cached entry nor what the store answers below can outlive it.
    const std::optional<uint64_t> version = store_.credentialVersion();
    std::optional<CredentialCache::KeyTag> tag;
    if (version) {
        tag = cache_.tagOf(*key);
        const auto cached = cache_.find(*user, *version, *tag);
        if (cached && cached->kind == kind && !cached->disabled) {
            return contextFor(*cached, cached->keyFingerprint);
        }
    }
    auto match = matchKey(kind, *user, *key);
    if (!match) return fail(storeUnavailable(match.error()));
    auto& [record, kindMatches, currentKey, old] = match.value();
    const bool graceKey =
        kindMatches && !currentKey && old && clock_.nowMillis() < old->expiresAtMs;

    if (!kindMatches || (!currentKey && !old)) {
        return fail(notAuthenticated(api, *user, record, kindMatches));
    }
    if (!currentKey && !graceKey) return fail(keyExpired(api, *user, *record, *old));
    const std::string& fingerprint = currentKey ? record->keyFingerprint : old->keyFingerprint;
    if (record->disabled) {
        return fail(
            userDisabled(api == Api::Email ? "API_USER" : "SMS_USER", *user, *record, fingerprint));
    }
    AuthContext ctx = contextFor(*record, fingerprint);
    if (graceKey) {
        ctx.keySunsetAtMs = old->expiresAtMs;
    } else if (version) {
        // Only the current key is ever answered from the cache; a grace key keeps needing the
        // store read for its retired key and Sunset.
        cache_.insert(std::make_shared<const store::ApiUser>(std::move(*record)), *tag, *version);
    }
    return ctx;
}

Result<CredentialVerifier::KeyMatch, store::StoreError> CredentialVerifier::matchKey(
    store::UserKind kind, std::string_view user, std::string_view key) const {
    const KeyHash presented = keys_.hashBytes(key);
    // Unknown users, users of the other API and wrong keys all pay for the same work: one read
    // (the user and the retired key with the presented hash, probed whether or not the user
    // exists), one HMAC and one constant-time comparison, so timing does not tell them apart.
    auto found = store_.findUserAndRetiredKey(user, view(presented));
    if (!found) return fail(found.error());
    KeyMatch m;
    m.record = std::move(found.value().user);
    m.kindMatches = m.record && m.record->kind == kind;
    const std::string& expected = m.kindMatches ? m.record->keyHash : dummyHash_;
    m.currentKey = KeyMaterial::hashesEqual(view(presented), expected);
    // A retired key means something only for the right API's user whose current key did not
    // match; elsewhere it is ignored, so that the rules below see what they always saw.
    if (m.kindMatches && !m.currentKey) m.retiredKey = std::move(found.value().retiredKey);
    return m;
}

Result<AuthContext, AuthFailure> CredentialVerifier::verifySignedSms(
    const http::ParamMap& params,
    const std::vector<std::pair<std::string, std::string>>& signedParams,
    std::chrono::milliseconds window) const {
    const auto user = params.get("smsUser");
    const auto signature = params.get("signature");
    const auto timestamp = params.get("timestamp");
    const auto algorithm = checkSignedFields(user, signature, timestamp);
    if (!algorithm) return fail(algorithm.error());
    const auto found = store_.findUser(*user);
    if (!found) return fail(storeUnavailable(found.error()));
    const auto& record = found.value();
    const bool usable = record && record->kind == store::UserKind::Sms;
    std::string presented(*signature);
    for (auto& c : presented) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!signatureMatches(keys_, usable ? &*record : nullptr, presented, signedParams,
                          *algorithm)) {
        return fail(signatureMismatch(*user, record, usable));
    }
    const auto ts = timestampMillis(*timestamp);
    const int64_t now = clock_.nowMillis();
    if (!ts || *ts < now - window.count() || *ts > now + window.count()) {
        return fail(signatureStale(*user, *record, window, clock_));
    }
    if (record->disabled) {
        return fail(userDisabled("SMS_USER", *user, *record, record->keyFingerprint));
    }
    // Last, so that only a request otherwise accepted uses its signature up. The entry lives
    // as long as the timestamp passes the check above.
    const auto admitted = replays_.admit(record->name, presented, *ts + window.count());
    if (admitted != SignatureReplayCache::Admit::First) {
        return fail(signatureNotAdmitted(admitted, *user, *record));
    }
    return contextFor(*record, record->keyFingerprint);
}

}  // namespace sc::auth
