#include "console/messages_api.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "console/console_errors.h"
#include "console/time_param.h"

namespace sc::console {

namespace {

using nlohmann::json;

constexpr int64_t kDefaultMessages = 50;
constexpr int64_t kMaxMessages = 200;
// Attempt logs are read this many recipient ids at a time.
constexpr size_t kIdsPerRead = 100;

json attemptJson(const store::AttemptRecord& a) {
    json e{{"at", formatTimeMs(a.atMs)}, {"outcome", a.outcome}};
    if (!a.remoteHost.empty()) e["host"] = a.remoteHost;
    if (a.replyCode != 0) e["replyCode"] = a.replyCode;
    if (!a.enhancedCode.empty()) e["enhancedCode"] = a.enhancedCode;
    if (!a.replyText.empty()) e["replyText"] = a.replyText;
    if (!a.tlsVersion.empty()) e["tls"] = a.tlsVersion;
    if (!a.smscMessageId.empty()) e["smscId"] = a.smscMessageId;
    return e;
}

json messageJson(const store::StoredMessageSummary& m,
                 const std::map<std::string, json, std::less<>>& logs) {
    json recipients = json::array();
    for (const auto& r : m.recipients) {
        auto log = logs.find(r.id);
        recipients.push_back({{"id", r.id},
                              {"address", r.address},
                              {"role", store::recipientRoleName(r.role)},
                              {"state", store::recipientStateName(r.state)},
                              {"attempts", r.attempts},
                              {"updatedAt", formatTimeMs(r.updatedAtMs)},
                              {"attemptLog", log == logs.end() ? json::array() : log->second}});
    }
    return {{"id", m.id},
            {"kind", store::userKindName(m.kind)},
            {"apiUser", m.apiUserName},
            {"testMode", m.testMode},
            {"createdAt", formatTimeMs(m.createdAtMs)},
            {"recipients", std::move(recipients)}};
}

}  // namespace

MessagesApi::MessagesApi(const Clock& clock, store::MessageQueries& messages,
                         const SessionGuard& guard)
    : clock_(clock), messages_(messages), guard_(guard) {}

void MessagesApi::registerRoutes(http::Router& router) {
    SessionRoutes routes(router, guard_);
    routes.add({http::Method::Get}, "messages", BodyRule::Optional,
               [this](const SessionCall& call) { return recentMessages(call); });
}

// Only this account's rows are used, whatever the ids say; a failed read leaves the logs out
// (the states still show).
std::map<std::string, json, std::less<>> MessagesApi::attemptLogsOf(
    int64_t accountId, const std::vector<store::StoredMessageSummary>& rows) const {
    std::map<std::string, json, std::less<>> logs;
    if (!attemptLog_) return logs;
    std::vector<std::string> ids;
    auto readLogs = [&] {
        auto statuses = attemptLog_(ids);
        ids.clear();
        if (!statuses) return;
        for (const auto& rs : statuses.value()) {
            if (rs.accountId != accountId) continue;
            json log = json::array();
            for (const auto& a : rs.attempts) log.push_back(attemptJson(a));
            logs[rs.id] = std::move(log);
        }
    };
    for (const auto& m : rows) {
        for (const auto& r : m.recipients) {
            ids.push_back(r.id);
            if (ids.size() == kIdsPerRead) readLogs();
        }
    }
    if (!ids.empty()) readLogs();
    return logs;
}

http::Response MessagesApi::recentMessages(const SessionCall& call) const {
    auto q = queryParams(call.req, {"limit"});
    if (!q) return errorOut(q.error());
    auto limit = positiveQuery(*q, "limit");
    if (!limit) return errorOut(limit.error());
    const int64_t accountId = call.session.accountId;
    auto rows = messages_.recentMessages(accountId,
                                         std::min(limit->value_or(kDefaultMessages), kMaxMessages));
    if (!rows) return errorOut(storeFailure(rows.error()));
    const auto logs = attemptLogsOf(accountId, rows.value());
    json list = json::array();
    for (const auto& m : rows.value()) list.push_back(messageJson(m, logs));
    return ok({{"messages", std::move(list)}, {"serverTime", formatTimeMs(clock_.nowMillis())}});
}

}  // namespace sc::console
