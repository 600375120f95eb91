#include "console/management_api.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <optional>
#include <vector>

#include "console/console_errors.h"
#include "console/policy_patch.h"
#include "console/session_tokens.h"
#include "console/str_cat.h"
#include "console/time_param.h"
#include "domain/limits.h"
#include "http/params.h"
#include "http/request_params.h"

namespace sc::console {

using api::ApiError;
using nlohmann::json;

namespace {

constexpr std::string_view kKindEmail = "email-users";
constexpr std::string_view kKindSms = "sms-users";
constexpr size_t kMaxEmailBytes = 254;
constexpr size_t kMaxUserAgentBytes = 256;
// A key counts as "in use" when a request authenticated with it in this window.
constexpr std::chrono::milliseconds kKeyUseWindow = std::chrono::hours(1);

// ---- errors -------------------------------------------------------------------------------

ApiError notFound(store::UserKind kind, std::string_view name) {
    // The same answer whether the user is missing, another account's, or of the other kind:
    // nothing here may tell one account about another's users.
    return err(404, "console.not_found",
               strCat("this account has no ", store::userKindName(kind), " user named '",
                      name.substr(0, 64), "'"));
}

ApiError issueFailure(const auth::IssueError& e, store::UserKind kind, std::string_view name) {
    switch (e.kind) {
        case auth::IssueError::Kind::InvalidName:
            return err(400, "console.invalid_name", e.message);
        case auth::IssueError::Kind::Exists:
            return err(409, "console.name_taken", e.message);
        case auth::IssueError::Kind::NoSuchUser:
            return notFound(kind, name);
        case auth::IssueError::Kind::NoSuchAccount:
            return sessionRequired("the session's account no longer exists; log in again");
        case auth::IssueError::Kind::InvalidEmail:
        case auth::IssueError::Kind::Store:
            break;
    }
    spdlog::error("console: issuing a key failed: {}", e.message);
    return api::storeUnavailable(api::StoreCaller::Console);
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

std::optional<store::UserKind> kindOf(std::string_view segment) {
    if (segment == kKindEmail) return store::UserKind::Email;
    if (segment == kKindSms) return store::UserKind::Sms;
    return std::nullopt;
}

const char* keyField(store::UserKind kind) {
    return kind == store::UserKind::Email ? "apiKey" : "smsKey";
}

// Text from a client that goes into the audit log: bounded, and without control characters
// that could forge log lines.
std::string loggable(std::string_view s, size_t max) {
    if (s.size() > max) return "-";
    for (unsigned char c : s) {
        if (c < 0x20 || c == 0x7f) return "-";
    }
    return std::string(s);
}

}  // namespace

// ---- routing -------------------------------------------------------------------------------

struct ManagementApi::Context {
    const http::Request& req;
    store::Session session;
    json body;  // {} for bodiless requests
};

ManagementApi::ManagementApi(ManagementDeps deps, ManagementOptions options)
    : deps_(deps),
      options_(options),
      guard_(deps.clock, deps.sessions),
      hasher_(options.passwordLimits),
      throttle_(deps.clock, options.lockout) {}

Result<std::string, std::string> ManagementApi::hashPassword(std::string_view password,
                                                             const PasswordLimits& limits) {
    return console::hashPassword(password, limits);
}

void ManagementApi::registerRoutes(http::Router& router) {
    router.addPrefix(
        std::string(kApiPrefix),
        [this](const http::Request& req, http::Responder reply) { handle(req, std::move(reply)); });
}

void ManagementApi::handle(const http::Request& req, http::Responder reply) {
    using M = http::Method;
    std::string_view path = req.path;
    if (path.substr(0, kApiPrefix.size()) != kApiPrefix) {
        reply(errorOut(err(404, "request.not_found", "no such endpoint")));
        return;
    }
    std::string_view rest = path.substr(kApiPrefix.size());
    if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);

    std::vector<std::string> seg;
    while (!rest.empty() && seg.size() <= 3) {
        auto slash = rest.find('/');
        auto decoded = http::percentDecode(rest.substr(0, slash), /*plusIsSpace=*/false);
        if (!decoded || decoded->empty()) break;
        seg.push_back(std::move(decoded).value());
        rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    }
    auto noEndpoint = [&] {
        reply(errorOut(
            err(404, "request.not_found", strCat("no such endpoint: ", req.path.substr(0, 200)))));
    };
    if (!rest.empty() || seg.empty()) return noEndpoint();

