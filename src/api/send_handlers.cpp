#include "api/send_handlers.h"

#include <spdlog/spdlog.h>

#include <strings.h>
#include <algorithm>
#include <cctype>

#include "api/json_text.h"
#include "api/send_validation.h"
#include "api/xsmtpapi.h"
#include "auth/credential_issuer.h"
#include "domain/limits.h"
#include "policy/cidr.h"

namespace sc::api {

namespace {

using audit::UsageIncrement;

constexpr size_t kMaxSendRequestId = 128;

// Characters compared while looking for placeholder names, per request: ordinary content uses a
// tiny fraction; a text of nothing but '%' against thousands of names stops at ~30 ms of CPU.
constexpr size_t kSubstitutionWork = 32u << 20;

// An SMS after substitution: the character limit's worth of the widest UTF-8, so that the usual
// length check that follows gives the precise answer.
SubstitutionBudget smsSubstitutionBudget(const SendLimits& limits) {
    return {limits.maxSmsCharacters * 4, kSubstitutionWork};
}

ApiError emailSubstitutionTooLarge(const SendLimits& limits) {
    return ApiError{413,
                    "email.content_too_large",
                    "after xsmtpapi substitution the content of all recipients together would "
                    "exceed " +
                        std::to_string(limits.maxContentBytes) + " bytes",
                    {}};
}

ApiError smsSubstitutionTooLarge(const SendLimits& limits) {
    return ApiError{413,
                    "sms.message_too_long",
                    "after substitution of vars the message would exceed " +
                        std::to_string(limits.maxSmsCharacters) + " characters",
                    {}};
}

// A presented user name goes into the log only when it could be one: a caller who swapped
// apiUser and apiKey must not get their key written to our logs.
std::string loggableUser(const std::string& presented) {
    return auth::isValidUserName(presented) ? presented : std::string("-");
}

std::string apiName(auth::Api api) {
    return api == auth::Api::Email ? "email" : "sms";
}

std::string retryAfterSeconds(int64_t ms) {
    return std::to_string(std::max<int64_t>(1, (ms + 999) / 1000));
}

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

// `params` with `name` set to `value` (replacing any value it had).
http::ParamMap withParam(const http::ParamMap& params, std::string_view name,
                         const std::string& value) {
    http::ParamMap out;
    for (const auto& p : params.items()) {
        if (p.name != name) out.add(p.name, p.value);
    }
    out.add(std::string(name), value);
    return out;
}

ApiError badParam(std::string code, std::string hint) {
    return ApiError{400, std::move(code), std::move(hint), {}};
}

// What every answer to an admitted request carries: the user for the access log, and the
// Sunset header while the request's key is in its grace period.
void finishResponse(const std::string& userName, std::optional<int64_t> keySunsetAtMs,
                    http::Response& resp) {
    resp.logUser = userName;
    if (keySunsetAtMs) {
        resp.headers.push_back(
            {"sunset", formatHttpDate(Clock::TimePoint(Clock::Duration(*keySunsetAtMs)))});
    }
}

}  // namespace

// What admit() learned about a request that may go on to its content checks.
struct SendApi::Admission {
    http::FormData form;
    auth::AuthContext ctx;
    SendRoute route;
};

http::Response routerError(int status, std::string code, std::string hint) {
    return errorResponse(ApiError{status, std::move(code), std::move(hint), {}});
}

SendApi::SendApi(SendApiDeps deps, SendLimits limits)
    : deps_(deps),
      limits_(limits),
      failureLog_(deps.clock, limits.authFailureLogLinesPerSecond),
      lockedLog_(deps.clock, 1),
      storeFailureLog_(deps.clock, 1) {}

void SendApi::registerRoutes(http::Router& router) {
    using http::Method;
    const std::initializer_list<Method> both = {Method::Get, Method::Post};
    auto email = [this](SendRoute route) {
        return [this, route](const http::Request& r, http::Responder p) {
            sendEmail(route, r, std::move(p));
        };
    };
    auto sms = [this](SendRoute route) {
        return [this, route](const http::Request& r, http::Responder p) {
            sendSms(route, r, std::move(p));
        };
    };
    const SendRoute send{Endpoint::EmailSend, ResponseShape::V2};
    const SendRoute sendTemplate{Endpoint::EmailTemplateSend, ResponseShape::V2};
    for (const char* path : {"/email/send", "/mail/send", "/api/mail/send", "/apiv2/mail/send"}) {
        router.add(both, path, email(send));
    }
    router.add(both, "/webapi/mail.send.json", email({Endpoint::EmailSend, ResponseShape::V1}));
    for (const char* path :
         {"/email/sendtemplate", "/api/mail/sendtemplate", "/apiv2/mail/sendtemplate"}) {
        router.add(both, path, email(sendTemplate));
    }
    router.add(both, "/webapi/mail.send_template.json",
               email({Endpoint::EmailTemplateSend, ResponseShape::V1}));
    for (const char* path : {"/smsapi/send", "/api/sms/send"}) {
        router.add(both, path, sms({Endpoint::SmsSend, ResponseShape::V2}));
    }
    router.add({Method::Get}, "/healthz",
               [this](const http::Request& r, http::Responder p) { healthz(r, std::move(p)); });
    router.add({Method::Get}, "/readyz",
               [this](const http::Request& r, http::Responder p) { readyz(r, std::move(p)); });
}

Result<SendApi::Admission, http::Response> SendApi::admit(const SendRoute& route,
                                                          const http::Request& req) const {
    const auth::Api api = route.endpoint == Endpoint::SmsSend ? auth::Api::Sms : auth::Api::Email;
    const int64_t now = deps_.clock.nowMillis();
    store::AuthEvent event;
    event.atMs = now;
    event.api = apiName(api);
    event.clientIp = req.clientIp;
    event.userAgent = req.header("user-agent").value_or("").substr(0, 256);

    auto refuse = [&](ApiError error, const std::string& user) {
        http::Response r = errorResponse(error, route.shape);
        r.logUser = user == "-" ? "" : user;
        return r;
    };

    auto parsed = http::parseRequestParams(req, limits_.parse);
    if (!parsed) {
        const auto& e = parsed.error();
        return fail(refuse(ApiError{e.status, e.code, e.message, {}}, ""));
    }
    http::FormData form = std::move(parsed).value();
    // A signature covers the parameters as sent, before any alias is renamed.
    std::vector<std::pair<std::string, std::string>> asSent;
    const bool signedSms =
        api == auth::Api::Sms && !form.params.get("signature").value_or("").empty();
    if (signedSms) {
        for (const auto& p : form.params.items()) asSent.emplace_back(p.name, p.value);
    }
    if (auto r = normalizeParams(form, route.endpoint); !r) return fail(refuse(r.error(), ""));

    if (auto until = deps_.lockout.ipLockedUntil(req.clientIp)) {
        // Not written to the authentication log: the failures that locked the address are there
        // already, and a locked client sending at full speed would otherwise add rows at its
        // request rate. A throttled log line counts them instead.
        if (const auto line = lockedLog_.admit(); line.write) {
            spdlog::info(
                "refused a request from a locked address: api={} ip={}{}", apiName(api),
                req.clientIp,
                line.omitted == 0
                    ? std::string()
                    : fmt::format(" ({} more refused since the last such line)", line.omitted));
        }
        return fail(refuse(ApiError{429,
                                    "auth.too_many_failures",
                                    "too many failed authentications from this address; retry "
                                    "after the lock ends",
                                    {{"retry-after", retryAfterSeconds(*until - now)}}},
                           ""));
    }

    auto verified = signedSms ? deps_.verifier.verifySignedSms(form.params, asSent)
                              : deps_.verifier.verify(api, form.params, req);
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
                           f.reason == auth::AuthFailureReason::KeyExpired ||
                           f.reason == auth::AuthFailureReason::SignatureInvalid;
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
        if (const auto line = failureLog_.admit(); line.write) {
            const std::string omitted =
                line.omitted == 0 ? std::string()
                                  : fmt::format(
                                        " ({} earlier failures not logged here; all are in "
                                        "the authentication log)",
                                        line.omitted);
            spdlog::info("auth failure api={} user={} code={} reason=\"{}\" ip={}{}", event.api,
                         user, error.code, f.logDetail, req.clientIp, omitted);
        }
        deps_.audit.record(event);
        deps_.audit.countUsage(f.userId, f.accountId, user, {.requests = 1, .authFailures = 1});
        return fail(refuse(std::move(error), user));
    }

