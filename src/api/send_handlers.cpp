#include "api/send_handlers.h"

#include <spdlog/spdlog.h>
#include <strings.h>

#include "api/send_validation.h"
#include "auth/credential_issuer.h"
#include "policy/cidr.h"

namespace sc::api {

namespace {

ApiError fromParseError(const http::ParseError& e) {
    return ApiError{e.status, e.code, e.message, {}};
}

Result<http::FormData, ApiError> readParams(const http::Request& req,
                                            const http::ParseLimits& limits) {
    auto form = http::parseRequestParams(req, limits);
    if (!form) return fail(fromParseError(form.error()));
    if (auto dup = form->params.firstConflict()) {
        return fail(ApiError{400,
                             "param.duplicate",
                             "the parameter '" + *dup +
                                 "' was given more than once with different values; send it once",
                             {}});
    }
    return std::move(form).value();
}

// A presented user name goes into the log only when it could be one: a caller who swapped
// apiUser and apiKey must not get their key written to our logs.
std::string loggableUser(const std::string& presented) {
    return auth::isValidUserName(presented) ? presented : std::string("-");
}

std::string apiName(auth::Api api) {
    return api == auth::Api::Email ? "email" : "sms";
}

using audit::UsageIncrement;

std::string retryAfterSeconds(int64_t ms) {
    return std::to_string(std::max<int64_t>(1, (ms + 999) / 1000));
}

const ApiError kStoreUnavailable{503,
                                 "store.unavailable",
                                 "the message was not accepted because the queue could not be "
                                 "written; it is safe to retry",
                                 {{"retry-after", "1"}}};

bool senderAllowed(const std::vector<std::string>& domains, std::string_view fromDomain) {
    if (domains.empty()) return true;
    for (const auto& d : domains) {
        if (d.size() == fromDomain.size() &&
            strncasecmp(d.data(), fromDomain.data(), d.size()) == 0) {
            return true;
        }
    }
    return false;
}

}  // namespace

// What admit() learned about a request that may go on to its content checks.
struct SendApi::Admission {
    http::FormData form;
    auth::AuthContext ctx;
    std::string userAgent;
};

http::Response routerError(int status, std::string code, std::string hint) {
    return errorResponse(ApiError{status, std::move(code), std::move(hint), {}});
}

SendApi::SendApi(SendApiDeps deps, SendLimits limits) : deps_(deps), limits_(limits) {}

void SendApi::registerRoutes(http::Router& router) {
    using http::Method;
    auto email = [this](const http::Request& r, http::Responder p) { sendEmail(r, std::move(p)); };
    auto sms = [this](const http::Request& r, http::Responder p) { sendSms(r, std::move(p)); };
    router.add({Method::Get, Method::Post}, "/email/send", email);
    router.add({Method::Get, Method::Post}, "/smsapi/send", sms);
    router.add({Method::Get}, "/healthz",
               [this](const http::Request& r, http::Responder p) { healthz(r, std::move(p)); });
    router.add({Method::Get}, "/readyz",
               [this](const http::Request& r, http::Responder p) { readyz(r, std::move(p)); });
}

Result<SendApi::Admission, http::Response> SendApi::admit(auth::Api api,
                                                          const http::Request& req) const {
    const int64_t now = deps_.clock.nowMillis();
    store::AuthEvent event;
    event.atMs = now;
    event.api = apiName(api);
    event.clientIp = req.clientIp;
    event.userAgent = std::string(req.header("user-agent").value_or("")).substr(0, 256);

    auto refuse = [&](ApiError error, const std::string& user) {
        http::Response r = errorResponse(error);
        r.logUser = user == "-" ? "" : user;
        return r;
    };

    auto form = readParams(req, limits_.parse);
    if (!form) return fail(refuse(form.error(), ""));

    if (auto until = deps_.lockout.ipLockedUntil(req.clientIp)) {
        event.userName = loggableUser(
            std::string(form->params.get(auth::CredentialVerifier::userParam(api)).value_or("")));
        event.outcome = "locked";
        event.reason = "auth.too_many_failures";
        deps_.audit.record(event);
        return fail(refuse(ApiError{429,
                                    "auth.too_many_failures",
                                    "too many failed authentications from this address; retry "
                                    "after the lock ends",
                                    {{"retry-after", retryAfterSeconds(*until - now)}}},
                           event.userName));
    }

    auto verified = deps_.verifier.verify(api, form->params, req);
    if (!verified) {
        const auto& f = verified.error();
        const std::string user = loggableUser(f.userName);
        event.userName = user;
        event.accountId = f.accountId;
        event.userId = f.userId;
        event.keyFingerprint = f.keyFingerprint;
        event.outcome = "failure";
        event.reason = std::string(errorCode(f.reason));
        ApiError error{httpStatus(f.reason), std::string(errorCode(f.reason)), f.hint, {}};
        const bool guess = f.reason == auth::AuthFailureReason::Failed ||
                           f.reason == auth::AuthFailureReason::KeyExpired;
        if (guess) {
            deps_.lockout.recordFailure(req.clientIp, user == "-" ? "" : user);
            auto ipUntil = deps_.lockout.ipLockedUntil(req.clientIp);
            auto userUntil = user == "-" ? std::nullopt : deps_.lockout.userLockedUntil(user);
            if (ipUntil || userUntil) {
                int64_t until = std::max(ipUntil.value_or(0), userUntil.value_or(0));
                event.outcome = "locked";
                error = ApiError{429,
                                 "auth.too_many_failures",
                                 "too many failed authentications for this " +
                                     std::string(ipUntil ? "address" : "user") +
                                     "; retry after the lock ends",
                                 {{"retry-after", retryAfterSeconds(until - now)}}};
            }
        }
        spdlog::info("auth failure api={} user={} code={} reason=\"{}\" ip={}", event.api, user,
                     error.code, f.logDetail, req.clientIp);
        deps_.audit.record(event);
        deps_.audit.countUsage(f.userId, f.accountId, user, {1, 0, 1, 0});
        return fail(refuse(std::move(error), user));
    }

    Admission a{std::move(form).value(), std::move(verified).value(), event.userAgent};
    const auto& ctx = a.ctx;
    event.userName = ctx.userName;
    event.accountId = ctx.accountId;
    event.userId = ctx.userId;
    event.keyFingerprint = ctx.keyFingerprint;

    auto refuseAuthenticated = [&](ApiError error, const char* outcome, UsageIncrement inc) {
        event.outcome = outcome;
        event.reason = error.code;
        deps_.audit.record(event);
        deps_.audit.countUsage(ctx.userId, ctx.accountId, ctx.userName, inc);
        http::Response r = refuse(std::move(error), ctx.userName);
        finish(a, r);
        return r;
    };

    if (!policy::ipAllowed(ctx.policy.ipAllowlist, req.clientIp)) {
        return fail(refuseAuthenticated(
            ApiError{403,
                     "auth.ip_not_allowed",
                     "requests for this API user are accepted only from its IP allowlist; " +
                         req.clientIp + " is not on it",
                     {}},
            "forbidden", {1, 0, 0, 0}));
    }
    if (int64_t wait = deps_.rateLimiter.tryAcquire(ctx.userId, ctx.policy.rateLimitPerMinute)) {
        return fail(refuseAuthenticated(
            ApiError{429,
                     "limit.rate_exceeded",
                     "this API user may make " + std::to_string(ctx.policy.rateLimitPerMinute) +
                         " requests a minute; retry after the Retry-After seconds",
                     {{"retry-after", retryAfterSeconds(wait)}}},
            "rate_limited", {1, 0, 0, 1}));
    }
    event.outcome = "success";
    deps_.audit.record(event);
    return a;
}

void SendApi::finish(const Admission& a, http::Response& resp) const {
    resp.logUser = a.ctx.userName;
    if (a.ctx.keySunsetAtMs) {
        resp.headers.push_back(
            {"sunset", formatHttpDate(Clock::TimePoint(Clock::Duration(*a.ctx.keySunsetAtMs)))});
    }
}

void SendApi::sendEmail(const http::Request& req, http::Responder reply) const {
    auto admitted = admit(auth::Api::Email, req);
    if (!admitted) return reply(std::move(admitted).error());
    auto a = std::make_shared<Admission>(std::move(admitted).value());
    const auth::AuthContext& ctx = a->ctx;
    auto answer = [this, a, reply](http::Response r) {
        finish(*a, r);
        reply(std::move(r));
    };

    auto email =
        validateEmail(a->form, EmailLimits{limits_.maxRecipients, limits_.maxContentBytes});
    if (!email) {
        deps_.audit.countUsage(ctx.userId, ctx.accountId, ctx.userName, {1, 0, 0, 0});
        return answer(errorResponse(email.error()));
    }
    if (!senderAllowed(ctx.policy.senderDomains, email->from.domain())) {
        deps_.audit.countUsage(ctx.userId, ctx.accountId, ctx.userName, {1, 0, 0, 0});
        return answer(
            errorResponse(ApiError{403,
                                   "auth.sender_not_allowed",
                                   "this API user may send only from its sender domains; " +
                                       std::string(email->from.domain()) + " is not one of them",
                                   {}}));
    }
    const int64_t count =
        static_cast<int64_t>(email->to.size() + email->cc.size() + email->bcc.size());
    if (!deps_.quota.tryReserve(ctx.userId, ctx.policy.dailyQuota, count)) {
        deps_.audit.countUsage(ctx.userId, ctx.accountId, ctx.userName, {1, 0, 0, 1});
        return answer(errorResponse(
            ApiError{429,
                     "limit.daily_quota_exceeded",
                     "this API user's daily quota of " + std::to_string(ctx.policy.dailyQuota) +
                         " recipients (UTC day) would be exceeded by this request's " +
                         std::to_string(count),
                     {{"retry-after",
                       retryAfterSeconds(policy::DailyQuota::dayStart(deps_.clock.nowMillis()) +
                                         86400000 - deps_.clock.nowMillis())}}}));
    }

    store::NewMessage msg;
    msg.messageId = deps_.ids.nextMessageId();
    msg.kind = store::UserKind::Email;
    msg.accountId = ctx.accountId;
    msg.apiUserId = ctx.userId;
    msg.apiUserName = ctx.userName;
    msg.createdAtMs = deps_.clock.nowMillis();
    msg.testMode = ctx.policy.testMode;
    msg.contentJson =
        email->contentJson().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    msg.attachments = std::move(email->attachments);
    nlohmann::json idList = nlohmann::json::array();
    size_t index = 0;
    for (auto [role, list] : {std::pair{"to", &email->to}, std::pair{"cc", &email->cc},
                              std::pair{"bcc", &email->bcc}}) {
        for (const auto& addr : *list) {
            std::string id = IdGenerator::recipientId(msg.messageId, index++, addr.address);
            idList.push_back(id);
            msg.recipients.push_back({std::move(id), addr.address, role});
        }
    }

    deps_.messages.enqueue(std::move(msg), [this, a, answer, count, idList = std::move(idList)](
                                               Result<Ok, store::StoreError> r) {
        const auth::AuthContext& c = a->ctx;
        if (!r) {
            spdlog::error("enqueue failed for user={}: {}", c.userName, r.error().message);
            deps_.quota.release(c.userId, count);
            deps_.audit.countUsage(c.userId, c.accountId, c.userName, {1, 0, 0, 0});
            return answer(errorResponse(kStoreUnavailable));
        }
        deps_.audit.countUsage(c.userId, c.accountId, c.userName, {1, count, 0, 0});
        answer(successResponse({{"emailIdList", idList}}));
    });
}

void SendApi::sendSms(const http::Request& req, http::Responder reply) const {
    auto admitted = admit(auth::Api::Sms, req);
    if (!admitted) return reply(std::move(admitted).error());
    auto a = std::make_shared<Admission>(std::move(admitted).value());
    const auth::AuthContext& ctx = a->ctx;
    auto answer = [this, a, reply](http::Response r) {
        finish(*a, r);
        reply(std::move(r));
    };

    auto sms = validateSms(a->form, deps_.phones, limits_.maxRecipients, limits_.maxSmsCharacters);
    if (!sms) {
        deps_.audit.countUsage(ctx.userId, ctx.accountId, ctx.userName, {1, 0, 0, 0});
        return answer(errorResponse(sms.error()));
    }
    const int64_t count = static_cast<int64_t>(sms->to.size());
    if (!deps_.quota.tryReserve(ctx.userId, ctx.policy.dailyQuota, count)) {
        deps_.audit.countUsage(ctx.userId, ctx.accountId, ctx.userName, {1, 0, 0, 1});
        return answer(errorResponse(
            ApiError{429,
                     "limit.daily_quota_exceeded",
                     "this SMS_USER's daily quota of " + std::to_string(ctx.policy.dailyQuota) +
                         " recipients (UTC day) would be exceeded by this request's " +
                         std::to_string(count),
                     {{"retry-after",
                       retryAfterSeconds(policy::DailyQuota::dayStart(deps_.clock.nowMillis()) +
                                         86400000 - deps_.clock.nowMillis())}}}));
    }

    store::NewMessage msg;
    msg.messageId = deps_.ids.nextMessageId();
    msg.kind = store::UserKind::Sms;
    msg.accountId = ctx.accountId;
    msg.apiUserId = ctx.userId;
    msg.apiUserName = ctx.userName;
    msg.createdAtMs = deps_.clock.nowMillis();
    msg.testMode = ctx.policy.testMode;
    msg.contentJson = nlohmann::json{
        {"message", sms->message},
        {"segments", sms->segments.segments},
        {"encoding",
         sms->segments.encoding == domain::SmsEncoding::Gsm7
             ? "gsm7"
             : "ucs2"}}.dump();
    nlohmann::json ids = nlohmann::json::array();
    for (size_t i = 0; i < sms->to.size(); ++i) {
        std::string id = IdGenerator::recipientId(msg.messageId, i, sms->to[i]);
        ids.push_back(id);
        msg.recipients.push_back({std::move(id), sms->to[i], "to"});
    }
    const size_t segments = sms->segments.segments;

    deps_.messages.enqueue(std::move(msg), [this, a, answer, count, segments,
                                            ids = std::move(ids)](Result<Ok, store::StoreError> r) {
        const auth::AuthContext& c = a->ctx;
        if (!r) {
            spdlog::error("enqueue failed for user={}: {}", c.userName, r.error().message);
            deps_.quota.release(c.userId, count);
            deps_.audit.countUsage(c.userId, c.accountId, c.userName, {1, 0, 0, 0});
            return answer(errorResponse(kStoreUnavailable));
        }
        deps_.audit.countUsage(c.userId, c.accountId, c.userName, {1, count, 0, 0});
        answer(successResponse({{"successCount", count}, {"smsIds", ids}, {"segments", segments}}));
    });
}

void SendApi::healthz(const http::Request&, http::Responder reply) const {
    reply(successResponse({{"status", "ok"}}));
}

void SendApi::readyz(const http::Request&, http::Responder reply) const {
    if (deps_.messages.ping()) return reply(successResponse({{"status", "ready"}}));
    reply(errorResponse(ApiError{503, "store.unavailable", "the store does not answer", {}}));
}

}  // namespace sc::api
