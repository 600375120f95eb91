#include "auth/credential_issuer.h"

namespace sc::auth {

bool isValidUserName(std::string_view name) {
    if (name.size() < 6 || name.size() > 64) return false;
    if (name[0] < 'a' || name[0] > 'z') return false;
    for (char c : name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
        if (!ok) return false;
    }
    return true;
}

namespace {

bool plausibleEmail(std::string_view e) {
    auto at = e.find('@');
    if (at == 0 || at == std::string_view::npos || at + 1 >= e.size()) return false;
    if (e.size() > 254) return false;
    for (char c : e) {
        if (static_cast<unsigned char>(c) <= ' ') return false;
    }
    return e.find('.', at) != std::string_view::npos;
}

// Built up rather than as "'" + std::string(...): g++ 12 -O3 raises a false -Wrestrict on
// the latter (GCC bug 105329).
std::string quoted(std::string_view text) {
    std::string out = "'";
    out += text;
    out += "'";
    return out;
}

IssueError storeError(const store::StoreError& e) {
    return IssueError{IssueError::Kind::Store, e.message};
}

}  // namespace

CredentialIssuer::CredentialIssuer(store::CredentialStore& store, const KeyMaterial& keys,
                                   Random& random, const Clock& clock,
                                   std::chrono::seconds emailKeyGrace)
    : store_(store), keys_(keys), random_(random), clock_(clock), grace_(emailKeyGrace) {}

Result<store::Account, IssueError> CredentialIssuer::createAccount(std::string_view email) {
    if (!plausibleEmail(email)) {
        return fail(IssueError{IssueError::Kind::InvalidEmail,
                               quoted(email) + " is not an e-mail address"});
    }
    auto r = store_.createAccount(email, clock_.nowMillis());
    if (!r) {
        if (r.error().kind == store::StoreError::Kind::Conflict) {
            return fail(
                IssueError{IssueError::Kind::Exists,
                           "an account with e-mail " + std::string(email) + " already exists"});
        }
        return fail(storeError(r.error()));
    }
    return std::move(r).value();
}

Result<IssuedUser, IssueError> CredentialIssuer::createUser(std::string_view name,
                                                            store::UserKind kind,
                                                            std::string_view accountEmail,
                                                            const store::UserPolicy& policy) {
    auto account = store_.findAccountByEmail(accountEmail);
    if (!account) return fail(storeError(account.error()));
    if (!account.value()) {
        return fail(IssueError{IssueError::Kind::NoSuchAccount,
                               "no account with e-mail " + std::string(accountEmail)});
    }
    return createUserForAccount(name, kind, account.value()->id, policy);
}

Result<IssuedUser, IssueError> CredentialIssuer::createUserForAccount(
    std::string_view name, store::UserKind kind, int64_t accountId,
    const store::UserPolicy& policy) {
    if (!isValidUserName(name)) {
        return fail(IssueError{IssueError::Kind::InvalidName,
                               quoted(name) +
                                   "' is not a valid user name: 6 to 64 characters of a-z, 0-9 "
                                   "and _, starting with a letter"});
    }
    std::string key = KeyMaterial::generateKey(random_);
    store::NewApiUser nu;
    nu.accountId = accountId;
    nu.name = std::string(name);
    nu.kind = kind;
    nu.keyHash = keys_.hash(key);
    nu.keyFingerprint = KeyMaterial::fingerprint(nu.keyHash);
    if (kind == store::UserKind::Sms) nu.keyCipher = keys_.seal(key, random_);
    nu.createdAtMs = clock_.nowMillis();
    nu.policy = policy;
    if (kind == store::UserKind::Sms) nu.policy.senderDomains.clear();
    auto r = store_.createUser(nu);
    if (!r) {
        switch (r.error().kind) {
            case store::StoreError::Kind::Conflict:
                return fail(IssueError{IssueError::Kind::Exists,
                                       "the user name " + std::string(name) + " is taken"});
            case store::StoreError::Kind::NotFound:
                return fail(IssueError{IssueError::Kind::NoSuchAccount, "no such account"});
            default:
                return fail(storeError(r.error()));
        }
    }
    return IssuedUser{std::move(r).value(), std::move(key)};
}

Result<IssuedUser, IssueError> CredentialIssuer::resetKey(int64_t userId, bool revokeOld) {
    auto user = store_.findUserById(userId);
    if (!user) return fail(storeError(user.error()));
    if (!user.value()) return fail(IssueError{IssueError::Kind::NoSuchUser, "no such user"});
    const bool sms = user.value()->kind == store::UserKind::Sms;

    std::string key = KeyMaterial::generateKey(random_);
    store::KeyRotation rotation;
    rotation.keyHash = keys_.hash(key);
    rotation.keyFingerprint = KeyMaterial::fingerprint(rotation.keyHash);
    if (sms) rotation.keyCipher = keys_.seal(key, random_);
    rotation.nowMs = clock_.nowMillis();
    rotation.oldKeyExpiresAtMs =
        sms || revokeOld
            ? rotation.nowMs
            : rotation.nowMs +
                  std::chrono::duration_cast<std::chrono::milliseconds>(grace_).count();
    auto r = store_.rotateKey(userId, rotation);
    if (!r) {
        if (r.error().kind == store::StoreError::Kind::NotFound) {
            return fail(IssueError{IssueError::Kind::NoSuchUser, "no such user"});
        }
        return fail(storeError(r.error()));
    }
    return IssuedUser{std::move(r).value(), std::move(key)};
}

}  // namespace sc::auth
