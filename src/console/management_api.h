#pragma once
// ManagementApi: the JSON API under /console/api/ that the web console and the CLI use to manage
// an account (docs/api.md §15). It builds the rooms that share the session store around one
// SessionGuard and registers their routes: LoginApi (login, logout, session), UsersApi (API users
// and their keys), AuditApi (authentication log, usage) and TemplatesApi. The messages and
// domains rooms have other dependencies and are built beside it (src/sendcloudd), on its guard.
//
// Store reads and writes other than the login's run on the calling (I/O) thread, as the send
// path's do; only password hashing is moved to the pool.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "auth/credential_issuer.h"
#include "common/clock.h"
#include "common/random.h"
#include "common/result.h"
#include "console/audit_api.h"
#include "console/login_api.h"
#include "console/session_guard.h"
#include "console/templates_api.h"
#include "console/users_api.h"
#include "console/work_pool.h"
#include "http/router.h"
#include "store/audit_store.h"
#include "store/credential_store.h"
#include "store/template_store.h"

namespace sc::console {

struct ManagementOptions {
    // The server's [[sms_route]] names: the routes an SMS user may choose (smsRoute).
    std::vector<std::string> smsRoutes;
    // Absolute lifetime of a session (Max-Age of the cookie and expiry in the store).
    std::chrono::seconds sessionTtl{12 * 3600};
    // Adds "; Secure" to every session cookie; a request that came over TLS (Request::secure)
    // gets it whatever this says.
    bool secureCookies = false;
    ThrottleOptions lockout;
    // Argon2id cost of new hashes and of the dummy verify. Tests use PasswordLimits::minimum().
    PasswordLimits passwordLimits = PasswordLimits::interactive();
    int64_t defaultEventsPerPage = 100;
    // Below the store's own per-query cap (1000 in SQLite), since a page asks for one more row
    // than it shows to learn whether another page exists.
    int64_t maxEventsPerPage = 500;
    // GET /usage without `from` covers this much before `to` (or now).
    std::chrono::hours defaultUsageWindow{24 * 7};
};

struct ManagementDeps {
    store::CredentialStore& credentials;
    store::SessionStore& sessions;
    store::AuditStore& audit;
    auth::CredentialIssuer& issuer;
    store::TemplateStore& templates;
    const Clock& clock;
    Random& random;  // called from pool threads too: must be thread-safe (SystemRandom is)
    // Runs password hashing. Stop it before the ManagementApi is destroyed: queued logins
    // refer to it.
    WorkPool& pool;
};

class ManagementApi {
public:
    // Computes the dummy password hash once (~180 ms at the interactive limits).
    ManagementApi(ManagementDeps deps, ManagementOptions options);
    // Its own router's handlers point at its rooms.
    ManagementApi(const ManagementApi&) = delete;
    ManagementApi& operator=(const ManagementApi&) = delete;

    // Installs every room's routes, and the console's shape for the router's 404s and 405s
    // under kApiPrefix.
    void registerRoutes(http::Router& router);

    // Answers one request as the routes registerRoutes installs would, on a router of its own:
    // for callers without a server (the unit tests). Calls `reply` exactly once, maybe later
    // and from a pool thread (login).
    void handle(const http::Request& req, http::Responder reply) const;

    // The session check every console request after the login passes; the other rooms and the
    // pages use it too.
    const SessionGuard& sessionGuard() const { return guard_; }

    // For `sendcloudd account set-password`: a new argon2id hash under `limits`, or why the
    // password is refused (length). Synchronous: ~180 ms at the interactive limits.
    static Result<std::string, std::string> hashPassword(
        std::string_view password, const PasswordLimits& limits = PasswordLimits::interactive());

private:
    SessionGuard guard_;
    LoginApi login_;
    UsersApi users_;
    AuditApi audit_;
    TemplatesApi templates_;
    http::Router router_;
};

}  // namespace sc::console