    // Which endpoint, and which methods it takes.
    enum class Ep {
        Login,
        Logout,
        Session,
        Events,
        Usage,
        Users,
        User,
        Key,
        Templates,
        SmsTemplates
    };
    Ep ep = Ep::Login;
    std::optional<store::UserKind> kind;
    std::vector<M> methods;
    auto route = [&](Ep e, std::vector<M> m) {
        ep = e;
        methods = std::move(m);
    };
    if (seg.size() == 1 && seg[0] == "login") {
        route(Ep::Login, {M::Post});
    } else if (seg.size() == 1 && seg[0] == "logout") {
        route(Ep::Logout, {M::Post});
    } else if (seg.size() == 1 && seg[0] == "session") {
        route(Ep::Session, {M::Get});
    } else if (seg.size() == 1 && seg[0] == "auth-events") {
        route(Ep::Events, {M::Get});
    } else if (seg.size() == 1 && seg[0] == "usage") {
        route(Ep::Usage, {M::Get});
    } else if ((seg[0] == "templates" || seg[0] == "sms-templates") && seg.size() <= 2) {
        route(seg[0] == "templates" ? Ep::Templates : Ep::SmsTemplates,
              seg.size() == 1 ? std::vector<M>{M::Get, M::Post}
                              : std::vector<M>{M::Get, M::Patch, M::Delete});
    } else if ((kind = kindOf(seg[0]))) {
        if (seg.size() == 1) {
            route(Ep::Users, {M::Get, M::Post});
        } else if (seg.size() == 2) {
            route(Ep::User, {M::Get, M::Patch, M::Delete});
        } else if (seg.size() == 3 && (seg[2] == "key" || seg[2] == "reset")) {
            route(Ep::Key, {M::Post});
        } else {
            return noEndpoint();
        }
    } else {
        return noEndpoint();
    }
    if (std::find(methods.begin(), methods.end(), req.method) == methods.end()) {
        std::string allowed;
        for (auto m : methods) {
            if (!allowed.empty()) allowed += ", ";
            allowed += http::methodName(m);
        }
        ApiError e =
            err(405, "request.method_not_allowed",
                strCat(http::methodName(req.method), " is not allowed here; use ", allowed));
        e.headers.push_back({"allow", allowed});
        reply(errorOut(e));
        return;
    }

    if (ep == Ep::Login) {
        login(req, std::move(reply));
        return;
    }

    auto session = guard_.authenticate(req);
    if (!session) {
        reply(errorOut(session.error()));
        return;
    }
    // Only these take a body; PATCH and create must have one.
    const bool takesBody = isStateChanging(req.method) && ep != Ep::Logout;
    json body = json::object();
    if (takesBody) {
        auto b =
            jsonBody(req, req.method == M::Patch ||
                              ((ep == Ep::Users || ep == Ep::Templates || ep == Ep::SmsTemplates) &&
                               req.method == M::Post));
        if (!b) {
            reply(errorOut(b.error()));
            return;
        }
        body = std::move(b).value();
    }
    Context ctx{req, std::move(session).value(), std::move(body)};

