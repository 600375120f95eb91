#pragma once
// CredentialIssuer: creates accounts and API users and mints their keys, and resets keys with
// the grace rules of docs/api.md §2 (rule 6): an API_KEY reset keeps the old key valid for the
// grace period (unless revokeOld), an SMS_KEY reset ends the old key at once. The key it returns is
// the only copy in clear; the caller shows it once and forgets it. Used by the operator commands,
// the first-start demo and the management API alike, so the rules cannot differ between them.

#include <chrono>
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
    enum class Kind { InvalidName, InvalidEmail, Exists, NoSuchAccount, NoSuchUser, Store };
    Kind kind;
    std::string message;
};

// API_USER and SMS_USER names: ^[a-z][a-z0-9_]{5,63}$ (docs/api.md §2).
bool isValidUserName(std::string_view name);

class CredentialIssuer {
public:
    CredentialIssuer(store::CredentialStore& store, const KeyMaterial& keys, Random& random,
                     const Clock& clock, std::chrono::seconds emailKeyGrace);

    Result<store::Account, IssueError> createAccount(std::string_view email);
    Result<IssuedUser, IssueError> createUser(std::string_view name, store::UserKind kind,
                                              std::string_view accountEmail,
                                              const store::UserPolicy& policy = {});
    Result<IssuedUser, IssueError> createUserForAccount(std::string_view name, store::UserKind kind,
                                                        int64_t accountId,
                                                        const store::UserPolicy& policy = {});
    // A new key for the user. Email: the old key stays valid for the grace period, or ends at
    // once when revokeOld. SMS: the old key always ends at once.
    Result<IssuedUser, IssueError> resetKey(int64_t userId, bool revokeOld);

    std::chrono::seconds emailKeyGrace() const { return grace_; }

private:
    store::CredentialStore& store_;
    const KeyMaterial& keys_;
    Random& random_;
    const Clock& clock_;
    std::chrono::seconds grace_;
};

}  // namespace sc::auth
