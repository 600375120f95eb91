#pragma once
// ManagementApi: the JSON API under /console/api/ that the web console and the CLI use to manage
// an account's API users (docs/api.md §15), authenticated by a console session.
//
// Sessions: POST /console/api/login checks an e-mail and password (argon2id, on the WorkPool),
// sets an HttpOnly, SameSite=Strict cookie and returns a CSRF token once; the store keeps only
// hashes of both. Every state-changing call carries the token in X-CSRF-Token. Logins are
// throttled per e-mail and per client IP.
//
// An account sees only its own users: another account's user, or a user of the other kind,
// is a 404 indistinguishable from a missing one. Keys appear in exactly one response, the one
// that created them; nothing here logs them.
//
// Store reads and writes other than the login's run on the calling (I/O) thread, as the send
// path's do; only password hashing is moved to the pool.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "api/api_error.h"
#include "auth/credential_issuer.h"
#include "common/clock.h"
#include "common/random.h"
#include "common/result.h"
#include "console/login_throttle.h"
#include "console/password_hasher.h"
#include "console/session_guard.h"
#include "console/work_pool.h"
#include "http/router.h"
#include "store/audit_store.h"
#include "store/credential_store.h"
#include "store/template_store.h"

namespace sc::console {

inline constexpr std::string_view kApiPrefix = "/console/api/";

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

    // Installs handle() for every path under kApiPrefix.
    void registerRoutes(http::Router& router);

    // Answers one request whose path starts with kApiPrefix. Calls `reply` exactly once, maybe
    // later and from a pool thread (login).
    void handle(const http::Request& req, http::Responder reply);

    // The session check every console request after the login passes; the pages use it too.
    const SessionGuard& sessionGuard() const { return guard_; }

    // For `sendcloudd account set-password`: a new argon2id hash under `limits`, or why the
    // password is refused (length). Synchronous: ~180 ms at the interactive limits.
    static Result<std::string, std::string> hashPassword(
        std::string_view password, const PasswordLimits& limits = PasswordLimits::interactive());

private:
    struct Route;
    struct Context;

    void login(const http::Request& req, http::Responder reply);
    void finishLogin(const std::string& email, std::string password, const std::string& ip,
                     const std::string& userAgent, std::string oldSessionHash, bool overTls,
                     const http::Responder& reply);
    http::Response logout(const Context& ctx);
    http::Response sessionInfo(const Context& ctx);
    http::Response listUsers(const Context& ctx, store::UserKind kind);
    http::Response createUser(const Context& ctx, store::UserKind kind);
    http::Response getUser(const Context& ctx, store::UserKind kind, const std::string& name);
    http::Response patchUser(const Context& ctx, store::UserKind kind, const std::string& name);
    http::Response deleteUser(const Context& ctx, store::UserKind kind, const std::string& name);
    http::Response resetKey(const Context& ctx, store::UserKind kind, const std::string& name);
    http::Response authEvents(const Context& ctx);
    http::Response usage(const Context& ctx);
    // Email templates by invokeName and SMS templates by id (id empty: the collection).
    http::Response emailTemplates(const Context& ctx, const std::string& invokeName);
    http::Response smsTemplates(const Context& ctx, const std::string& id);

    Result<store::ApiUser, api::ApiError> ownedUser(const Context& ctx, store::UserKind kind,
                                                    const std::string& name);
    Result<nlohmann::json, api::ApiError> userView(const store::ApiUser& user);
    void recordLogin(const std::string& email, int64_t accountId, bool success,
                     const std::string& ip, const std::string& userAgent);
    std::string sessionCookie(std::string_view token, int64_t maxAgeSeconds, bool overTls) const;

    ManagementDeps deps_;
    ManagementOptions options_;
    SessionGuard guard_;
    PasswordHasher hasher_;
    LoginThrottle throttle_;
};

}  // namespace sc::console