    http::Response r;
    switch (ep) {
        case Ep::Logout:
            r = logout(ctx);
            break;
        case Ep::Session:
            r = sessionInfo(ctx);
            break;
        case Ep::Events:
            r = authEvents(ctx);
            break;
        case Ep::Usage:
            r = usage(ctx);
            break;
        case Ep::Users:
            r = req.method == M::Get ? listUsers(ctx, *kind) : createUser(ctx, *kind);
            break;
        case Ep::User:
            r = req.method == M::Get     ? getUser(ctx, *kind, seg[1])
                : req.method == M::Patch ? patchUser(ctx, *kind, seg[1])
                                         : deleteUser(ctx, *kind, seg[1]);
            break;
        case Ep::Key:
            r = resetKey(ctx, *kind, seg[1]);
            break;
        case Ep::Templates:
            r = emailTemplates(ctx, seg.size() > 1 ? seg[1] : std::string());
            break;
        case Ep::SmsTemplates:
            r = smsTemplates(ctx, seg.size() > 1 ? seg[1] : std::string());
            break;
        case Ep::Login:
            break;  // answered above
    }
    // The access log names who acted (an id, not the e-mail: the log is kept longer).
    if (r.logUser.empty()) r.logUser = strCat("account:", ctx.session.accountId);
    reply(std::move(r));
}

// ---- sessions ------------------------------------------------------------------------------

// Secure when the settings ask for it, and on any request that came over TLS (our listener, or a
// trusted proxy that said so): a browser then never sends the cookie over plain HTTP.
std::string ManagementApi::sessionCookie(std::string_view token, int64_t maxAgeSeconds,
                                         bool overTls) const {
    return strCat(kSessionCookie, '=', token, "; Path=/; Max-Age=", maxAgeSeconds,
                  "; HttpOnly; SameSite=Strict",
                  options_.secureCookies || overTls ? "; Secure" : "");
}

void ManagementApi::login(const http::Request& req, http::Responder reply) {
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

void ManagementApi::finishLogin(const std::string& email, std::string password,
                                const std::string& ip, const std::string& userAgent,
                                std::string oldSessionHash, bool overTls,
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
    resp.logUser = strCat("account:", acc->id);
    reply(std::move(resp));
}

void ManagementApi::recordLogin(const std::string& email, int64_t accountId, bool success,
                                const std::string& ip, const std::string& userAgent) {
    store::AuthEvent e;
    e.atMs = deps_.clock.nowMillis();
    e.api = "console";
    e.userName = loggable(email, kMaxEmailBytes);
    e.accountId = accountId;
    e.outcome = success ? "success" : "failure";
    e.reason = success ? "console.login" : "console.login_failed";
    e.clientIp = ip;
    e.userAgent = userAgent;
    if (auto r = deps_.audit.appendEvents({e}); !r) {
        spdlog::warn("console: recording a login failed: {}", r.error().message);
    }
}

http::Response ManagementApi::logout(const Context& ctx) {
    if (auto r = deps_.sessions.deleteSession(ctx.session.tokenHash); !r) {
        return errorOut(storeFailure(r.error()));
    }
    http::Response resp = ok({{"loggedOut", true}});
    resp.headers.push_back({"set-cookie", sessionCookie("", 0, ctx.req.secure)});
    return resp;
}

http::Response ManagementApi::sessionInfo(const Context& ctx) {
    auto acc = deps_.credentials.findAccountById(ctx.session.accountId);
    if (!acc) return errorOut(storeFailure(acc.error()));
    if (!acc.value()) {
        return errorOut(sessionRequired("the session's account no longer exists; log in again"));
    }
    // The grace an API_KEY reset gives the old key, so the console says what this server does.
    http::Response resp = ok({{"account", {{"id", acc.value()->id}, {"email", acc.value()->email}}},
                              {"expiresAt", formatTimeMs(ctx.session.expiresAtMs)},
                              {"emailKeyGraceSeconds", deps_.issuer.emailKeyGrace().count()}});
    return resp;
}

// ---- users ---------------------------------------------------------------------------------

Result<store::ApiUser, ApiError> ManagementApi::ownedUser(const Context& ctx, store::UserKind kind,
                                                          const std::string& name) {
    if (!auth::isValidUserName(name)) return fail(notFound(kind, name));
    auto found = deps_.credentials.findUser(name);
    if (!found) return fail(storeFailure(found.error()));
    const auto& u = found.value();
    if (!u || u->accountId != ctx.session.accountId || u->kind != kind) {
        return fail(notFound(kind, name));
    }
    return *u;
}

Result<json, ApiError> ManagementApi::userView(const store::ApiUser& u) {
    json j = {{"name", u.name},
              {"kind", store::userKindName(u.kind)},
              {"purpose", u.policy.purpose},
              {"disabled", u.disabled},
              {"testMode", u.policy.testMode},
              {"ipAllowlist", u.policy.ipAllowlist}};
    if (u.kind == store::UserKind::Email) j["senderDomains"] = u.policy.senderDomains;
    if (u.kind == store::UserKind::Sms) j["smsRoute"] = u.policy.smsRoute;
    j["rateLimitPerMinute"] = u.policy.rateLimitPerMinute;
    j["dailyQuota"] = u.policy.dailyQuota;
    j["keyFingerprint"] = u.keyFingerprint;
    j["keyCreatedAt"] = formatTimeMs(u.keyCreatedAtMs);
    j["createdAt"] = formatTimeMs(u.createdAtMs);
    auto lastUse = deps_.audit.lastUseOf(u.id);
    if (!lastUse) return fail(storeFailure(lastUse.error()));
    j["lastUsedAt"] = lastUse.value() ? json(formatTimeMs(*lastUse.value())) : json(nullptr);
    if (u.kind != store::UserKind::Email) return j;  // an SMS key never has a grace period

    const int64_t now = deps_.clock.nowMillis();
    auto retired = deps_.credentials.retiredKeys(u.id);
    if (!retired) return fail(storeFailure(retired.error()));
    j["graceKey"] = nullptr;
    for (const auto& k : retired.value()) {
        if (k.expiresAtMs <= now) continue;
        auto uses = deps_.audit.countKeyUses(u.id, k.keyFingerprint, now - kKeyUseWindow.count());
        if (!uses) return fail(storeFailure(uses.error()));
        j["graceKey"] = {{"fingerprint", k.keyFingerprint},
                         {"resetAt", formatTimeMs(k.resetAtMs)},
                         {"expiresAt", formatTimeMs(k.expiresAtMs)},
                         {"requestsLastHour", uses.value()}};
        break;  // at most one retired key is valid at a time
    }
    return j;
}

http::Response ManagementApi::listUsers(const Context& ctx, store::UserKind kind) {
    auto users = deps_.credentials.listUsers(ctx.session.accountId);
    if (!users) return errorOut(storeFailure(users.error()));
    json list = json::array();
    for (const auto& u : users.value()) {
        if (u.kind != kind || u.accountId != ctx.session.accountId) continue;
        auto v = userView(u);
        if (!v) return errorOut(v.error());
        list.push_back(std::move(v).value());
    }
    return ok({{"users", std::move(list)}});
}

http::Response ManagementApi::createUser(const Context& ctx, store::UserKind kind) {
    auto name = ctx.body.find("name");
    if (name == ctx.body.end() || !name->is_string()) {
        return errorOut(badRequest("the body needs a \"name\" string"));
    }
    auto patch =
        parsePolicyPatch(ctx.body, kind, /*allowDisabled=*/false, {"name"}, options_.smsRoutes);
    if (!patch) return errorOut(patch.error());
    store::UserPolicy policy;
    bool disabled = false;
    patch->applyTo(policy, disabled);
    const std::string n = name->get<std::string>();
    auto issued = deps_.issuer.createUserForAccount(n, kind, ctx.session.accountId, policy);
    if (!issued) return errorOut(issueFailure(issued.error(), kind, n));
    auto view = userView(issued->user);
    if (!view) return errorOut(view.error());
    spdlog::info("console: account {} created {} user {} (key {})", ctx.session.accountId,
                 store::userKindName(kind), issued->user.name, issued->user.keyFingerprint);
    return ok({{"user", std::move(view).value()}, {keyField(kind), issued->key}});
}

http::Response ManagementApi::getUser(const Context& ctx, store::UserKind kind,
                                      const std::string& name) {
    auto u = ownedUser(ctx, kind, name);
    if (!u) return errorOut(u.error());
    auto view = userView(*u);
    if (!view) return errorOut(view.error());
    return ok({{"user", std::move(view).value()}});
}

http::Response ManagementApi::patchUser(const Context& ctx, store::UserKind kind,
                                        const std::string& name) {
    // Ownership first: another account's user is a 404 whatever the body says.
    auto u = ownedUser(ctx, kind, name);
    if (!u) return errorOut(u.error());
    auto patch = parsePolicyPatch(ctx.body, kind, /*allowDisabled=*/true, {}, options_.smsRoutes);
    if (!patch) return errorOut(patch.error());
    store::UserPolicy policy = u->policy;
    bool disabled = u->disabled;
    patch->applyTo(policy, disabled);
    auto updated = deps_.credentials.updateUser(u->id, policy, disabled);
    if (!updated) {
        if (updated.error().kind == store::StoreError::Kind::NotFound) {
            return errorOut(notFound(kind, name));
        }
        return errorOut(storeFailure(updated.error()));
    }
    auto view = userView(updated.value());
    if (!view) return errorOut(view.error());
    return ok({{"user", std::move(view).value()}});
}

http::Response ManagementApi::deleteUser(const Context& ctx, store::UserKind kind,
                                         const std::string& name) {
    auto u = ownedUser(ctx, kind, name);
    if (!u) return errorOut(u.error());
    if (auto r = deps_.credentials.deleteUser(u->id); !r) {
        if (r.error().kind == store::StoreError::Kind::NotFound) {
            return errorOut(notFound(kind, name));
        }
        return errorOut(storeFailure(r.error()));
    }
    spdlog::info("console: account {} deleted {} user {}", ctx.session.accountId,
                 store::userKindName(kind), name);
    return ok({{"deleted", name}});
}

http::Response ManagementApi::resetKey(const Context& ctx, store::UserKind kind,
                                       const std::string& name) {
    auto u = ownedUser(ctx, kind, name);
    if (!u) return errorOut(u.error());
    bool revokeOld = false;
    for (const auto& [key, v] : ctx.body.items()) {
        if (key != "revokeOld") {
            return errorOut(
                badRequest(strCat("unknown field '", std::string_view(key).substr(0, 64),
                                  "'; the only field is revokeOld")));
        }
        if (!v.is_boolean()) return errorOut(badRequest("revokeOld must be true or false"));
        revokeOld = v.get<bool>();
    }
    const std::string oldFingerprint = u->keyFingerprint;
    // For an SMS user the old key is gone from the store when this returns, and the verifier
    // reads the store on every request: it is refused before our answer leaves.
    auto issued = deps_.issuer.resetKey(u->id, revokeOld);
    if (!issued) return errorOut(issueFailure(issued.error(), kind, name));

    // Report the expiry the store holds rather than recomputing it, so the console shows what
    // the verifier will enforce.
    auto retired = deps_.credentials.retiredKeys(u->id);
    if (!retired) return errorOut(storeFailure(retired.error()));
    std::optional<int64_t> oldExpires;
    for (const auto& k : retired.value()) {
        if (k.keyFingerprint == oldFingerprint) {
            oldExpires = k.expiresAtMs;
            break;
        }
    }
    auto view = userView(issued->user);
    if (!view) return errorOut(view.error());
    spdlog::info("console: account {} reset the key of {} user {} (old key {}, new key {}{})",
                 ctx.session.accountId, store::userKindName(kind), name, oldFingerprint,
                 issued->user.keyFingerprint, revokeOld ? ", old key revoked" : "");
    json info = {{"user", std::move(view).value()},
                 {keyField(kind), issued->key},
                 {"oldKeyFingerprint", oldFingerprint},
                 {"oldKeyExpiresAt", oldExpires ? json(formatTimeMs(*oldExpires)) : json(nullptr)}};
    return ok(std::move(info));
}

// ---- audit -----------------------------------------------------------------------------------

http::Response ManagementApi::authEvents(const Context& ctx) {
    auto q = queryParams(ctx.req, {"user", "outcome", "from", "to", "before", "limit"});
    if (!q) return errorOut(q.error());
    store::AuthEventQuery query;
    query.accountId = ctx.session.accountId;
    query.userName = std::string(q->get("user").value_or(""));
    query.outcome = std::string(q->get("outcome").value_or(""));
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
    auto events = deps_.audit.queryEvents(query);
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
                        {"api", e.api},
                        {"user", e.userName},
                        {"outcome", e.outcome},
                        {"reason", e.reason},
                        {"keyFingerprint", e.keyFingerprint},
                        {"clientIp", e.clientIp},
                        {"userAgent", e.userAgent},
                        {"attempts", e.attempts},
                        {"lastAt", formatTimeMs(e.lastAttemptAtMs())}});
    }
    return ok({{"events", std::move(list)}, {"nextBefore", nextBefore}});
}