    Admission a{std::move(form), std::move(verified).value(), route};
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
            "forbidden", {.requests = 1}));
    }
    if (int64_t wait = deps_.rateLimiter.tryAcquire(ctx.userId, ctx.policy.rateLimitPerMinute)) {
        return fail(refuseAuthenticated(
            ApiError{429,
                     "limit.rate_exceeded",
                     "this API user may make " + std::to_string(ctx.policy.rateLimitPerMinute) +
                         " requests a minute; retry after the Retry-After seconds",
                     {{"retry-after", retryAfterSeconds(wait)}}},
            "rate_limited", {.requests = 1, .rateLimited = 1}));
    }
    event.outcome = "success";
    deps_.audit.record(std::move(event));
    return a;
}

Result<AuthenticatedRequest, http::Response> SendApi::authenticate(const SendRoute& route,
                                                                   const http::Request& req) const {
    auto admitted = admit(route, req);
    if (!admitted) return fail(std::move(admitted).error());
    Admission a = std::move(admitted).value();
    return AuthenticatedRequest{std::move(a.form), std::move(a.ctx)};
}

void SendApi::finishAuthenticated(const AuthenticatedRequest& a, http::Response& resp) {
    finishResponse(a.ctx.userName, a.ctx.keySunsetAtMs, resp);
}

