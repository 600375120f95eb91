#include "api/admission.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "auth/credential_issuer.h"
#include "policy/cidr.h"

namespace sc::api {

namespace {

// A presented user name goes into the log only when it could be one: a caller who swapped
// apiUser and apiKey must not get their key written to our logs.
std::string loggableUser(const std::string& presented) {
    return auth::isValidUserName(presented) ? presented : std::string("-");
}

store::AuthApi authApiOf(auth::Api api) {
    return api == auth::Api::Email ? store::AuthApi::Email : store::AuthApi::Sms;
}

// A refusal in the route's shape; `user` names the caller in the access log ("-": unknown).
http::Response refusal(const ApiError& error, ResponseShape shape, const std::string& user) {
    http::Response r = errorResponse(error, shape);
    r.logUser = user == "-" ? "" : user;
    return r;
}

// " (N ...)" after a throttled log line when N lines were left out before it, else nothing.
std::string omittedNote(uint64_t omitted, std::string_view what) {
    return omitted == 0 ? std::string() : fmt::format(" ({} {})", omitted, what);
}

}  // namespace

// One request on its way through the steps, and its row in the authentication log, filled in
// as the steps learn who is calling.
struct Admission::Attempt {
    const SendRoute& route;
    const http::Request& req;
    auth::Api api;
    int64_t now;
    store::AuthEvent event;
};

struct Admission::Parsed {
    http::FormData form;
    // SendCloud's signed SMS: the parameters as sent, before any alias is renamed, which is
    // what the signature covers.
    std::optional<std::vector<std::pair<std::string, std::string>>> signedParams;
};

void markAdmitted(const std::string& userName, std::optional<int64_t> keySunsetAtMs,
                  http::Response& resp) {
    resp.logUser = userName;
    if (keySunsetAtMs) {
        resp.headers.push_back(
            {"sunset", formatHttpDate(Clock::TimePoint(Clock::Duration(*keySunsetAtMs)))});
    }
}

Admission::Admission(AdmissionDeps deps, http::ParseLimits parse,
                     uint32_t authFailureLogLinesPerSecond)
    : deps_(deps),
      parse_(parse),
      failureLog_(deps.clock, authFailureLogLinesPerSecond),
      lockedLog_(deps.clock, 1) {}

Result<Admitted, http::Response> Admission::admit(const SendRoute& route,
                                                  const http::Request& req) const {
    const auth::Api api = route.endpoint == Endpoint::SmsSend ? auth::Api::Sms : auth::Api::Email;
    Attempt at{route, req, api, deps_.clock.nowMillis(), {}};
    at.event.atMs = at.now;
    at.event.api = authApiOf(api);
    at.event.clientIp = req.clientIp;
    at.event.userAgent = req.header("user-agent").value_or("").substr(0, 256);

    auto parsed = parseParams(at);
    if (!parsed) return fail(std::move(parsed).error());
    if (auto locked = refuseLockedAddress(at)) return fail(std::move(*locked));
    auto verified = verify(at, *parsed);
    if (!verified) return fail(refuseFailure(at, verified.error()));

    Admitted admitted{std::move(parsed->form), std::move(verified).value(), route};
    const auth::AuthContext& ctx = admitted.ctx;
    at.event.userName = ctx.userName;
    at.event.accountId = ctx.accountId;
    at.event.userId = ctx.userId;
    at.event.keyFingerprint = ctx.keyFingerprint;
    if (auto refused = refuseByPolicy(at, admitted)) return fail(std::move(*refused));
    at.event.outcome = store::AuthOutcome::Success;
    deps_.audit.record(std::move(at.event));
    return admitted;
}

Result<Admission::Parsed, http::Response> Admission::parseParams(const Attempt& at) const {
    auto parsed = http::parseRequestParams(at.req, parse_);
    if (!parsed) {
        const auto& e = parsed.error();
        return fail(refusal(ApiError{e.status, e.code, e.message, {}}, at.route.shape, ""));
    }
    Parsed p{std::move(parsed).value(), std::nullopt};
    if (at.api == auth::Api::Sms && !p.form.params.get("signature").value_or("").empty()) {
        auto& asSent = p.signedParams.emplace();
        for (const auto& param : p.form.params.items())
            asSent.emplace_back(param.name, param.value);
    }
    if (auto r = normalizeParams(p.form, at.route.endpoint); !r) {
        return fail(refusal(r.error(), at.route.shape, ""));
    }
    return p;
}

std::optional<http::Response> Admission::refuseLockedAddress(const Attempt& at) const {
    auto until = deps_.lockout.ipLockedUntil(at.req.clientIp);
    if (!until) return std::nullopt;
    // Not written to the authentication log: the failures that locked the address are there
    // already, and a locked client sending at full speed would otherwise add rows at its
    // request rate. A throttled log line counts them instead.
    if (const auto line = lockedLog_.admit(); line.write) {
        spdlog::info("refused a request from a locked address: api={} ip={}{}",
                     store::authApiName(at.event.api), at.req.clientIp,
                     omittedNote(line.omitted, "more refused since the last such line"));
    }
    return refusal(ApiError{429,
                            "auth.too_many_failures",
                            "too many failed authentications from this address; retry after the "
                            "lock ends",
                            {retryAfter(*until - at.now)}},
                   at.route.shape, "");
}

Result<auth::AuthContext, auth::AuthFailure> Admission::verify(const Attempt& at,
                                                               const Parsed& parsed) const {
    if (parsed.signedParams) {
        return deps_.verifier.verifySignedSms(parsed.form.params, *parsed.signedParams);
    }
    return deps_.verifier.verify(at.api, parsed.form.params, at.req);
}

http::Response Admission::refuseFailure(Attempt& at, const auth::AuthFailure& failure) const {
    const std::string user = loggableUser(failure.userName);
    at.event.userName = user;
    at.event.accountId = failure.accountId;
    at.event.userId = failure.userId;
    at.event.keyFingerprint = failure.keyFingerprint;
    at.event.outcome = store::AuthOutcome::Failure;
    at.event.reason = std::string(errorCode(failure.reason));
    ApiError error = countTowardsLockout(at, failure, user);
    logFailure(at, failure, user, error);
    deps_.audit.record(at.event);
    deps_.audit.countUsage(failure.userId, failure.accountId, user,
                           {.requests = 1, .authFailures = 1});
    return refusal(error, at.route.shape, user);
}

ApiError Admission::countTowardsLockout(Attempt& at, const auth::AuthFailure& failure,
                                        const std::string& user) const {
    ApiError error{
        httpStatus(failure.reason), std::string(errorCode(failure.reason)), failure.hint, {}};
    // Only what could be a guess counts: a request malformed in its credentials is not one.
    const bool guess = failure.reason == auth::AuthFailureReason::Failed ||
                       failure.reason == auth::AuthFailureReason::KeyExpired ||
                       failure.reason == auth::AuthFailureReason::SignatureInvalid;
    if (!guess) return error;
    deps_.lockout.recordFailure(at.req.clientIp, user == "-" ? "" : user);
    auto ipUntil = deps_.lockout.ipLockedUntil(at.req.clientIp);
    auto userUntil = user == "-" ? std::nullopt : deps_.lockout.userLockedUntil(user);
    if (!ipUntil && !userUntil) return error;
    const int64_t until = std::max(ipUntil.value_or(0), userUntil.value_or(0));
    at.event.outcome = store::AuthOutcome::Locked;
    return ApiError{429,
                    "auth.too_many_failures",
                    "too many failed authentications for this " +
                        std::string(ipUntil ? "address" : "user") + "; retry after the lock ends",
                    {retryAfter(until - at.now)}};
}

void Admission::logFailure(const Attempt& at, const auth::AuthFailure& failure,
                           const std::string& user, const ApiError& answer) const {
    const auto line = failureLog_.admit();
    if (!line.write) return;
    spdlog::info("auth failure api={} user={} code={} reason=\"{}\" ip={}{}",
                 store::authApiName(at.event.api), user, answer.code, failure.logDetail,
                 at.req.clientIp,
                 omittedNote(line.omitted,
                             "earlier failures not logged here; all are in the authentication "
                             "log"));
}

std::optional<http::Response> Admission::refuseByPolicy(Attempt& at,
                                                        const Admitted& admitted) const {
    const auth::AuthContext& ctx = admitted.ctx;
    if (!policy::ipAllowed(ctx.policy.ipAllowlist, at.req.clientIp)) {
        return refuseAuthenticated(
            at, admitted,
            ApiError{403,
                     "auth.ip_not_allowed",
                     "requests for this API user are accepted only from its IP allowlist; " +
                         at.req.clientIp + " is not on it",
                     {}},
            store::AuthOutcome::Forbidden, {.requests = 1});
    }
    if (int64_t wait = deps_.rateLimiter.tryAcquire(ctx.userId, ctx.policy.rateLimitPerMinute)) {
        return refuseAuthenticated(
            at, admitted,
            ApiError{429,
                     "limit.rate_exceeded",
                     "this API user may make " + std::to_string(ctx.policy.rateLimitPerMinute) +
                         " requests a minute; retry after the Retry-After seconds",
                     {retryAfter(wait)}},
            store::AuthOutcome::RateLimited, {.requests = 1, .rateLimited = 1});
    }
    return std::nullopt;
}

http::Response Admission::refuseAuthenticated(Attempt& at, const Admitted& admitted, ApiError error,
                                              store::AuthOutcome outcome,
                                              audit::UsageIncrement inc) const {
    const auth::AuthContext& ctx = admitted.ctx;
    at.event.outcome = outcome;
    at.event.reason = error.code;
    deps_.audit.record(at.event);
    deps_.audit.countUsage(ctx.userId, ctx.accountId, ctx.userName, inc);
    http::Response r = refusal(error, at.route.shape, ctx.userName);
    markAdmitted(ctx, r);
    return r;
}

}  // namespace sc::api
