#pragma once
// UsersApi: an account's API users of both kinds (docs/api.md §15):
//   GET, POST               /console/api/{email-users|sms-users}
//   GET, PATCH, DELETE      /console/api/{email-users|sms-users}/{name}
//   POST                    /console/api/{email-users|sms-users}/{name}/key (or /reset)
//                           {"revokeOld"?}: a new key; an email user's old one keeps working
//                           through the grace period unless revoked
// An account sees only its own users: another account's user, or a user of the other kind, is a
// 404 indistinguishable from a missing one. Keys appear in exactly one response, the one that
// created them; nothing here logs them.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "auth/credential_issuer.h"
#include "common/clock.h"
#include "console/api_room.h"
#include "store/audit_store.h"
#include "store/credential_store.h"

namespace sc::console {

struct UsersDeps {
    store::CredentialStore& credentials;
    store::AuditStore& audit;  // last use of a key, and how often one in its grace period is used
    auth::CredentialIssuer& issuer;
    const Clock& clock;
};

class UsersApi {
public:
    // `smsRoutes`: the server's [[sms_route]] names, the routes an SMS user may choose.
    UsersApi(UsersDeps deps, std::vector<std::string> smsRoutes, const SessionGuard& guard);

    void registerRoutes(http::Router& router);

private:
    http::Response listUsers(const SessionCall& call, store::UserKind kind);
    http::Response createUser(const SessionCall& call, store::UserKind kind);
    http::Response getUser(const SessionCall& call, store::UserKind kind, const std::string& name);
    http::Response patchUser(const SessionCall& call, store::UserKind kind,
                             const std::string& name);
    http::Response deleteUser(const SessionCall& call, store::UserKind kind,
                              const std::string& name);
    http::Response resetKey(const SessionCall& call, store::UserKind kind, const std::string& name);

    Result<store::ApiUser, api::ApiError> ownedUser(const SessionCall& call, store::UserKind kind,
                                                    const std::string& name);
    Result<nlohmann::json, api::ApiError> userView(const store::ApiUser& user);

    UsersDeps deps_;
    std::vector<std::string> smsRoutes_;
    const SessionGuard& guard_;
};

}  // namespace sc::console