void SendApi::finish(const Admission& a, http::Response& resp) const {
    finishResponse(a.ctx.userName, a.ctx.keySunsetAtMs, resp);
}

Result<std::optional<std::string>, ApiError> SendApi::sendRequestIdOf(const Admission& a) const {
    auto id = a.form.params.get("sendRequestId");
    if (!id || id->empty()) return std::optional<std::string>();
    // Bytes, not characters: the id is stored as a key, and only whole, valid UTF-8 is
    // accepted (a count of lead bytes once let 200,000 continuation bytes through).
    if (id->size() > kMaxSendRequestId || !domain::isValidUtf8(*id) || domain::hasLineBreak(*id)) {
        return fail(badParam("param.send_request_id_invalid",
                             "sendRequestId may hold at most 128 bytes of UTF-8 on one line"));
    }
    return std::optional<std::string>(std::string(*id));
}

std::optional<http::Response> SendApi::priorAnswer(const Admission& a,
                                                   const std::string& requestId) const {
    auto prior = deps_.messages.findSendRequest(
        a.ctx.userId, requestId, deps_.clock.nowMillis() - domain::kSendRequestWindow.count());
    if (!prior || !prior.value()) return std::nullopt;
    auto info = nlohmann::json::parse(*prior.value(), nullptr, false);
    if (info.is_discarded()) return std::nullopt;
    return successResponse(std::move(info), a.route.shape);
}

std::optional<http::Response> SendApi::reserveQuota(const Admission& a, int64_t count) const {
    const auto& ctx = a.ctx;
    if (deps_.quota.tryReserve(ctx.userId, ctx.policy.dailyQuota, count)) return std::nullopt;
    deps_.audit.countUsage(ctx.userId, ctx.accountId, ctx.userName,
                           {.requests = 1, .rateLimited = 1});
    const int64_t now = deps_.clock.nowMillis();
    std::string hint = ctx.kind == store::UserKind::Sms ? "this SMS_USER's" : "this API user's";
    hint += " daily quota of " + std::to_string(ctx.policy.dailyQuota) +
            " recipients (UTC day) would be exceeded by this request's " + std::to_string(count);
    return errorResponse(
        ApiError{429,
                 "limit.daily_quota_exceeded",
                 std::move(hint),
                 {{"retry-after",
                   retryAfterSeconds(policy::DailyQuota::dayStart(now) + 86400000 - now)}}},
        a.route.shape);
}

store::NewMessage SendApi::newMessage(const Admission& a, store::UserKind kind) const {
    store::NewMessage msg;
    msg.messageId = deps_.ids.nextMessageId();
    msg.kind = kind;
    msg.accountId = a.ctx.accountId;
    msg.apiUserId = a.ctx.userId;
    msg.apiUserName = a.ctx.userName;
    msg.createdAtMs = deps_.clock.nowMillis();
    msg.testMode = a.ctx.policy.testMode;
    return msg;
}

