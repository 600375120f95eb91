#include "api/send_handlers.h"

#include <spdlog/spdlog.h>

#include <strings.h>
#include <algorithm>

#include "api/json_text.h"
#include "api/xsmtpapi.h"
#include "domain/limits.h"

namespace sc::api {

namespace {

constexpr size_t kMaxSendRequestId = 128;

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

ApiError substitutionTooLarge(size_t maxContentBytes) {
    return ApiError{413,
                    "email.content_too_large",
                    "after xsmtpapi substitution the content of all recipients together would "
                    "exceed " +
                        std::to_string(maxContentBytes) + " bytes",
                    {}};
}

// `base`'s subject, html and plain with the X-SMTPAPI values of the recipient at `index` of
// `to` (pubsub alone: any index) put in, written to `out`.
std::optional<ApiError> renderFor(const XSmtpApi& xsmtpapi, size_t index,
                                  const ValidatedEmail& base, ValidatedEmail& out,
                                  SubstitutionBudget& budget, size_t maxContentBytes) {
    auto vars = xsmtpapi.varsFor(index);
    for (auto [from, to] : {std::pair{&base.subject, &out.subject},
                            std::pair{&base.html, &out.html}, std::pair{&base.plain, &out.plain}}) {
        auto rendered = substitute(*from, vars, xsmtpapi.section, budget);
        if (!rendered) return substitutionTooLarge(maxContentBytes);
        *to = std::move(*rendered);
    }
    if (domain::hasLineBreak(out.subject) || out.subject.size() > domain::kMaxSubjectBytes) {
        return badRequest("email.xsmtpapi_invalid",
                          "xsmtpapi substitution for recipient " + std::to_string(index) +
                              " makes the subject invalid (a line break, or over " +
                              std::to_string(domain::kMaxSubjectBytes) + " bytes)");
    }
    return std::nullopt;
}

// X-SMTPAPI substitution: with `to` (`perRecipient`), each recipient gets its own content,
// returned in `to`'s order; without it, the pubsub values apply to everyone and `email` itself
// is substituted.
Result<std::vector<std::string>, ApiError> substituteXSmtpApi(const XSmtpApi& xsmtpapi,
                                                              bool perRecipient,
                                                              size_t maxContentBytes,
                                                              ValidatedEmail& email) {
    const ValidatedEmail base = email;
    // Every recipient's rendered content together stays within the content limit.
    SubstitutionBudget budget{maxContentBytes, kSubstitutionWork};
    std::vector<std::string> ownContent;
    if (!perRecipient) {
        if (auto e = renderFor(xsmtpapi, 0, base, email, budget, maxContentBytes)) return fail(*e);
        return ownContent;
    }
    for (size_t i = 0; i < email.to.size(); ++i) {
        ValidatedEmail one = base;
        one.to = {email.to[i]};
        if (auto e = renderFor(xsmtpapi, i, base, one, budget, maxContentBytes)) return fail(*e);
        ownContent.push_back(one.contentJsonText());
    }
    return ownContent;
}

// Adds the message's recipient rows (to, cc, then bcc; each with its own content when it has
// one) and returns the answer's id list, written as the ids are made (json_text.h: nlohmann's
// bytes).
std::string addEmailRecipients(store::NewMessage& msg, const ValidatedEmail& email,
                               std::vector<std::string> ownContent) {
    const size_t count = email.to.size() + email.cc.size() + email.bcc.size();
    std::string idList = "[";
    idList.reserve(count * (msg.messageId.size() + 40) + 2);
    msg.recipients.reserve(count);
    size_t index = 0;
    using store::RecipientRole;
    for (auto [role, list] :
         {std::pair{RecipientRole::To, &email.to}, std::pair{RecipientRole::Cc, &email.cc},
          std::pair{RecipientRole::Bcc, &email.bcc}}) {
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
    return idList;
}

// Adds the message's recipient rows and returns the answer's info object:
// {"segments":N,"smsIds":[...],"successCount":N}, in nlohmann's key order and bytes.
std::string addSmsRecipients(store::NewMessage& msg, const ValidatedSms& sms) {
    const size_t count = sms.to.size();
    std::string info = R"({"segments":)";
    info.reserve(64 + count * (msg.messageId.size() + 24));
    json_text::appendUint(info, sms.segments.segments);
    info += R"(,"smsIds":[)";
    msg.recipients.reserve(count);
    for (size_t i = 0; i < count; ++i) {
        std::string id = IdGenerator::recipientId(msg.messageId, i, sms.to[i]);
        if (i > 0) info += ',';
        json_text::appendString(info, id);
        msg.recipients.push_back({std::move(id), sms.to[i], store::RecipientRole::To, ""});
    }
    info += R"(],"successCount":)";
    json_text::appendInt(info, static_cast<int64_t>(count));
    info += '}';
    return info;
}

}  // namespace

// What an email send asks for besides its content.
struct SendApi::EmailOptions {
    bool respEmailId = true;
    std::optional<XSmtpApi> xsmtpapi;
};

// An email ready to queue: the message as validated (and substituted, when X-SMTPAPI gave the
// same values to everyone), and each recipient's own content when its `to` gave one each.
struct SendApi::ComposedEmail {
    ValidatedEmail email;
    std::vector<std::string> ownContent;

