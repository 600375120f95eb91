#pragma once
// LoginApi: the console's sessions (docs/api.md §15):
//   POST /console/api/login    {"email", "password"}: checks the password (argon2id, on the
//                              WorkPool), sets an HttpOnly, SameSite=Strict cookie and returns
//                              a CSRF token once; the store keeps only hashes of both. Logins
//                              are throttled per e-mail and per client IP.
//   POST /console/api/logout   ends the session
//   GET  /console/api/session  the session's account and expiry
// Every login, good or bad, goes to the authentication log.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/credential_issuer.h"
#include "common/clock.h"
#include "common/random.h"
#include "console/api_room.h"
#include "console/login_throttle.h"
#include "console/password_hasher.h"
#include "console/work_pool.h"
#include "store/audit_store.h"
#include "store/credential_store.h"

namespace sc::console {

struct LoginDeps {
    store::CredentialStore& credentials;
    store::SessionStore& sessions;
    store::AuditStore& audit;
    const auth::CredentialIssuer& issuer;  // the email key grace the session reports
    const Clock& clock;
    Random& random;  // called from pool threads too: must be thread-safe (SystemRandom is)
    // Runs password hashing. Stop it before the LoginApi is destroyed: queued logins refer to it.
    WorkPool& pool;
};

struct LoginOptions {
    // Absolute lifetime of a session (Max-Age of the cookie and expiry in the store).
    std::chrono::seconds sessionTtl{12 * 3600};
    // Adds "; Secure" to every session cookie; a request that came over TLS (Request::secure)
    // gets it whatever this says.
    bool secureCookies = false;
    ThrottleOptions lockout;
    // Argon2id cost of new hashes and of the dummy verify.
    PasswordLimits passwordLimits = PasswordLimits::interactive();
};

class LoginApi {
public:
    // Computes the dummy password hash once (~180 ms at the interactive limits).
    LoginApi(LoginDeps deps, LoginOptions options, const SessionGuard& guard);

    void registerRoutes(http::Router& router);

private:
    void login(const http::Request& req, http::Responder reply);
    void finishLogin(const std::string& email, std::string password, const std::string& ip,
                     const std::string& userAgent, std::string oldSessionHash, bool overTls,
                     const http::Responder& reply);
    http::Response logout(const SessionCall& call);
    http::Response sessionInfo(const SessionCall& call);
    void recordLogin(const std::string& email, int64_t accountId, bool success,
                     const std::string& ip, const std::string& userAgent);
    std::string sessionCookie(std::string_view token, int64_t maxAgeSeconds, bool overTls) const;

    LoginDeps deps_;
    LoginOptions options_;
    const SessionGuard& guard_;
    PasswordHasher hasher_;
    LoginThrottle throttle_;
};

}  // namespace sc::console
