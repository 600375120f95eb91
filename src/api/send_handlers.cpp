#include "api/send_handlers.h"

#include <spdlog/spdlog.h>

#include "api/send_validation.h"
#include "auth/credential_issuer.h"

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
        return fail(ApiError{400, "param.duplicate",
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

Result<auth::AuthContext, http::Response> authenticate(const auth::CredentialVerifier& verifier,
                                                       auth::Api api, const http::FormData& form,
                                                       const http::Request& req) {
    auto ctx = verifier.verify(api, form.params, req);
    if (ctx) return std::move(ctx).value();
    const auto& f = ctx.error();
    std::string user = loggableUser(f.userName);
    spdlog::info("auth failure api={} user={} code={} reason=\"{}\" ip={}",
                 api == auth::Api::Email ? "email" : "sms", user, errorCode(f.reason),
                 f.logDetail, req.clientIp);
    http::Response r =
        errorResponse(ApiError{httpStatus(f.reason), std::string(errorCode(f.reason)), f.hint, {}});
    r.logUser = user == "-" ? "" : user;
    return fail(std::move(r));
}

void replyError(const http::Responder& reply, const ApiError& e, const std::string& user = "") {
    http::Response r = errorResponse(e);
    r.logUser = user;
    reply(std::move(r));
}

const ApiError kStoreUnavailable{503, "store.unavailable",
                                 "the message was not accepted because the queue could not be "
                                 "written; it is safe to retry",
                                 {{"retry-after", "1"}}};

}  // namespace

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

void SendApi::sendEmail(const http::Request& req, http::Responder reply) const {
    auto form = readParams(req, limits_.parse);
    if (!form) return replyError(reply, form.error());
    auto ctx = authenticate(deps_.verifier, auth::Api::Email, *form, req);
    if (!ctx) return reply(std::move(ctx).error());
    const std::string user = ctx->userName;

    auto email = validateEmail(*form, EmailLimits{limits_.maxRecipients, limits_.maxContentBytes});
    if (!email) return replyError(reply, email.error(), user);

    store::NewMessage msg;
    msg.messageId = deps_.ids.nextMessageId();
    msg.kind = store::UserKind::Email;
    msg.accountId = ctx->accountId;
    msg.apiUserId = ctx->userId;
    msg.apiUserName = user;
    msg.createdAtMs = deps_.clock.nowMillis();
    msg.contentJson = email->contentJson().dump(-1, ' ', false,
                                                nlohmann::json::error_handler_t::replace);
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

    deps_.messages.enqueue(
        std::move(msg), [reply, user, idList = std::move(idList)](Result<Ok, store::StoreError> r) {
            if (!r) {
                spdlog::error("enqueue failed for user={}: {}", user, r.error().message);
                return replyError(reply, kStoreUnavailable, user);
            }
            http::Response resp = successResponse({{"emailIdList", idList}});
            resp.logUser = user;
            reply(std::move(resp));
        });
}

void SendApi::sendSms(const http::Request& req, http::Responder reply) const {
    auto form = readParams(req, limits_.parse);
    if (!form) return replyError(reply, form.error());
    auto ctx = authenticate(deps_.verifier, auth::Api::Sms, *form, req);
    if (!ctx) return reply(std::move(ctx).error());
    const std::string user = ctx->userName;

    auto sms = validateSms(*form, deps_.phones, limits_.maxRecipients, limits_.maxSmsCharacters);
    if (!sms) return replyError(reply, sms.error(), user);

    store::NewMessage msg;
    msg.messageId = deps_.ids.nextMessageId();
    msg.kind = store::UserKind::Sms;
    msg.accountId = ctx->accountId;
    msg.apiUserId = ctx->userId;
    msg.apiUserName = user;
    msg.createdAtMs = deps_.clock.nowMillis();
    msg.contentJson = nlohmann::json{{"message", sms->message},
                                     {"segments", sms->segments.segments},
                                     {"encoding", sms->segments.encoding == domain::SmsEncoding::Gsm7
                                                      ? "gsm7"
                                                      : "ucs2"}}
                          .dump();
    nlohmann::json ids = nlohmann::json::array();
    for (size_t i = 0; i < sms->to.size(); ++i) {
        std::string id = IdGenerator::recipientId(msg.messageId, i, sms->to[i]);
        ids.push_back(id);
        msg.recipients.push_back({std::move(id), sms->to[i], "to"});
    }
    const size_t count = sms->to.size();
    const size_t segments = sms->segments.segments;

    deps_.messages.enqueue(std::move(msg), [reply, user, count, segments, ids = std::move(ids)](
                                               Result<Ok, store::StoreError> r) {
        if (!r) {
            spdlog::error("enqueue failed for user={}: {}", user, r.error().message);
            return replyError(reply, kStoreUnavailable, user);
        }
        http::Response resp =
            successResponse({{"successCount", count}, {"smsIds", ids}, {"segments", segments}});
        resp.logUser = user;
        reply(std::move(resp));
    });
}

void SendApi::healthz(const http::Request&, http::Responder reply) const {
    reply(successResponse({{"status", "ok"}}));
}

void SendApi::readyz(const http::Request&, http::Responder reply) const {
    if (deps_.messages.ping()) return reply(successResponse({{"status", "ready"}}));
    replyError(reply, ApiError{503, "store.unavailable", "the store does not answer", {}});
}

}  // namespace sc::api
