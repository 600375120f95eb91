#pragma once
// What the console's API rooms (login, users, audit, templates, messages, domains) share: the
// way a route is put behind the one SessionGuard, the router's 404 and 405 in the console's
// shape, and the readers of query parameters and of client text bound for the audit log.
// docs/architecture.md, "The console", lists the rooms.

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "api/api_error.h"
#include "common/result.h"
#include "console/session_guard.h"
#include "http/params.h"
#include "http/router.h"
#include "store/records.h"

namespace sc::console {

inline constexpr std::string_view kApiPrefix = "/console/api/";

// A request that passed the SessionGuard: the session it names, the path's captures and its
// JSON body ({} when it has none). Valid only during the handler's call.
struct SessionCall {
    const http::Request& req;
    const http::PathParams& path;
    store::Session session;
    nlohmann::json body;
};

// Which requests of a route have their body read. PATCH always needs a body; GET and HEAD never
// have one read; a DELETE or POST body that is there must be JSON.
enum class BodyRule {
    Ignored,         // logout: whatever is sent is not read
    Optional,        // {} when empty
    RequiredOnPost,  // a POST creates something and must say what
};

// Registers a room's routes under kApiPrefix behind `guard`: no handler runs without a live
// session (and the CSRF token for a change). Every answer names the session's account for the
// access log (an id, not the e-mail: the log is kept longer).
class SessionRoutes {
public:
    using Answer = std::function<http::Response(const SessionCall&)>;
    using Async = std::function<void(const SessionCall&, http::Responder)>;

    SessionRoutes(http::Router& router, const SessionGuard& guard)
        : router_(router), guard_(guard) {}

    // `path` follows kApiPrefix and may hold {captures} (http::Router::addTemplate).
    void add(std::initializer_list<http::Method> methods, std::string_view path, BodyRule body,
             Answer answer);
    // For handlers that answer later (on the WorkPool): `reply` may be called from any thread.
    void addAsync(std::initializer_list<http::Method> methods, std::string_view path, BodyRule body,
                  Async handler);

private:
    http::Router& router_;
    const SessionGuard& guard_;
};

// The router's own errors (404, 405) for paths under kApiPrefix, in the console's shape.
http::Response routerError(int status, std::string code, std::string hint);

// "account:<id>", the access log's name for who acted.
std::string logUserOf(int64_t accountId);

// The request's query string, refusing parameters not in `known` and parameters given twice.
Result<http::ParamMap, api::ApiError> queryParams(const http::Request& req,
                                                  std::initializer_list<std::string_view> known);
// A time parameter (time_param.h), absent when missing or empty.
Result<std::optional<int64_t>, api::ApiError> timeQuery(const http::ParamMap& q,
                                                        std::string_view name);
// A positive integer parameter, absent when missing or empty.
Result<std::optional<int64_t>, api::ApiError> positiveQuery(const http::ParamMap& q,
                                                            std::string_view name);

// Text from a client that goes into the audit log: bounded, and without control characters
// that could forge log lines ("-" otherwise).
std::string loggable(std::string_view s, size_t max);

}  // namespace sc::console
