#pragma once
// MessagesApi: the Messages page's data (docs/api.md §15):
//   GET /console/api/messages?limit=N  the account's most recent messages (50, at most 200),
//                                      each recipient with its state and attempt log
// A GET changes nothing, so no CSRF token is asked for.

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "console/api_room.h"
#include "store/message_queries.h"
#include "store/queue_store.h"

namespace sc::console {

class MessagesApi {
public:
    MessagesApi(const Clock& clock, store::MessageQueries& messages, const SessionGuard& guard);

    // Where each recipient's attempt log is read (QueueStore::statusOf); unset, the page shows
    // states only.
    using AttemptLogReader =
        std::function<Result<std::vector<store::RecipientStatus>, store::StoreError>(
            const std::vector<std::string>&)>;
    void setAttemptLogReader(AttemptLogReader r) { attemptLog_ = std::move(r); }

    void registerRoutes(http::Router& router);

private:
    http::Response recentMessages(const SessionCall& call) const;
    std::map<std::string, nlohmann::json, std::less<>> attemptLogsOf(
        int64_t accountId, const std::vector<store::StoredMessageSummary>& rows) const;

    const Clock& clock_;
    store::MessageQueries& messages_;
    const SessionGuard& guard_;
    AttemptLogReader attemptLog_;
};

}  // namespace sc::console