void SendApi::answer(const Exchange& x, http::Response resp) const {
    finish(*x.admission, resp);
    x.reply(std::move(resp));
}

void SendApi::refuse(const Exchange& x, const ApiError& e) const {
    const auth::AuthContext& c = x.admission->ctx;
    deps_.audit.countUsage(c.userId, c.accountId, c.userName, {.requests = 1});
    answer(x, errorResponse(e, x.admission->route.shape));
}

void SendApi::queue(const Exchange& x, store::NewMessage msg, int64_t count, std::string infoJson,
                    http::Response ok) const {
    if (x.requestId) {
        msg.sendRequestId = *x.requestId;
        msg.responseJson = std::move(infoJson);
    }
    finish(*x.admission, ok);
    // Counted before the commit, so that the writer thread does not take the recorder's lock;
    // a failed enqueue takes the recipients back at the same instant (the same hour's row).
    const auth::AuthContext& ctx = x.admission->ctx;
    const int64_t countedAtMs = msg.createdAtMs;
    deps_.audit.countUsage(ctx.userId, ctx.accountId, ctx.userName,
                           {.requests = 1, .recipients = count}, countedAtMs);
    // The callback keeps only what a refused enqueue needs, not the admission: the request's
    // parameters are then freed on the I/O thread when the handler returns, not on the writer.
    struct Refund {
        int64_t userId;
        int64_t accountId;
        std::string userName;
        std::optional<int64_t> keySunsetAtMs;
        ResponseShape shape;
    };
    deps_.messages.enqueue(
        std::move(msg),
        [this, reply = x.reply, count, countedAtMs, ok = std::move(ok),
         refund = Refund{ctx.userId, ctx.accountId, ctx.userName, ctx.keySunsetAtMs,
                         x.admission->route.shape}](Result<Ok, store::StoreError> r) mutable {
            if (r) return reply(std::move(ok));
            deps_.quota.release(refund.userId, count);
            deps_.audit.countUsage(refund.userId, refund.accountId, refund.userName,
                                   {.recipients = -count}, countedAtMs);
            http::Response failed;
            // A repeated sendRequestId: the first request's answer, and nothing queued.
            bool answered = false;
            if (r.error().kind == store::StoreError::Kind::Duplicate) {
                auto first = nlohmann::json::parse(r.error().existingResponse, nullptr, false);
                if (!first.is_discarded()) {
                    failed = successResponse(std::move(first), refund.shape);
                    answered = true;
                }
            }
            if (!answered) {
                if (const auto line = storeFailureLog_.admit(); line.write) {
                    spdlog::error(
                        "enqueue failed for user={}: {}{}", refund.userName, r.error().message,
                        line.omitted == 0 ? std::string()
                                          : fmt::format(" ({} more sends refused since the last "
                                                        "such line)",
                                                        line.omitted));
                }
                failed = errorResponse(storeUnavailable(), refund.shape);
            }
            finishResponse(refund.userName, refund.keySunsetAtMs, failed);
            reply(std::move(failed));
        });
}

std::optional<SendApi::Exchange> SendApi::open(const SendRoute& route, const http::Request& req,
                                               http::Responder reply) const {
    auto admitted = admit(route, req);
    if (!admitted) {
        reply(std::move(admitted).error());
        return std::nullopt;
    }
    Exchange x{std::make_shared<Admission>(std::move(admitted).value()), std::move(reply),
               std::nullopt};
    auto requestId = sendRequestIdOf(*x.admission);
    if (!requestId) {
        refuse(x, requestId.error());
        return std::nullopt;
    }
    x.requestId = std::move(requestId).value();
    if (x.requestId) {
        if (auto prior = priorAnswer(*x.admission, *x.requestId)) {
            answer(x, std::move(*prior));
            return std::nullopt;
        }
    }
    return x;
}

