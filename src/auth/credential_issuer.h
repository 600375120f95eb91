#pragma once
// CredentialIssuer: creates accounts and API users and mints their keys. The key it returns is
// the only copy in clear; the caller shows it once and forgets it. Used by the operator
// commands, the first-start demo and (later) the management API.

#include <string>
#include <string_view>

#include "auth/key_material.h"
#include "common/clock.h"
#include "common/random.h"
#include "common/result.h"
#include "store/credential_store.h"

namespace sc::auth {

struct IssuedUser {
    store::ApiUser user;
    std::string key;  // shown once
};

struct IssueError {
    enum class Kind { InvalidName, InvalidEmail, Exists, NoSuchAccount, Store };
    Kind kind;
    std::string message;
};

// API_USER and SMS_USER names: ^[a-z][a-z0-9_]{5,63}$ (DESIGN §1.6).
bool isValidUserName(std::string_view name);

class CredentialIssuer {
public:
    CredentialIssuer(store::CredentialStore& store, const KeyMaterial& keys, Random& random,
                     const Clock& clock);

    Result<store::Account, IssueError> createAccount(std::string_view email);
    Result<IssuedUser, IssueError> createUser(std::string_view name, store::UserKind kind,
                                              std::string_view accountEmail);

private:
    store::CredentialStore& store_;
    const KeyMaterial& keys_;
    Random& random_;
    const Clock& clock_;
};

}  // namespace sc::auth
