#include "console/login_api.h"

#include <spdlog/spdlog.h>

#include <optional>
#include <utility>

#include "console/console_errors.h"
#include "console/session_tokens.h"
#include "console/str_cat.h"
#include "console/time_param.h"

namespace sc::console {

using api::ApiError;
using nlohmann::json;

namespace {

constexpr size_t kMaxEmailBytes = 254;
constexpr size_t kMaxUserAgentBytes = 256;

}  // namespace

LoginApi::LoginApi(LoginDeps deps, LoginOptions options, const SessionGuard& guard)
    : deps_(deps),
      options_(options),
      guard_(guard),
      hasher_(options.passwordLimits),
      throttle_(deps.clock, options.lockout) {}

void LoginApi::registerRoutes(http::Router& router) {
    using M = http::Method;
    // The one console route without a session: it makes them.
    router.addTemplate({M::Post}, strCat(kApiPrefix, "login"),
                       [this](const http::Request& req, const http::PathParams&,
                              http::Responder reply) { login(req, std::move(reply)); });
    SessionRoutes routes(router, guard_);
    routes.add({M::Post}, "logout", BodyRule::Ignored,
               [this](const SessionCall& call) { return logout(call); });
    routes.add({M::Get}, "session", BodyRule::Optional,
               [this](const SessionCall& call) { return sessionInfo(call); });
}

// Secure when the settings ask for it, and on any request that came over TLS (our listener, or a
// trusted proxy that said so): a browser then never sends the cookie over plain HTTP.
std::string LoginApi::sessionCookie(std::string_view token, int64_t maxAgeSeconds,
                                    bool overTls) const {
    return strCat(kSessionCookie, '=', token, "; Path=/; Max-Age=", maxAgeSeconds,
                  "; HttpOnly; SameSite=Strict",
                  options_.secureCookies || overTls ? "; Secure" : "");
}

void LoginApi::login(const http::Request& req, http::Responder reply) {
    auto body = jsonBody(req, true);
    if (!body) {
        reply(errorOut(body.error()));
        return;
    }
    const json& b = *body;
    auto email = b.find("email");
    auto password = b.find("password");
    if (email == b.end() || !email->is_string() || password == b.end() || !password->is_string()) {
        reply(errorOut(badRequest("the body needs \"email\" and \"password\" strings")));
        return;
    }
    for (const auto& [key, v] : b.items()) {
        if (key != "email" && key != "password") {
            reply(errorOut(badRequest(strCat("unknown field '", std::string_view(key).substr(0, 64),
                                             "'; the fields are email and password"))));
            return;
        }
    }
    std::string emailText = email->get<std::string>();
    std::string passwordText = password->get<std::string>();
    const std::string ip = req.clientIp;

    // Refused before any password work, so a locked target costs the server nothing.
    int64_t waitMs = throttle_.begin(emailText, ip);
    if (waitMs > 0) {
        ApiError e = err(429, "console.login_locked",
                         "too many failed logins for this e-mail or from this address; retry "
                         "after the time in Retry-After");
        e.headers.push_back({"retry-after", std::to_string((waitMs + 999) / 1000)});
        reply(errorOut(e));
        return;
    }

    std::string oldSessionHash;
    if (auto old = findCookie(req, kSessionCookie); old && wellFormedToken(*old)) {
        oldSessionHash = hashToken(*old);
    }
    const std::string userAgent =
        loggable(req.header("user-agent").value_or(std::string_view()), kMaxUserAgentBytes);
    // The task owns copies: the request may be gone when it runs.
    auto task = [this, emailText, passwordText, ip, userAgent, oldSessionHash, reply,
                 overTls = req.secure]() mutable {
        finishLogin(emailText, std::move(passwordText), ip, userAgent, std::move(oldSessionHash),
                    overTls, reply);
    };
    if (!deps_.pool.post(std::move(task))) {
        throttle_.finish(emailText, ip, LoginThrottle::Outcome::Aborted);
        reply(errorOut(ApiError{
            503, "console.busy", "too many logins in progress; retry", {{"retry-after", "1"}}}));
        return;
    }
}

void LoginApi::finishLogin(const std::string& email, std::string password, const std::string& ip,
                           const std::string& userAgent, std::string oldSessionHash, bool overTls,
                           const http::Responder& reply) {
    auto account = deps_.credentials.findAccountByEmail(email);
    if (!account) {
        throttle_.finish(email, ip, LoginThrottle::Outcome::Aborted);
        reply(errorOut(storeFailure(account.error())));
        return;
    }
    const std::optional<store::Account>& acc = account.value();
    bool good = false;
    if (acc && !acc->passwordHash.empty()) {
        good = hasher_.verify(acc->passwordHash, password);
    } else {
        // Unknown e-mail or no password set: the same work and the same answer as a wrong
        // password, so neither time nor body tells whether the account exists.
        hasher_.burnVerify(password);
    }
    throttle_.finish(email, ip,
                     good ? LoginThrottle::Outcome::Success : LoginThrottle::Outcome::Failure);
    recordLogin(email, acc ? acc->id : 0, good, ip, userAgent);
    if (!good) {
        reply(errorOut(err(401, "console.login_failed", "wrong e-mail or password")));
        return;
    }

    if (hasher_.needsRehash(acc->passwordHash)) {
        // The cost limits were raised since this hash was made: upgrade it while we hold the
        // password. A failure only postpones the upgrade.
        if (auto h = hasher_.hash(password); h) {
            if (auto r = deps_.credentials.setAccountPassword(acc->id, *h); !r) {
                spdlog::warn("console: rehashing the password of account {} failed: {}", acc->id,
                             r.error().message);
            }
        }
    }

    const int64_t now = deps_.clock.nowMillis();
    const int64_t ttlMs = std::chrono::milliseconds(options_.sessionTtl).count();
    const std::string token = generateToken(deps_.random);
    const std::string csrf = generateToken(deps_.random);
    store::Session s;
    s.tokenHash = hashToken(token);
    s.csrfHash = hashToken(csrf);
    s.accountId = acc->id;
    s.createdAtMs = now;
    s.expiresAtMs = now + ttlMs;
    if (auto r = deps_.sessions.createSession(s); !r) {
        reply(errorOut(storeFailure(r.error())));
        return;
    }
    // A new token on every login (no session fixation); the one the browser held is dropped.
    if (!oldSessionHash.empty()) (void)deps_.sessions.deleteSession(oldSessionHash);
    if (auto r = deps_.sessions.deleteExpiredSessions(now); !r) {
        spdlog::warn("console: pruning expired sessions failed: {}", r.error().message);
    }

    http::Response resp = ok({{"account", {{"id", acc->id}, {"email", acc->email}}},
                              {"csrfToken", csrf},
                              {"expiresAt", formatTimeMs(s.expiresAtMs)}});
    resp.headers.push_back(
        {"set-cookie",
         sessionCookie(token, std::chrono::seconds(options_.sessionTtl).count(), overTls)});
    resp.logUser = logUserOf(acc->id);
    reply(std::move(resp));
}

void LoginApi::recordLogin(const std::string& email, int64_t accountId, bool success,
                           const std::string& ip, const std::string& userAgent) {
    store::AuthEvent e;
    e.atMs = deps_.clock.nowMillis();
    e.api = store::AuthApi::Console;
    e.userName = loggable(email, kMaxEmailBytes);
    e.accountId = accountId;
    e.outcome = success ? store::AuthOutcome::Success : store::AuthOutcome::Failure;
    e.reason = success ? "console.login" : "console.login_failed";
    e.clientIp = ip;
    e.userAgent = userAgent;
    if (auto r = deps_.audit.appendEvents({e}); !r) {
        spdlog::warn("console: recording a login failed: {}", r.error().message);
    }
}

http::Response LoginApi::logout(const SessionCall& call) {
    if (auto r = deps_.sessions.deleteSession(call.session.tokenHash); !r) {
        return errorOut(storeFailure(r.error()));
    }
    http::Response resp = ok({{"loggedOut", true}});
    resp.headers.push_back({"set-cookie", sessionCookie("", 0, call.req.secure)});
    return resp;
}

http::Response LoginApi::sessionInfo(const SessionCall& call) {
    auto acc = deps_.credentials.findAccountById(call.session.accountId);
    if (!acc) return errorOut(storeFailure(acc.error()));
    if (!acc.value()) {
        return errorOut(sessionRequired("the session's account no longer exists; log in again"));
    }
    // The grace an API_KEY reset gives the old key, so the console says what this server does.
    http::Response resp = ok({{"account", {{"id", acc.value()->id}, {"email", acc.value()->email}}},
                              {"expiresAt", formatTimeMs(call.session.expiresAtMs)},
                              {"emailKeyGraceSeconds", deps_.issuer.emailKeyGrace().count()}});
    return resp;
}

}  // namespace sc::console