    int64_t recipientCount() const {
        return static_cast<int64_t>(email.to.size() + email.cc.size() + email.bcc.size());
    }
};

// What the enqueue's callback keeps, not the admission: the request's parameters are then freed
// on the I/O thread when the handler returns, not on the writer.
struct SendApi::PendingSend {
    http::Responder reply;
    http::Response ok;
    QuotaReservation reservation;
    std::string userName;
    std::optional<int64_t> keySunsetAtMs;
    ResponseShape shape;
};

http::Response routerError(int status, std::string code, std::string hint) {
    return errorResponse(ApiError{status, std::move(code), std::move(hint), {}});
}

SendApi::SendApi(SendApiDeps deps, SendLimits limits)
    : deps_(deps),
      limits_(limits),
      admission_({deps.verifier, deps.clock, deps.lockout, deps.rateLimiter, deps.audit},
                 limits.parse, limits.authFailureLogLinesPerSecond),
      smsComposer_(deps.templates, deps.phones, {limits.maxRecipients, limits.maxSmsCharacters}),
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

Result<AuthenticatedRequest, http::Response> SendApi::authenticate(const SendRoute& route,
                                                                   const http::Request& req) const {
    auto admitted = admission_.admit(route, req);
    if (!admitted) return fail(std::move(admitted).error());
    Admitted a = std::move(admitted).value();
    return AuthenticatedRequest{std::move(a.form), std::move(a.ctx)};
}

void SendApi::finishAuthenticated(const AuthenticatedRequest& a, http::Response& resp) {
    markAdmitted(a.ctx, resp);
}

void SendApi::sendEmail(const SendRoute& route, const http::Request& req,
                        http::Responder reply) const {
    auto x = open(route, req, std::move(reply));
    if (!x) return;
    auto options = emailOptions(x->admitted);
    if (!options) return refuse(*x, options.error());
    auto email = composeEmail(x->admitted, *options);
    if (!email) return refuse(*x, email.error());
    auto reservation = reserveQuota(x->admitted, email->recipientCount());
    if (!reservation) return answer(*x, std::move(reservation).error());
    queueEmail(*x, std::move(email).value(), options->respEmailId, std::move(reservation).value());
}

void SendApi::sendSms(const SendRoute& route, const http::Request& req,
                      http::Responder reply) const {
    auto x = open(route, req, std::move(reply));
    if (!x) return;
    auto sms = smsComposer_.compose(x->admitted.ctx.accountId, x->admitted.form);
    if (!sms) return refuse(*x, sms.error());
    auto reservation = reserveQuota(x->admitted, static_cast<int64_t>(sms->to.size()));
    if (!reservation) return answer(*x, std::move(reservation).error());
    queueSms(*x, std::move(sms).value(), std::move(reservation).value());
}

std::optional<SendApi::Exchange> SendApi::open(const SendRoute& route, const http::Request& req,
                                               http::Responder reply) const {
    auto admitted = admission_.admit(route, req);
    if (!admitted) {
        reply(std::move(admitted).error());
        return std::nullopt;
    }
    Exchange x{std::move(admitted).value(), std::move(reply), std::nullopt};
    auto requestId = sendRequestIdOf(x.admitted);
    if (!requestId) {
        refuse(x, requestId.error());
        return std::nullopt;
    }
    x.requestId = std::move(requestId).value();
    if (x.requestId) {
        if (auto prior = priorAnswer(x.admitted, *x.requestId)) {
            answer(x, std::move(*prior));
            return std::nullopt;
        }
    }
    return x;
}

void SendApi::answer(const Exchange& x, http::Response resp) const {
    markAdmitted(x.admitted.ctx, resp);
    x.reply(std::move(resp));
}

void SendApi::refuse(const Exchange& x, const ApiError& e) const {
    const auth::AuthContext& c = x.admitted.ctx;
    deps_.audit.countUsage(c.userId, c.accountId, c.userName, {.requests = 1});
    answer(x, errorResponse(e, x.admitted.route.shape));
}

Result<std::optional<std::string>, ApiError> SendApi::sendRequestIdOf(const Admitted& a) const {
    auto id = a.form.params.get("sendRequestId");
    if (!id || id->empty()) return std::optional<std::string>();
    // Bytes, not characters: the id is stored as a key, and only whole, valid UTF-8 is
    // accepted (a count of lead bytes once let 200,000 continuation bytes through).
    if (id->size() > kMaxSendRequestId || !domain::isValidUtf8(*id) || domain::hasLineBreak(*id)) {
        return fail(badRequest("param.send_request_id_invalid",
                               "sendRequestId may hold at most 128 bytes of UTF-8 on one line"));
    }
    return std::optional<std::string>(std::string(*id));
}

std::optional<http::Response> SendApi::priorAnswer(const Admitted& a,
                                                   const std::string& requestId) const {
    auto prior = deps_.messages.findSendRequest(
        a.ctx.userId, requestId, deps_.clock.nowMillis() - domain::kSendRequestWindow.count());
    if (!prior || !prior.value()) return std::nullopt;
    auto info = nlohmann::json::parse(*prior.value(), nullptr, false);
    if (info.is_discarded()) return std::nullopt;
    return successResponse(std::move(info), a.route.shape);
}

Result<SendApi::EmailOptions, ApiError> SendApi::emailOptions(const Admitted& a) const {
    EmailOptions o;
    if (auto v = a.form.params.get("respEmailId"); v && !v->empty()) {
        auto b = parseBoolParam(*v);
        if (!b) {
            return fail(badRequest("param.invalid_boolean", "respEmailId must be true or false"));
        }
        o.respEmailId = *b;
    }
    if (auto text = a.form.params.get("xsmtpapi"); text && !text->empty()) {
        auto parsed = parseXSmtpApi(std::string(*text), limits_.maxRecipients);
        if (!parsed) return fail(std::move(parsed).error());
        o.xsmtpapi = std::move(parsed).value();
    }
    return o;
}

Result<SendApi::ComposedEmail, ApiError> SendApi::composeEmail(const Admitted& a,
                                                               const EmailOptions& options) const {
    // A template send validates the request with the template's parts put in; any other send
    // validates the request as it came, without a copy of its parameters and attachments.
    std::optional<http::FormData> withTemplate;
    if (a.route.endpoint == Endpoint::EmailTemplateSend) {
        auto filled = withEmailTemplate(a, options);
        if (!filled) return fail(std::move(filled).error());
        withTemplate = std::move(filled).value();
    }
    const std::optional<XSmtpApi>& xsmtpapi = options.xsmtpapi;
    const bool perRecipient = xsmtpapi && !xsmtpapi->to.empty();
    EmailLimits limits{limits_.maxRecipients, limits_.maxContentBytes, perRecipient};
    auto email = validateEmail(withTemplate ? *withTemplate : a.form, limits);
    if (!email) return fail(std::move(email).error());
    if (perRecipient) email->to = xsmtpapi->to;
    if (!senderAllowed(a.ctx.policy.senderDomains, email->from.domain())) {
        return fail(ApiError{403,
                             "auth.sender_not_allowed",
                             "this API user may send only from its sender domains; " +
                                 std::string(email->from.domain()) + " is not one of them",
                             {}});
    }
    ComposedEmail composed{std::move(email).value(), {}};
    if (!xsmtpapi) return composed;
    auto own = substituteXSmtpApi(*xsmtpapi, perRecipient, limits_.maxContentBytes, composed.email);
    if (!own) return fail(std::move(own).error());
    composed.ownContent = std::move(own).value();
    return composed;
}

Result<http::FormData, ApiError> SendApi::withEmailTemplate(const Admitted& a,
                                                            const EmailOptions& options) const {
    auto invoke = a.form.params.get("templateInvokeName");
    if (!invoke || invoke->empty()) {
        return fail(badRequest("email.template_missing",
                               "templateInvokeName is missing: name the template to send"));
    }
    auto found = deps_.templates.findEmailTemplate(a.ctx.accountId, *invoke);
    if (!found) return fail(storeUnavailable());
    if (!found.value()) {
        return fail(badRequest("email.template_not_found",
                               "this account has no template with invokeName '" +
                                   std::string(invoke->substr(0, 64)) + "'"));
    }
    const auto& t = *found.value();
    http::FormData effective{a.form.params, a.form.files};
    if (!a.form.params.has("subject") || a.form.params.get("subject")->empty()) {
        effective.params = withParam(effective.params, "subject", t.subject);
    }
    effective.params = withParam(effective.params, "html", t.html);
    effective.params = withParam(effective.params, "plain", t.plain);
    if (!options.xsmtpapi || options.xsmtpapi->to.empty()) {
        return fail(badRequest("email.xsmtpapi_to_missing",
                               "a template send takes its recipients from xsmtpapi.to "
                               "(substitution_vars.to in v1), which is missing"));
    }
    return effective;
}

Result<QuotaReservation, http::Response> SendApi::reserveQuota(const Admitted& a,
                                                               int64_t count) const {
    const auto& ctx = a.ctx;
    const int64_t now = deps_.clock.nowMillis();
    auto reserved = QuotaReservation::reserve(deps_.quota, deps_.audit,
                                              {ctx.userId, ctx.accountId, ctx.userName},
                                              ctx.policy.dailyQuota, count, now);
    if (reserved) return std::move(*reserved);
    deps_.audit.countUsage(ctx.userId, ctx.accountId, ctx.userName,
                           {.requests = 1, .rateLimited = 1});
    std::string hint = ctx.kind == store::UserKind::Sms ? "this SMS_USER's" : "this API user's";
    hint += " daily quota of " + std::to_string(ctx.policy.dailyQuota) +
            " recipients (UTC day) would be exceeded by this request's " + std::to_string(count);
    return fail(errorResponse(ApiError{429,
                                       "limit.daily_quota_exceeded",
                                       std::move(hint),
                                       {retryAfter(policy::DailyQuota::dayStart(now) +
                                                   policy::DailyQuota::kDay.count() - now)}},
                              a.route.shape));
}

store::NewMessage SendApi::newMessage(const Admitted& a, store::UserKind kind) const {
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

void SendApi::queueEmail(const Exchange& x, ComposedEmail email, bool respEmailId,
                         QuotaReservation reservation) const {
    store::NewMessage msg = newMessage(x.admitted, store::UserKind::Email);
    msg.contentJson = email.email.contentJsonText();
    msg.attachments = std::move(email.email.attachments);
    const std::string idList = addEmailRecipients(msg, email.email, std::move(email.ownContent));
    std::string info = respEmailId ? R"({"emailIdList":)" + idList + "}" : std::string("{}");
    http::Response ok =
        x.admitted.route.shape == ResponseShape::V1
            ? emailSuccessResponseV1(respEmailId ? std::optional<std::string_view>(idList)
                                                 : std::nullopt)
            : successResponseText(info);
    queue(x, std::move(msg), std::move(reservation), std::move(info), std::move(ok));
}

void SendApi::queueSms(const Exchange& x, ValidatedSms sms, QuotaReservation reservation) const {
    store::NewMessage msg = newMessage(x.admitted, store::UserKind::Sms);
    msg.contentJson = sms.contentJsonText();
    std::string info = addSmsRecipients(msg, sms);
    // Every SMS path answers in the v2 shape; the generic conversion keeps any other correct.
    http::Response ok = x.admitted.route.shape == ResponseShape::V2
                            ? successResponseText(info)
                            : successResponse(nlohmann::json::parse(info), x.admitted.route.shape);
    queue(x, std::move(msg), std::move(reservation), std::move(info), std::move(ok));
}

void SendApi::queue(const Exchange& x, store::NewMessage msg, QuotaReservation reservation,
                    std::string infoJson, http::Response ok) const {
    if (x.requestId) {
        msg.sendRequestId = *x.requestId;
        msg.responseJson = std::move(infoJson);
    }
    const auth::AuthContext& ctx = x.admitted.ctx;
    markAdmitted(ctx, ok);
    // One allocation shared by the callback's copies (std::function wants a copyable callable;
    // the reservation is not one).
    auto pending = std::make_shared<PendingSend>(
        PendingSend{x.reply, std::move(ok), std::move(reservation), ctx.userName, ctx.keySunsetAtMs,
                    x.admitted.route.shape});
    deps_.messages.enqueue(std::move(msg),
                           [this, pending = std::move(pending)](Result<Ok, store::StoreError> r) {
                               settle(*pending, r);
                           });
}

void SendApi::settle(PendingSend& p, const Result<Ok, store::StoreError>& outcome) const {
    if (outcome) {
        p.reservation.commit();
        return p.reply(std::move(p.ok));
    }
    // Given back before the answer, which a client may follow with a look at its usage.
    p.reservation.refund();
    const store::StoreError& error = outcome.error();
    http::Response failed;
    // A repeated sendRequestId: the first request's answer, and nothing queued.
    bool answered = false;
    if (error.kind == store::StoreError::Kind::Duplicate) {
        auto first = nlohmann::json::parse(error.existingResponse, nullptr, false);
        if (!first.is_discarded()) {
            failed = successResponse(std::move(first), p.shape);
            answered = true;
        }
    }
    if (!answered) {
        if (const auto line = storeFailureLog_.admit(); line.write) {
            spdlog::error("enqueue failed for user={}: {}{}", p.userName, error.message,
                          line.omitted == 0
                              ? std::string()
                              : fmt::format(" ({} more sends refused since the last such line)",
                                            line.omitted));
        }
        failed = errorResponse(storeUnavailable(), p.shape);
    }
    markAdmitted(p.userName, p.keySunsetAtMs, failed);
    p.reply(std::move(failed));
}

void SendApi::healthz(const http::Request&, http::Responder reply) const {
    reply(successResponse({{"status", "ok"}}));
}

void SendApi::readyz(const http::Request&, http::Responder reply) const {
    if (deps_.messages.ping()) return reply(successResponse({{"status", "ready"}}));
    reply(errorResponse(ApiError{503, "store.unavailable", "the store does not answer", {}}));
}

}  // namespace sc::api
