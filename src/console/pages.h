#pragma once
// Pages: the web console's HTML pages and static assets, served by sendcloudd itself.
//
// Every file under src/console/assets/ is embedded into the binary at build time
// (embed_assets.cmake), so a running server needs no asset folder and cannot be made to serve a
// file from disk. Pages are the shared layout (layout.html) around one fragment each, composed
// once at start-up; the only per-request part is the server's current time, which the scripts
// use to show grace-period countdowns in the server's time rather than the browser's.
//
// The pages hold no data: their scripts call the management API (/console/api/...), which
// enforces the session and CSRF rules. Every response carries a strict Content-Security-Policy
// (no inline script or style, nothing from another host), X-Frame-Options: DENY and
// Referrer-Policy: no-referrer.
//
// Pages also answers GET /console/api/messages (the Messages page's data); see RecentMessages.

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "console/management_api.h"
#include "http/router.h"
#include "store/message_queries.h"
#include "store/queue_store.h"

namespace sc::console {

struct EmbeddedAsset {
    const char* name;  // path below src/console/assets/, e.g. "js/common.js"
    const unsigned char* data;
    std::size_t size;
};

class Pages {
public:
    Pages(const Clock& clock, ManagementApi& api, store::MessageQueries& messages);

    // Installs /console, /console/<page> for every page, /console/assets/* and
    // GET /console/api/messages (an exact route, so it is matched before the API's prefix).
    void registerRoutes(http::Router& router);

    // Handlers, public for unit tests.
    http::Response page(std::string_view path) const;
    http::Response asset(std::string_view path) const;
    void recentMessages(const http::Request& req, http::Responder reply);

    // Where the Messages page reads each recipient's attempt log (QueueStore::statusOf); unset,
    // the page shows states only.
    using AttemptLogReader =
        std::function<Result<std::vector<store::RecipientStatus>, store::StoreError>(
            const std::vector<std::string>&)>;
    void setAttemptLogReader(AttemptLogReader r) { attemptLog_ = std::move(r); }

    // The security headers every console response carries.
    static void addSecurityHeaders(http::Response& r);

private:
    std::map<std::string, nlohmann::json, std::less<>> attemptLogsOf(
        int64_t accountId, const std::vector<store::StoredMessageSummary>& rows) const;

    const Clock& clock_;
    ManagementApi& api_;
    store::MessageQueries& messages_;
    AttemptLogReader attemptLog_;
    std::map<std::string, std::string, std::less<>> pages_;  // path → full HTML
};

}  // namespace sc::console
