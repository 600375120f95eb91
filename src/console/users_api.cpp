#include "console/users_api.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <optional>
#include <utility>

#include "console/console_errors.h"
#include "console/policy_patch.h"
#include "console/str_cat.h"
#include "console/time_param.h"

namespace sc::console {

using api::ApiError;
using nlohmann::json;

namespace {

// A key counts as "in use" when a request authenticated with it in this window.
constexpr std::chrono::milliseconds kKeyUseWindow = std::chrono::hours(1);

ApiError notFound(store::UserKind kind, std::string_view name) {
    // The same answer whether the user is missing, another account's, or of the other kind:
    // nothing here may tell one account about another's users.
    return err(404, "console.not_found",
               strCat("this account has no ", store::userKindName(kind), " user named '",
                      name.substr(0, 64), "'"));
}

// A store's NotFound is the user's 404 (the user went meanwhile); anything else a store failure.
ApiError userStoreError(const store::StoreError& e, store::UserKind kind, std::string_view name) {
    return e.kind == store::StoreError::Kind::NotFound ? notFound(kind, name) : storeFailure(e);
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

// The path segment each kind of user lives under.
std::string_view kindPath(store::UserKind kind) {
    return kind == store::UserKind::Email ? "email-users" : "sms-users";
}

const char* keyField(store::UserKind kind) {
    return kind == store::UserKind::Email ? "apiKey" : "smsKey";
}

}  // namespace

UsersApi::UsersApi(UsersDeps deps, std::vector<std::string> smsRoutes, const SessionGuard& guard)
    : deps_(deps), smsRoutes_(std::move(smsRoutes)), guard_(guard) {}

void UsersApi::registerRoutes(http::Router& router) {
    using M = http::Method;
    SessionRoutes routes(router, guard_);
    for (auto kind : {store::UserKind::Email, store::UserKind::Sms}) {
        const std::string users(kindPath(kind));
        routes.add({M::Get, M::Post}, users, BodyRule::RequiredOnPost,
                   [this, kind](const SessionCall& call) {
                       return call.req.method == M::Get ? listUsers(call, kind)
                                                        : createUser(call, kind);
                   });
        routes.add({M::Get, M::Patch, M::Delete}, strCat(users, "/{name}"), BodyRule::Optional,
                   [this, kind](const SessionCall& call) {
                       const std::string name(call.path.get("name"));
                       return call.req.method == M::Get     ? getUser(call, kind, name)
                              : call.req.method == M::Patch ? patchUser(call, kind, name)
                                                            : deleteUser(call, kind, name);
                   });
        // Two spellings of one endpoint (docs/api.md §15).
        for (const char* action : {"/{name}/key", "/{name}/reset"}) {
            routes.add({M::Post}, strCat(users, action), BodyRule::Optional,
                       [this, kind](const SessionCall& call) {
                           return resetKey(call, kind, std::string(call.path.get("name")));
                       });
        }
    }
}

Result<store::ApiUser, ApiError> UsersApi::ownedUser(const SessionCall& call, store::UserKind kind,
                                                     const std::string& name) {
    if (!auth::isValidUserName(name)) return fail(notFound(kind, name));
    auto found = deps_.credentials.findUser(name);
    if (!found) return fail(storeFailure(found.error()));
    const auto& u = found.value();
    if (!u || u->accountId != call.session.accountId || u->kind != kind) {
        return fail(notFound(kind, name));
    }
    return *u;
}

Result<json, ApiError> UsersApi::userView(const store::ApiUser& u) {
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

http::Response UsersApi::listUsers(const SessionCall& call, store::UserKind kind) {
    auto users = deps_.credentials.listUsers(call.session.accountId);
    if (!users) return errorOut(storeFailure(users.error()));
    json list = json::array();
    for (const auto& u : users.value()) {
        if (u.kind != kind || u.accountId != call.session.accountId) continue;
        auto v = userView(u);
        if (!v) return errorOut(v.error());
        list.push_back(std::move(v).value());
    }
    return ok({{"users", std::move(list)}});
}

http::Response UsersApi::createUser(const SessionCall& call, store::UserKind kind) {
    auto name = call.body.find("name");
    if (name == call.body.end() || !name->is_string()) {
        return errorOut(badRequest("the body needs a \"name\" string"));
    }
    auto patch = parsePolicyPatch(call.body, kind, /*allowDisabled=*/false, {"name"}, smsRoutes_);
    if (!patch) return errorOut(patch.error());
    store::UserPolicy policy;
    bool disabled = false;
    patch->applyTo(policy, disabled);
    const std::string n = name->get<std::string>();
    auto issued = deps_.issuer.createUserForAccount(n, kind, call.session.accountId, policy);
    if (!issued) return errorOut(issueFailure(issued.error(), kind, n));
    auto view = userView(issued->user);
    if (!view) return errorOut(view.error());
    spdlog::info("console: account {} created {} user {} (key {})", call.session.accountId,
                 store::userKindName(kind), issued->user.name, issued->user.keyFingerprint);
    return ok({{"user", std::move(view).value()}, {keyField(kind), issued->key}});
}

http::Response UsersApi::getUser(const SessionCall& call, store::UserKind kind,
                                 const std::string& name) {
    auto u = ownedUser(call, kind, name);
    if (!u) return errorOut(u.error());
    auto view = userView(*u);
    if (!view) return errorOut(view.error());
    return ok({{"user", std::move(view).value()}});
}

http::Response UsersApi::patchUser(const SessionCall& call, store::UserKind kind,
                                   const std::string& name) {
    // Ownership first: another account's user is a 404 whatever the body says.
    auto u = ownedUser(call, kind, name);
    if (!u) return errorOut(u.error());
    auto patch = parsePolicyPatch(call.body, kind, /*allowDisabled=*/true, {}, smsRoutes_);
    if (!patch) return errorOut(patch.error());
    store::UserPolicy policy = u->policy;
    bool disabled = u->disabled;
    patch->applyTo(policy, disabled);
    auto updated = deps_.credentials.updateUser(u->id, policy, disabled);
    if (!updated) {
        return errorOut(userStoreError(updated.error(), kind, name));
    }
    auto view = userView(updated.value());
    if (!view) return errorOut(view.error());
    return ok({{"user", std::move(view).value()}});
}

http::Response UsersApi::deleteUser(const SessionCall& call, store::UserKind kind,
                                    const std::string& name) {
    auto u = ownedUser(call, kind, name);
    if (!u) return errorOut(u.error());
    if (auto r = deps_.credentials.deleteUser(u->id); !r) {
        return errorOut(userStoreError(r.error(), kind, name));
    }
    spdlog::info("console: account {} deleted {} user {}", call.session.accountId,
                 store::userKindName(kind), name);
    return ok({{"deleted", name}});
}

http::Response UsersApi::resetKey(const SessionCall& call, store::UserKind kind,
                                  const std::string& name) {
    auto u = ownedUser(call, kind, name);
    if (!u) return errorOut(u.error());
    bool revokeOld = false;
    for (const auto& [key, v] : call.body.items()) {
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
                 call.session.accountId, store::userKindName(kind), name, oldFingerprint,
                 issued->user.keyFingerprint, revokeOld ? ", old key revoked" : "");
    json info = {{"user", std::move(view).value()},
                 {keyField(kind), issued->key},
                 {"oldKeyFingerprint", oldFingerprint},
                 {"oldKeyExpiresAt", oldExpires ? json(formatTimeMs(*oldExpires)) : json(nullptr)}};
    return ok(std::move(info));
}

}  // namespace sc::console
