#include "console/api_room.h"

#include <algorithm>
#include <utility>

#include "console/console_errors.h"
#include "console/str_cat.h"
#include "console/time_param.h"
#include "http/request_params.h"

namespace sc::console {

using api::ApiError;
using nlohmann::json;

namespace {

Result<json, ApiError> readBody(const http::Request& req, BodyRule rule) {
    if (rule == BodyRule::Ignored || !isStateChanging(req.method)) return json::object();
    const bool required = req.method == http::Method::Patch ||
                          (rule == BodyRule::RequiredOnPost && req.method == http::Method::Post);
    return jsonBody(req, required);
}

}  // namespace

void SessionRoutes::addAsync(std::initializer_list<http::Method> methods, std::string_view path,
                             BodyRule body, Async handler) {
    auto guarded = [&guard = guard_, body, handler = std::move(handler)](
                       const http::Request& req, const http::PathParams& params,
                       http::Responder reply) {
        auto session = guard.authenticate(req);
        if (!session) return reply(errorOut(session.error()));
        auto parsed = readBody(req, body);
        if (!parsed) return reply(errorOut(parsed.error()));
        const int64_t accountId = session->accountId;
        http::Responder named([reply, accountId](http::Response r) {
            if (r.logUser.empty()) r.logUser = logUserOf(accountId);
            reply(std::move(r));
        });
        handler(SessionCall{req, params, std::move(session).value(), std::move(parsed).value()},
                std::move(named));
    };
    router_.addTemplate(methods, strCat(kApiPrefix, path), std::move(guarded));
}

void SessionRoutes::add(std::initializer_list<http::Method> methods, std::string_view path,
                        BodyRule body, Answer answer) {
    addAsync(methods, path, body,
             [answer = std::move(answer)](const SessionCall& call, http::Responder reply) {
                 reply(answer(call));
             });
}

http::Response routerError(int status, std::string code, std::string hint) {
    return errorOut(err(status, std::move(code), std::move(hint)));
}

std::string logUserOf(int64_t accountId) {
    return strCat("account:", accountId);
}

Result<http::ParamMap, ApiError> queryParams(const http::Request& req,
                                             std::initializer_list<std::string_view> known) {
    http::ParamMap map;
    http::ParseLimits limits;
    limits.maxParams = 20;
    auto r = http::parseUrlEncoded(req.query, limits, map);
    if (!r) return fail(badRequest(r.error().message));
    if (auto dup = map.firstConflict()) {
        return fail(badRequest(strCat("query parameter ", *dup, " is given twice")));
    }
    for (const auto& p : map.items()) {
        if (std::find(known.begin(), known.end(), p.name) == known.end()) {
            std::string names;
            for (auto k : known) {
                if (!names.empty()) names += ", ";
                names += k;
            }
            return fail(badRequest(
                strCat("unknown query parameter '", p.name.substr(0, 64), "'; known: ", names)));
        }
    }
    return map;
}

Result<std::optional<int64_t>, ApiError> timeQuery(const http::ParamMap& q, std::string_view name) {
    auto v = q.get(name);
    if (!v || v->empty()) return std::optional<int64_t>();
    auto t = parseTimeParam(*v);
    if (!t) {
        return fail(badRequest(strCat(name,
                                      " must be ISO 8601 (2026-11-28T10:00:00Z) or epoch "
                                      "milliseconds")));
    }
    return std::optional<int64_t>(*t);
}

Result<std::optional<int64_t>, ApiError> positiveQuery(const http::ParamMap& q,
                                                       std::string_view name) {
    auto v = q.get(name);
    if (!v || v->empty()) return std::optional<int64_t>();
    if (v->size() > 18 || v->find_first_not_of("0123456789") != std::string_view::npos) {
        return fail(badRequest(strCat(name, " must be a positive integer")));
    }
    int64_t n = std::stoll(std::string(*v));
    if (n <= 0) return fail(badRequest(strCat(name, " must be a positive integer")));
    return std::optional<int64_t>(n);
}

std::string loggable(std::string_view s, size_t max) {
    if (s.size() > max) return "-";
    for (unsigned char c : s) {
        if (c < 0x20 || c == 0x7f) return "-";
    }
    return std::string(s);
}

}  // namespace sc::console
