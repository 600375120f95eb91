#include "auth/credential_verifier.h"

#include <array>
#include <cctype>

namespace sc::auth {

namespace {

constexpr std::array<std::string_view, 9> kCredentialHeaders = {
    "authorization", "x-api-key",  "x-api-user", "x-apikey",   "api-key",
    "x-sms-key",     "x-sms-user", "x-auth-token", "proxy-authorization"};

bool hasOuterWhitespace(std::string_view v) {
    if (v.empty()) return false;
    auto isSpace = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
    return isSpace(v.front()) || isSpace(v.back());
}

std::string apiLabel(Api api) { return api == Api::Email ? "Email API" : "SMS API"; }

std::string_view headerNamed(const http::Request& req) {
    for (auto name : kCredentialHeaders) {
        if (req.header(name)) return name;
    }
    return {};
}

}  // namespace

std::string_view errorCode(AuthFailureReason r) {
    switch (r) {
        case AuthFailureReason::CredentialsInHeader: return "auth.credentials_in_header";
        case AuthFailureReason::WrongParameterNames: return "auth.wrong_parameter_names";
        case AuthFailureReason::MissingCredentials: return "auth.missing_credentials";
        case AuthFailureReason::Whitespace: return "auth.whitespace";
        case AuthFailureReason::Failed: return "auth.failed";
        case AuthFailureReason::UserDisabled: return "auth.user_disabled";
    }
    return "auth.failed";
}

int httpStatus(AuthFailureReason r) { return r == AuthFailureReason::UserDisabled ? 403 : 401; }

std::string_view CredentialVerifier::userParam(Api api) {
    return api == Api::Email ? "apiUser" : "smsUser";
}

std::string_view CredentialVerifier::keyParam(Api api) {
    return api == Api::Email ? "apiKey" : "smsKey";
}

CredentialVerifier::CredentialVerifier(store::CredentialStore& store, const KeyMaterial& keys)
    : store_(store), keys_(keys), dummyHash_(keys.hash("unknown-user-dummy-key")) {}

Result<AuthContext, AuthFailure> CredentialVerifier::verify(Api api, const http::ParamMap& params,
                                                            const http::Request& req) const {
    const Api other = api == Api::Email ? Api::Sms : Api::Email;
    const std::string userName(userParam(api)), keyName(keyParam(api));
    const std::string otherUser(userParam(other)), otherKey(keyParam(other));
    const auto user = params.get(userName);
    const auto key = params.get(keyName);

    if (!user || !key) {
        if (params.has(otherUser) || params.has(otherKey)) {
            return fail(AuthFailure{
                AuthFailureReason::WrongParameterNames,
                "the " + apiLabel(api) + " reads its credentials from the parameters " + userName +
                    " and " + keyName + "; " + otherUser + "/" + otherKey + " belong to the " +
                    apiLabel(other),
                "credentials sent under the " + apiLabel(other) + "'s parameter names", ""});
        }
        if (!user && !key) {
            if (auto header = headerNamed(req); !header.empty()) {
                return fail(AuthFailure{
                    AuthFailureReason::CredentialsInHeader,
                    "credentials in the " + std::string(header) +
                        " header are not accepted; send " + userName + " and " + keyName +
                        " as request parameters (query string or form body)",
                    "credentials in header " + std::string(header), ""});
            }
        }
        std::string missing = !user && !key ? userName + " and " + keyName
                              : !user       ? userName
                                            : keyName;
        return fail(AuthFailure{AuthFailureReason::MissingCredentials,
                                "the request has no " + missing + " parameter; the " +
                                    apiLabel(api) + " needs " + userName + " and " + keyName,
                                "missing " + missing, ""});
    }

    if (user->empty() || key->empty()) {
        std::string which = user->empty() ? userName : keyName;
        return fail(AuthFailure{AuthFailureReason::MissingCredentials,
                                "the " + which + " parameter is empty", "empty " + which, ""});
    }
    if (hasOuterWhitespace(*user) || hasOuterWhitespace(*key)) {
        std::string which = hasOuterWhitespace(*user) ? userName : keyName;
        return fail(AuthFailure{
            AuthFailureReason::Whitespace,
            "the " + which +
                " value starts or ends with whitespace; remove it (keys and user names never "
                "contain spaces, and a '+' in a URL query must be sent as %2B)",
            "whitespace around " + which, ""});
    }

    // Unknown users, users of the other API and wrong keys all pay for one lookup, one HMAC
    // and one constant-time comparison, so timing does not tell them apart.
    const auto record = store_.findUser(*user);
    const std::string presented = keys_.hash(*key);
    const bool kindMatches =
        record && record->kind == (api == Api::Email ? store::UserKind::Email
                                                     : store::UserKind::Sms);
    const std::string& expected = kindMatches ? record->keyHash : dummyHash_;
    const bool keyMatches = KeyMaterial::hashesEqual(presented, expected);

    if (!record || !kindMatches || !keyMatches) {
        std::string detail = !record         ? "unknown user"
                             : !kindMatches ? "user belongs to the " + apiLabel(other)
                                            : "wrong key";
        std::string hint = "check " + userName + " and " + keyName;
        if (api == Api::Sms) {
            hint += "; the SMS API takes an SMS_USER and its SMS_KEY, not an email API_USER";
        } else {
            hint += "; the Email API takes an API_USER and its API_KEY, not an SMS_USER";
        }
        return fail(AuthFailure{AuthFailureReason::Failed, hint, detail, std::string(*user)});
    }
    if (record->disabled) {
        return fail(AuthFailure{AuthFailureReason::UserDisabled,
                                "this " + std::string(api == Api::Email ? "API_USER" : "SMS_USER") +
                                    " is disabled; an account owner can enable it again",
                                "user disabled", std::string(*user)});
    }
    return AuthContext{record->accountId, record->id, record->name, record->kind,
                       record->keyFingerprint};
}

}  // namespace sc::auth
