#include "api/status_handlers.h"

#include <ctime>
#include <set>
#include <unordered_map>
#include <utility>

#include <nlohmann/json.hpp>

#include "api/api_error.h"

namespace sc::api {

namespace {

using OwnRecipients = std::unordered_map<std::string, const store::RecipientStatus*>;

// `text` split at ';' (SendCloud's list separator), blanks and repeats dropped, in order.
Result<std::vector<std::string>, ApiError> parseIds(std::string_view text, std::string_view param,
                                                    const StatusLimits& limits) {
    std::vector<std::string> ids;
    std::set<std::string, std::less<>> seen;
    // Bounded before splitting: the list cannot be longer than this whatever its ids are.
    if (text.size() > limits.maxIds * (limits.maxIdLength + 1) + 16) {
        return fail(badRequest("status.too_many_ids", std::string(param) + " lists at most " +
                                                          std::to_string(limits.maxIds) + " ids"));
    }
    size_t pos = 0;
    while (pos <= text.size()) {
        size_t end = text.find(';', pos);
        if (end == std::string_view::npos) end = text.size();
        std::string_view id = text.substr(pos, end - pos);
        while (!id.empty() && (id.front() == ' ' || id.front() == '\t')) id.remove_prefix(1);
        while (!id.empty() && (id.back() == ' ' || id.back() == '\t')) id.remove_suffix(1);
        if (!id.empty()) {
            if (id.size() > limits.maxIdLength) {
                return fail(badRequest("status.id_too_long",
                                       "an id in " + std::string(param) + " is longer than " +
                                           std::to_string(limits.maxIdLength) + " characters"));
            }
            if (seen.insert(std::string(id)).second) ids.emplace_back(id);
            if (ids.size() > limits.maxIds) {
                return fail(
                    badRequest("status.too_many_ids", std::string(param) + " lists at most " +
                                                          std::to_string(limits.maxIds) + " ids"));
            }
        }
        pos = end + 1;
    }
    if (ids.empty()) {
        return fail(badRequest("status.ids_missing",
                               std::string(param) + " is required: ids separated by ';'"));
    }
    return ids;
}

// A non-negative integer parameter no larger than `max`; `fallback` when absent.
Result<size_t, ApiError> sizeParam(const http::ParamMap& params, std::string_view name,
                                   const char* code, size_t fallback, size_t max) {
    auto v = params.get(name);
    if (!v) return fallback;
    if (v->empty() || v->size() > 9) {
        return fail(badRequest(
            code, std::string(name) + " must be a whole number from 0 to " + std::to_string(max)));
    }
    size_t n = 0;
    for (char c : *v) {
        if (c < '0' || c > '9') {
            return fail(badRequest(code, std::string(name) + " must be a whole number from 0 to " +
                                             std::to_string(max)));
        }
        n = n * 10 + static_cast<size_t>(c - '0');
    }
    if (n > max) {
        return fail(badRequest(
            code, std::string(name) + " must be a whole number from 0 to " + std::to_string(max)));
    }
    return n;
}

nlohmann::json sendLog(const std::vector<store::AttemptRecord>& attempts) {
    auto log = nlohmann::json::array();
    for (const auto& a : attempts) {
        nlohmann::json e{{"time", formatStatusTime(a.atMs)}, {"outcome", a.outcome}};
        if (!a.remoteHost.empty()) e["host"] = a.remoteHost;
        if (!a.remoteIp.empty()) e["ip"] = a.remoteIp;
        if (a.replyCode != 0) e["replyCode"] = a.replyCode;
        if (!a.enhancedCode.empty()) e["enhancedCode"] = a.enhancedCode;
        if (!a.replyText.empty()) e["replyText"] = a.replyText;
        if (!a.tlsVersion.empty()) e["tlsVersion"] = a.tlsVersion;
        if (!a.tlsCipher.empty()) e["tlsCipher"] = a.tlsCipher;
        if (!a.smscMessageId.empty()) e["smscId"] = a.smscMessageId;
        log.push_back(std::move(e));
    }
    return log;
}

// The reply code of the latest attempt that has one (an SMS: the SMSC's status, 0 when none).
int64_t lastReplyCode(const std::vector<store::AttemptRecord>& attempts) {
    for (auto it = attempts.rbegin(); it != attempts.rend(); ++it) {
        if (it->replyCode != 0) return it->replyCode;
    }
    return 0;
}

// Only the caller's own account and channel: anything else is as if it did not exist.
OwnRecipients ownRecipients(const std::vector<store::RecipientStatus>& found, int64_t accountId,
                            bool sms) {
    const store::UserKind kind = sms ? store::UserKind::Sms : store::UserKind::Email;
    OwnRecipients mine;
    for (const auto& s : found) {
        if (s.accountId == accountId && s.kind == kind) mine.emplace(s.id, &s);
    }
    return mine;
}

// /email/status and /smsapi/status: an entry per asked id, "not_found" for the unknown ones.
nlohmann::json perIdInfo(const std::vector<std::string>& ids, const OwnRecipients& mine, bool sms) {
    const char* idName = sms ? "smsId" : "emailId";
    auto list = nlohmann::json::array();
    for (const auto& id : ids) {
        auto it = mine.find(id);
        if (it == mine.end()) {
            list.push_back({{idName, id}, {"status", "not_found"}});
            continue;
        }
        const auto& s = *it->second;
        list.push_back({{idName, s.id},
                        {"recipient", s.address},
                        {"status", s.state},
                        {"requestTime", formatStatusTime(s.createdAtMs)},
                        {"modifiedTime", formatStatusTime(s.updatedAtMs)},
                        {"sendLog", sendLog(s.attempts)}});
    }
    return {{"voList", std::move(list)}};
}

// SendCloud's queries: a page of the known ids, in SendCloud's field names per channel.
nlohmann::json pageInfo(const StatusApi::Query& query, const OwnRecipients& mine, bool sms) {
    std::vector<const store::RecipientStatus*> rows;
    for (const auto& id : query.ids) {
        if (auto it = mine.find(id); it != mine.end()) rows.push_back(it->second);
    }
    auto list = nlohmann::json::array();
    for (size_t i = query.start; i < rows.size() && list.size() < query.limit; ++i) {
        const auto& s = *rows[i];
        if (!sms) {
            list.push_back({{"emailId", s.id},
                            {"status", s.state},
                            {"apiUser", s.apiUserName},
                            {"recipients", s.address},
                            {"requestTime", formatStatusTime(s.createdAtMs)},
                            {"modifiedTime", formatStatusTime(s.updatedAtMs)},
                            {"sendLog", sendLog(s.attempts)}});
        } else {
            list.push_back({{"smsId", s.id},
                            {"msgType", 0},
                            {"receiver", s.address},
                            {"status", s.state},
                            {"statusCode", lastReplyCode(s.attempts)},
                            {"sendLog", sendLog(s.attempts)},
                            {"requestTime", formatStatusTime(s.createdAtMs)},
                            {"updateTime", formatStatusTime(s.updatedAtMs)}});
        }
    }
    const size_t size = list.size();
    return {{"total", rows.size()}, {"voListSize", size}, {"voList", std::move(list)}};
}

}  // namespace

std::string formatStatusTime(int64_t epochMs) {
    const std::time_t secs = static_cast<std::time_t>(epochMs / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[32];
    const size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return std::string(buf, n);
}

StatusApi::StatusApi(StatusAuthenticator authenticate, StatusLookup lookup, StatusLimits limits)
    : authenticate_(std::move(authenticate)), lookup_(std::move(lookup)), limits_(limits) {}

void StatusApi::registerRoutes(http::Router& router) {
    using http::Method;
    const std::initializer_list<Method> both = {Method::Get, Method::Post};
    router.add(both, "/email/status",
               [this](const http::Request& r, http::Responder p) { emailStatus(r, std::move(p)); });
    router.add(both, "/smsapi/status",
               [this](const http::Request& r, http::Responder p) { smsStatus(r, std::move(p)); });
    router.add(both, "/apiv2/data/emailStatus", [this](const http::Request& r, http::Responder p) {
        emailStatusQuery(r, std::move(p));
    });
    router.add(both, "/smsapi/status/query", [this](const http::Request& r, http::Responder p) {
        smsStatusQuery(r, std::move(p));
    });
}

void StatusApi::emailStatus(const http::Request& req, http::Responder reply) const {
    answer(Form::PerId, false, req, reply);
}
void StatusApi::smsStatus(const http::Request& req, http::Responder reply) const {
    answer(Form::PerId, true, req, reply);
}
void StatusApi::emailStatusQuery(const http::Request& req, http::Responder reply) const {
    answer(Form::SendCloudEmail, false, req, reply);
}
void StatusApi::smsStatusQuery(const http::Request& req, http::Responder reply) const {
    answer(Form::SendCloudSms, true, req, reply);
}

void StatusApi::answer(Form form, bool sms, const http::Request& req,
                       http::Responder& reply) const {
    const SendRoute route{sms ? Endpoint::SmsSend : Endpoint::EmailSend, ResponseShape::V2};
    auto authed = authenticate_(route, req);
    if (!authed) {
        reply(std::move(authed).error());
        return;
    }
    const AuthenticatedRequest& a = authed.value();
    auto refuse = [&](const ApiError& e) {
        http::Response r = errorResponse(e);
        SendApi::finishAuthenticated(a, r);
        reply(std::move(r));
    };
    auto query = readQuery(form, sms, a.form.params);
    if (!query) return refuse(query.error());
    auto found = lookup_(query->ids);
    if (!found) {
        return refuse(ApiError{503,
                               "store.unavailable",
                               "the status could not be read; it is safe to retry",
                               {{"retry-after", "1"}}});
    }
    const OwnRecipients mine = ownRecipients(found.value(), a.ctx.accountId, sms);
    http::Response ok = successResponse(form == Form::PerId ? perIdInfo(query->ids, mine, sms)
                                                            : pageInfo(*query, mine, sms));
    SendApi::finishAuthenticated(a, ok);
    reply(std::move(ok));
}

Result<StatusApi::Query, ApiError> StatusApi::readQuery(Form form, bool sms,
                                                        const http::ParamMap& params) const {
    // The SendCloud query's other selectors are not supported: a 400 rather than an answer
    // that silently ignores them (docs/api.md).
    if (form == Form::SendCloudEmail) {
        for (const char* p : {"email", "days", "startDate", "endDate"}) {
            if (params.get(p)) {
                return fail(badRequest("status.unsupported_param",
                                       std::string(p) +
                                           " is not supported here; ask by emailIds (see "
                                           "docs/api.md)"));
            }
        }
    }
    const char* idParam =
        form == Form::PerId ? (sms ? "smsId" : "emailId") : (sms ? "smsIds" : "emailIds");
    auto ids = parseIds(params.get(idParam).value_or(""), idParam, limits_);
    if (!ids) return fail(std::move(ids).error());
    Query q{std::move(ids).value(), 0, limits_.maxPageSize};
    if (form == Form::PerId) return q;
    auto s = sizeParam(params, "start", "status.bad_start", 0, limits_.maxIds);
    if (!s) return fail(std::move(s).error());
    auto l =
        sizeParam(params, "limit", "status.bad_limit", limits_.maxPageSize, limits_.maxPageSize);
    if (!l) return fail(std::move(l).error());
    q.start = s.value();
    q.limit = l.value();
    return q;
}

}  // namespace sc::api