http::Response ManagementApi::usage(const Context& ctx) {
    auto q = queryParams(ctx.req, {"user", "from", "to"});
    if (!q) return errorOut(q.error());
    auto from = timeQuery(*q, "from");
    if (!from) return errorOut(from.error());
    auto to = timeQuery(*q, "to");
    if (!to) return errorOut(to.error());
    store::UsageQuery query;
    query.accountId = ctx.session.accountId;
    query.userName = std::string(q->get("user").value_or(""));
    const int64_t windowMs = std::chrono::milliseconds(options_.defaultUsageWindow).count();
    const int64_t end = to->value_or(deps_.clock.nowMillis() + 1);
    query.toMs = to->value_or(INT64_MAX);
    query.fromMs = from->value_or(end - windowMs);
    if (query.fromMs >= query.toMs) return errorOut(badRequest("from must be before to"));
    auto rows = deps_.audit.queryUsage(query);
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

// ---- templates -----------------------------------------------------------------------------

namespace {

json emailTemplateView(const store::EmailTemplate& t) {
    return {{"invokeName", t.invokeName},
            {"name", t.name},
            {"subject", t.subject},
            {"html", t.html},
            {"plain", t.plain},
            {"createdAt", formatTimeMs(t.createdAtMs)},
            {"updatedAt", formatTimeMs(t.updatedAtMs)}};
}

json smsTemplateView(const store::SmsTemplate& t) {
    return {{"id", t.id},
            {"name", t.name},
            {"text", t.text},
            {"createdAt", formatTimeMs(t.createdAtMs)},
            {"updatedAt", formatTimeMs(t.updatedAtMs)}};
}

// Copies the string fields of `body` named in `fields` into `out`; refuses any other field.
Result<Ok, ApiError> stringFields(
    const json& body, std::initializer_list<std::pair<const char*, std::string*>> fields) {
    for (const auto& [key, value] : body.items()) {
        bool known = false;
        for (const auto& [name, target] : fields) {
            if (key != name) continue;
            known = true;
            if (!value.is_string())
                return fail(badRequest(strCat("\"", key, "\" must be a string")));
            *target = value.get<std::string>();
        }
        if (!known) return fail(badRequest(strCat("unknown field \"", key.substr(0, 64), "\"")));
    }
    return Ok{};
}

ApiError templateNotFound(std::string_view what) {
    return err(404, "console.not_found", strCat("no ", what));
}

}  // namespace

http::Response ManagementApi::emailTemplates(const Context& ctx, const std::string& invokeName) {
    using M = http::Method;
    auto& store = deps_.templates;
    const int64_t account = ctx.session.accountId;
    const std::string what = strCat("template '", invokeName.substr(0, 64), "'");
    if (invokeName.empty() && ctx.req.method == M::Get) {
        auto list = store.listEmailTemplates(account);
        if (!list) return errorOut(storeFailure(list.error()));
        json out = json::array();
        for (const auto& t : list.value()) out.push_back(emailTemplateView(t));
        return ok({{"templates", std::move(out)}});
    }
    if (ctx.req.method == M::Delete) {
        auto r = store.deleteEmailTemplate(account, invokeName);
        if (!r) {
            return errorOut(r.error().kind == store::StoreError::Kind::NotFound
                                ? templateNotFound(what)
                                : storeFailure(r.error()));
        }
        return ok({{"deleted", invokeName}});
    }
    store::EmailTemplate t;
    if (!invokeName.empty()) {
        auto found = store.findEmailTemplate(account, invokeName);
        if (!found) return errorOut(storeFailure(found.error()));
        if (!found.value()) return errorOut(templateNotFound(what));
        if (ctx.req.method == M::Get) return ok({{"template", emailTemplateView(*found.value())}});
        t = *found.value();
    }
    std::string newInvokeName = t.invokeName;
    if (auto r = stringFields(ctx.body, {{"invokeName", &newInvokeName},
                                         {"name", &t.name},
                                         {"subject", &t.subject},
                                         {"html", &t.html},
                                         {"plain", &t.plain}});
        !r) {
        return errorOut(r.error());
    }
    if (!invokeName.empty() && newInvokeName != invokeName) {
        return errorOut(badRequest("invokeName cannot change; create a new template instead"));
    }
    if (newInvokeName.empty() || newInvokeName.size() > 64 || t.name.size() > 256 ||
        t.subject.size() > domain::kMaxSubjectBytes ||
        t.subject.find_first_of("\r\n") != std::string::npos) {
        return errorOut(err(400, "console.invalid_value",
                            strCat("invokeName must have 1 to 64 characters, name at most 256, "
                                   "and the subject one line of at most ",
                                   std::to_string(domain::kMaxSubjectBytes), " bytes")));
    }
    if (t.html.empty() && t.plain.empty()) {
        return errorOut(err(400, "console.invalid_value", "a template needs html or plain"));
    }
    t.accountId = account;
    t.invokeName = newInvokeName;
    if (t.name.empty()) t.name = t.invokeName;
    t.updatedAtMs = deps_.clock.nowMillis();
    if (invokeName.empty()) t.createdAtMs = t.updatedAtMs;
    auto saved = invokeName.empty() ? store.createEmailTemplate(t) : store.updateEmailTemplate(t);
    if (!saved) {
        if (saved.error().kind == store::StoreError::Kind::Conflict) {
            return errorOut(err(
                409, "console.name_taken",
                strCat("a template with invokeName '", t.invokeName.substr(0, 64), "' exists")));
        }
        if (saved.error().kind == store::StoreError::Kind::NotFound) {
            return errorOut(templateNotFound(what));
        }
        return errorOut(storeFailure(saved.error()));
    }
    return ok({{"template", emailTemplateView(saved.value())}});
}

http::Response ManagementApi::smsTemplates(const Context& ctx, const std::string& idText) {
    using M = http::Method;
    auto& store = deps_.templates;
    const int64_t account = ctx.session.accountId;
    if (idText.empty() && ctx.req.method == M::Get) {
        auto list = store.listSmsTemplates(account);
        if (!list) return errorOut(storeFailure(list.error()));
        json out = json::array();
        for (const auto& t : list.value()) out.push_back(smsTemplateView(t));
        return ok({{"templates", std::move(out)}});
    }
    int64_t id = 0;
    if (!idText.empty()) {
        auto parsed = domain::parseTemplateId(idText);
        if (!parsed) return errorOut(templateNotFound("such SMS template"));
        id = *parsed;
        // Ids start at 1. An item path only reads or changes what exists: were 0 read as "new",
        // PATCH /sms-templates/0 would create a template (creating is POST on the collection).
        if (id == 0) return errorOut(templateNotFound("such SMS template"));
    }
    const std::string what = strCat("SMS template ", idText);
    if (ctx.req.method == M::Delete) {
        auto r = store.deleteSmsTemplate(account, id);
        if (!r) {
            return errorOut(r.error().kind == store::StoreError::Kind::NotFound
                                ? templateNotFound(what)
                                : storeFailure(r.error()));
        }
        return ok({{"deleted", id}});
    }
    store::SmsTemplate t;
    if (id != 0) {
        auto found = store.findSmsTemplate(account, id);
        if (!found) return errorOut(storeFailure(found.error()));
        if (!found.value()) return errorOut(templateNotFound(what));
        if (ctx.req.method == M::Get) return ok({{"template", smsTemplateView(*found.value())}});
        t = *found.value();
    }
    if (auto r = stringFields(ctx.body, {{"name", &t.name}, {"text", &t.text}}); !r) {
        return errorOut(r.error());
    }
    if (t.text.empty() || t.text.size() > 4000 || t.name.size() > 256) {
        return errorOut(
            err(400, "console.invalid_value",
                "an SMS template needs a text of at most 4000 bytes (name at most 256)"));
    }
    t.accountId = account;
    t.updatedAtMs = deps_.clock.nowMillis();
    if (id == 0) t.createdAtMs = t.updatedAtMs;
    auto saved = id == 0 ? store.createSmsTemplate(t) : store.updateSmsTemplate(t);
    if (!saved) {
        return errorOut(saved.error().kind == store::StoreError::Kind::NotFound
                            ? templateNotFound(what)
                            : storeFailure(saved.error()));
    }
    return ok({{"template", smsTemplateView(saved.value())}});
}

}  // namespace sc::console