void SendApi::sendEmail(const SendRoute& route, const http::Request& req,
                        http::Responder reply) const {
    auto x = open(route, req, std::move(reply));
    if (!x) return;
    const std::shared_ptr<Admission>& a = x->admission;
    const auth::AuthContext& ctx = a->ctx;
    auto answer = [&](http::Response r) { this->answer(*x, std::move(r)); };
    auto refuse = [&](const ApiError& e) { this->refuse(*x, e); };

    bool respEmailId = true;
    if (auto v = a->form.params.get("respEmailId"); v && !v->empty()) {
        auto b = parseBoolParam(*v);
        if (!b)
            return refuse(badParam("param.invalid_boolean", "respEmailId must be true or false"));
        respEmailId = *b;
    }

    std::optional<XSmtpApi> xsmtpapi;
    if (auto text = a->form.params.get("xsmtpapi"); text && !text->empty()) {
        auto parsedXSmtpApi = parseXSmtpApi(std::string(*text), limits_.maxRecipients);
        if (!parsedXSmtpApi) return refuse(parsedXSmtpApi.error());
        xsmtpapi = std::move(parsedXSmtpApi).value();
    }
    const bool templated = route.endpoint == Endpoint::EmailTemplateSend;
    // A template send validates the request with the template's parts put in; any other send
    // validates the request as it came, without a copy of its parameters and attachments.
    std::optional<http::FormData> withTemplate;
    if (templated) {
        http::FormData& effective = withTemplate.emplace();
        effective.params = a->form.params;
        effective.files = a->form.files;
        auto invoke = a->form.params.get("templateInvokeName");
        if (!invoke || invoke->empty()) {
            return refuse(badParam("email.template_missing",
                                   "templateInvokeName is missing: name the template to send"));
        }
        auto found = deps_.templates.findEmailTemplate(ctx.accountId, *invoke);
        if (!found) return refuse(storeUnavailable());
        if (!found.value()) {
            return refuse(badParam("email.template_not_found",
                                   "this account has no template with invokeName '" +
                                       std::string(invoke->substr(0, 64)) + "'"));
        }
        const auto& t = *found.value();
        if (!a->form.params.has("subject") || a->form.params.get("subject")->empty()) {
            effective.params = withParam(effective.params, "subject", t.subject);
        }
        effective.params = withParam(effective.params, "html", t.html);
        effective.params = withParam(effective.params, "plain", t.plain);
        if (!xsmtpapi || xsmtpapi->to.empty()) {
            return refuse(badParam("email.xsmtpapi_to_missing",
                                   "a template send takes its recipients from xsmtpapi.to "
                                   "(substitution_vars.to in v1), which is missing"));
        }
    }
    const bool perRecipient = xsmtpapi && !xsmtpapi->to.empty();

    EmailLimits limits{limits_.maxRecipients, limits_.maxContentBytes, perRecipient};
    auto email = validateEmail(withTemplate ? *withTemplate : a->form, limits);
    if (!email) return refuse(email.error());
    if (perRecipient) email->to = xsmtpapi->to;
    if (!senderAllowed(ctx.policy.senderDomains, email->from.domain())) {
        return refuse(ApiError{403,
                               "auth.sender_not_allowed",
                               "this API user may send only from its sender domains; " +
                                   std::string(email->from.domain()) + " is not one of them",
                               {}});
    }

    // X-SMTPAPI substitution: with `to`, each recipient gets its own content; without it, the
    // pubsub values apply to everyone.
    std::vector<std::string> ownContent;
    if (xsmtpapi) {
        const ValidatedEmail base = *email;
        // Every recipient's rendered content together stays within the content limit.
        SubstitutionBudget budget{limits_.maxContentBytes, kSubstitutionWork};
        auto render = [&](size_t index, ValidatedEmail& out) -> std::optional<ApiError> {
            auto vars = xsmtpapi->varsFor(index);
            for (auto [from, to] :
                 {std::pair{&base.subject, &out.subject}, std::pair{&base.html, &out.html},
                  std::pair{&base.plain, &out.plain}}) {
                auto rendered = substitute(*from, vars, xsmtpapi->section, budget);
                if (!rendered) return emailSubstitutionTooLarge(limits_);
                *to = std::move(*rendered);
            }
            if (domain::hasLineBreak(out.subject) ||
                out.subject.size() > domain::kMaxSubjectBytes) {
                return badParam("email.xsmtpapi_invalid",
                                "xsmtpapi substitution for recipient " + std::to_string(index) +
                                    " makes the subject invalid (a line break, or over " +
                                    std::to_string(domain::kMaxSubjectBytes) + " bytes)");
            }
            return std::nullopt;
        };
        if (perRecipient) {
            for (size_t i = 0; i < email->to.size(); ++i) {
                ValidatedEmail one = base;
                one.to = {email->to[i]};
                if (auto e = render(i, one)) return refuse(*e);
                ownContent.push_back(one.contentJsonText());
            }
        } else if (auto e = render(0, *email)) {
            return refuse(*e);
        }
    }

    const int64_t count =
        static_cast<int64_t>(email->to.size() + email->cc.size() + email->bcc.size());
    if (auto refused = reserveQuota(*a, count)) return answer(std::move(*refused));

    store::NewMessage msg = newMessage(*a, store::UserKind::Email);
    msg.contentJson = email->contentJsonText();
    msg.attachments = std::move(email->attachments);
    // The answer's id list, written as the ids are made (json_text.h: nlohmann's bytes).
    std::string idList = "[";
    idList.reserve(static_cast<size_t>(count) * (msg.messageId.size() + 40) + 2);
    msg.recipients.reserve(static_cast<size_t>(count));
    size_t index = 0;
    using store::RecipientRole;
    for (auto [role, list] :
         {std::pair{RecipientRole::To, &email->to}, std::pair{RecipientRole::Cc, &email->cc},
          std::pair{RecipientRole::Bcc, &email->bcc}}) {
        for (const auto& addr : *list) {
            std::string id = IdGenerator::recipientId(msg.messageId, index, addr.address);
            if (index > 0) idList += ',';
            json_text::appendString(idList, id);
            store::Recipient r{std::move(id), addr.address, role, ""};
            if (index < ownContent.size()) r.contentJson = std::move(ownContent[index]);
            msg.recipients.push_back(std::move(r));
            ++index;
        }
    }
    idList += ']';
    std::string info = respEmailId ? R"({"emailIdList":)" + idList + "}" : std::string("{}");
    http::Response ok =
        route.shape == ResponseShape::V1
            ? emailSuccessResponseV1(respEmailId ? std::optional<std::string_view>(idList)
                                                 : std::nullopt)
            : successResponseText(info);
    queue(*x, std::move(msg), count, std::move(info), std::move(ok));
}

