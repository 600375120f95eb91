#include "console/audit_api.h"

#include <algorithm>
#include <climits>
#include <optional>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "console/console_errors.h"
#include "console/time_param.h"

namespace sc::console {

using nlohmann::json;

namespace {

// The `outcome` filter: absent or empty means any; anything else must be an outcome's text.
Result<std::optional<store::AuthOutcome>, api::ApiError> outcomeQuery(const http::ParamMap& q) {
    auto text = q.get("outcome");
    if (!text || text->empty()) return std::optional<store::AuthOutcome>();
    if (auto outcome = store::parseAuthOutcome(*text)) return outcome;
    std::string hint = "outcome must be one of";
    const char* separator = " ";
    for (store::AuthOutcome o : store::kAuthOutcomes) {
        hint.append(separator).append(store::authOutcomeName(o));
        separator = ", ";
    }
    return fail(badRequest(std::move(hint)));
}

}  // namespace

AuditApi::AuditApi(store::AuditStore& audit, const Clock& clock, AuditOptions options,
                   const SessionGuard& guard)
    : audit_(audit), clock_(clock), options_(options), guard_(guard) {}

void AuditApi::registerRoutes(http::Router& router) {
    SessionRoutes routes(router, guard_);
    routes.add({http::Method::Get}, "auth-events", BodyRule::Optional,
               [this](const SessionCall& call) { return authEvents(call); });
    routes.add({http::Method::Get}, "usage", BodyRule::Optional,
               [this](const SessionCall& call) { return usage(call); });
}

http::Response AuditApi::authEvents(const SessionCall& call) {
    auto q = queryParams(call.req, {"user", "outcome", "from", "to", "before", "limit"});
    if (!q) return errorOut(q.error());
    store::AuthEventQuery query;
    query.accountId = call.session.accountId;
    query.userName = std::string(q->get("user").value_or(""));
    auto outcome = outcomeQuery(*q);
    if (!outcome) return errorOut(outcome.error());
    query.outcome = *outcome;
    auto from = timeQuery(*q, "from");
    if (!from) return errorOut(from.error());
    auto to = timeQuery(*q, "to");
    if (!to) return errorOut(to.error());
    auto before = positiveQuery(*q, "before");
    if (!before) return errorOut(before.error());
    auto limit = positiveQuery(*q, "limit");
    if (!limit) return errorOut(limit.error());
    query.fromMs = from->value_or(0);
    query.toMs = to->value_or(INT64_MAX);
    query.beforeId = before->value_or(0);
    int64_t pageSize =
        std::min(limit->value_or(options_.defaultEventsPerPage), options_.maxEventsPerPage);
    // One more than a page tells whether another page exists without a second query.
    query.limit = pageSize + 1;
    auto events = audit_.queryEvents(query);
    if (!events) return errorOut(storeFailure(events.error()));
    json list = json::array();
    json nextBefore = nullptr;
    const auto& rows = events.value();
    for (size_t i = 0; i < rows.size(); ++i) {
        if (static_cast<int64_t>(i) == pageSize) {
            nextBefore = rows[i - 1].id;
            break;
        }
        const auto& e = rows[i].event;
        list.push_back({{"id", rows[i].id},
                        {"at", formatTimeMs(e.atMs)},
                        {"api", store::authApiName(e.api)},
                        {"user", e.userName},
                        {"outcome", store::authOutcomeName(e.outcome)},
                        {"reason", e.reason},
                        {"keyFingerprint", e.keyFingerprint},
                        {"clientIp", e.clientIp},
                        {"userAgent", e.userAgent},
                        {"attempts", e.attempts},
                        {"lastAt", formatTimeMs(e.lastAttemptAtMs())}});
    }
    return ok({{"events", std::move(list)}, {"nextBefore", nextBefore}});
}

http::Response AuditApi::usage(const SessionCall& call) {
    auto q = queryParams(call.req, {"user", "from", "to"});
    if (!q) return errorOut(q.error());
    auto from = timeQuery(*q, "from");
    if (!from) return errorOut(from.error());
    auto to = timeQuery(*q, "to");
    if (!to) return errorOut(to.error());
    store::UsageQuery query;
    query.accountId = call.session.accountId;
    query.userName = std::string(q->get("user").value_or(""));
    const int64_t windowMs = std::chrono::milliseconds(options_.defaultUsageWindow).count();
    const int64_t end = to->value_or(clock_.nowMillis() + 1);
    query.toMs = to->value_or(INT64_MAX);
    query.fromMs = from->value_or(end - windowMs);
    if (query.fromMs >= query.toMs) return errorOut(badRequest("from must be before to"));
    auto rows = audit_.queryUsage(query);
    if (!rows) return errorOut(storeFailure(rows.error()));
    json list = json::array();
    for (const auto& r : rows.value()) {
        list.push_back({{"user", r.userName},
                        {"hourStart", formatTimeMs(r.hourStartMs)},
                        {"requests", r.requests},
                        {"recipients", r.recipients},
                        {"authFailures", r.authFailures},
                        {"rateLimited", r.rateLimited}});
    }
    return ok({{"from", formatTimeMs(query.fromMs)},
               {"to", query.toMs == INT64_MAX ? json(nullptr) : json(formatTimeMs(query.toMs))},
               {"rows", std::move(list)}});
}

}  // namespace sc::console