void SendApi::sendSms(const SendRoute& route, const http::Request& req,
                      http::Responder reply) const {
    auto x = open(route, req, std::move(reply));
    if (!x) return;
    const std::shared_ptr<Admission>& a = x->admission;
    const auth::AuthContext& ctx = a->ctx;
    auto answer = [&](http::Response r) { this->answer(*x, std::move(r)); };
    auto refuse = [&](const ApiError& e) { this->refuse(*x, e); };
    if (auto type = a->form.params.get("msgType"); type && !type->empty() && *type != "0") {
        return refuse(badParam("sms.msg_type_invalid", "only msgType=0 (SMS) is supported"));
    }

    // A stored template (templateId + vars), SendCloud's form, or free text in `message`.
    // The request with `message` filled in by a template or vars; without either, the request
    // is validated as it came, without a copy of its parameters.
    std::optional<http::FormData> rewritten;
    auto params = [&]() -> const http::ParamMap& {
        return rewritten ? rewritten->params : a->form.params;
    };
    auto setMessage = [&](const std::string& text) {
        http::ParamMap p = withParam(params(), "message", text);
        if (!rewritten) rewritten.emplace();
        rewritten->params = std::move(p);
    };
    std::map<std::string, std::string> vars;
    if (auto v = a->form.params.get("vars"); v && !v->empty()) {
        auto j = nlohmann::json::parse(*v, nullptr, false);
        if (j.is_discarded() || !j.is_object()) {
            return refuse(badParam("sms.vars_invalid",
                                   "vars must be a JSON object, like {\"%code%\":\"1234\"}"));
        }
        for (const auto& [name, value] : j.items()) {
            if (!value.is_string() && !value.is_number()) {
                return refuse(badParam("sms.vars_invalid",
                                       "vars['" + name + "'] must be a string or a number"));
            }
            // SendCloud documents both {"%code%":"1"} and {"code":"1"}.
            std::string key = name.size() >= 2 && name.front() == '%' && name.back() == '%'
                                  ? name
                                  : "%" + name + "%";
            vars[key] = value.is_string() ? value.get<std::string>() : value.dump();
        }
    }
    if (auto tid = a->form.params.get("templateId"); tid && !tid->empty()) {
        auto id = domain::parseTemplateId(*tid);
        if (!id) return refuse(badParam("sms.template_not_found", "templateId must be a number"));
        auto found = deps_.templates.findSmsTemplate(ctx.accountId, *id);
        if (!found) return refuse(storeUnavailable());
        if (!found.value()) {
            return refuse(badParam("sms.template_not_found",
                                   "this account has no SMS template " + std::string(*tid)));
        }
        SubstitutionBudget budget = smsSubstitutionBudget(limits_);
        auto substituted = substitute(found.value()->text, vars, {}, budget);
        if (!substituted) return refuse(smsSubstitutionTooLarge(limits_));
        std::string text = std::move(*substituted);
        // A placeholder left unfilled would reach a phone as "%code%": refuse it instead.
        for (size_t open = text.find('%'); open != std::string::npos;
             open = text.find('%', open + 1)) {
            size_t close = text.find('%', open + 1);
            if (close == std::string::npos) break;
            std::string_view name(text.data() + open + 1, close - open - 1);
            bool word = !name.empty() && name.size() <= 32 &&
                        std::all_of(name.begin(), name.end(), [](char c) {
                            return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
                        });
            if (word && found.value()->text.find(text.substr(open, close - open + 1)) !=
                            std::string::npos) {
                return refuse(badParam("sms.vars_invalid",
                                       "vars has no value for the template's placeholder %" +
                                           std::string(name) + "%"));
            }
        }
        setMessage(text);
        vars.clear();
    }
    if (!vars.empty()) {
        if (auto text = params().get("message")) {
            SubstitutionBudget budget = smsSubstitutionBudget(limits_);
            auto substituted = substitute(*text, vars, {}, budget);
            if (!substituted) return refuse(smsSubstitutionTooLarge(limits_));
            setMessage(*substituted);
        }
    }

    auto sms = validateSms(rewritten ? *rewritten : a->form, deps_.phones, limits_.maxRecipients,
                           limits_.maxSmsCharacters);
    if (!sms) return refuse(sms.error());
    const int64_t count = static_cast<int64_t>(sms->to.size());
    if (auto refused = reserveQuota(*a, count)) return answer(std::move(*refused));

    store::NewMessage msg = newMessage(*a, store::UserKind::Sms);
    // Keys in nlohmann::json's (sorted) order, so the text is the one its dump() gave.
    std::string& content = msg.contentJson;
    content.reserve(sms->message.size() + 64);
    content = sms->segments.encoding == domain::SmsEncoding::Gsm7 ? R"({"encoding":"gsm7")"
                                                                  : R"({"encoding":"ucs2")";
    content += R"(,"message":)";
    json_text::appendString(content, sms->message);
    content += R"(,"segments":)";
    json_text::appendUint(content, sms->segments.segments);
    content += '}';
    std::string info = R"({"segments":)";
    info.reserve(64 + static_cast<size_t>(count) * (msg.messageId.size() + 24));
    json_text::appendUint(info, sms->segments.segments);
    info += R"(,"smsIds":[)";
    msg.recipients.reserve(sms->to.size());
    for (size_t i = 0; i < sms->to.size(); ++i) {
        std::string id = IdGenerator::recipientId(msg.messageId, i, sms->to[i]);
        if (i > 0) info += ',';
        json_text::appendString(info, id);
        msg.recipients.push_back({std::move(id), sms->to[i], store::RecipientRole::To, ""});
    }
    info += R"(],"successCount":)";
    json_text::appendInt(info, count);
    info += '}';
    // Every SMS path answers in the v2 shape; the generic conversion keeps any other correct.
    http::Response ok = route.shape == ResponseShape::V2
                            ? successResponseText(info)
                            : successResponse(nlohmann::json::parse(info), route.shape);
    queue(*x, std::move(msg), count, std::move(info), std::move(ok));
}

void SendApi::healthz(const http::Request&, http::Responder reply) const {
    reply(successResponse({{"status", "ok"}}));
}

void SendApi::readyz(const http::Request&, http::Responder reply) const {
    if (deps_.messages.ping()) return reply(successResponse({{"status", "ready"}}));
    reply(errorResponse(ApiError{503, "store.unavailable", "the store does not answer", {}}));
}

}  // namespace sc::api
