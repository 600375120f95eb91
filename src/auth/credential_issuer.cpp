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
}  // namespace

CredentialIssuer::CredentialIssuer(store::CredentialStore& store, const KeyMaterial& keys,
                                   Random& random, const Clock& clock)
    : store_(store), keys_(keys), random_(random), clock_(clock) {}

Result<store::Account, IssueError> CredentialIssuer::createAccount(std::string_view email) {
    if (!plausibleEmail(email)) {
        return fail(IssueError{IssueError::Kind::InvalidEmail,
                               "'" + std::string(email) + "' is not an e-mail address"});
    }
    auto r = store_.createAccount(email, clock_.nowMillis());
    if (!r) {
        auto kind = r.error().kind == store::StoreError::Kind::Conflict ? IssueError::Kind::Exists
                                                                        : IssueError::Kind::Store;
        return fail(IssueError{kind, kind == IssueError::Kind::Exists
                                         ? "an account with e-mail " + std::string(email) +
                                               " already exists"
                                         : r.error().message});
    }
    return std::move(r).value();
}

Result<IssuedUser, IssueError> CredentialIssuer::createUser(std::string_view name,
                                                            store::UserKind kind,
                                                            std::string_view accountEmail) {
    if (!isValidUserName(name)) {
        return fail(IssueError{IssueError::Kind::InvalidName,
                               "'" + std::string(name) +
                                   "' is not a valid user name: 6 to 64 characters of a-z, 0-9 "
                                   "and _, starting with a letter"});
    }
    auto account = store_.findAccountByEmail(accountEmail);
    if (!account) {
        return fail(IssueError{IssueError::Kind::NoSuchAccount,
                               "no account with e-mail " + std::string(accountEmail)});
    }
    std::string key = KeyMaterial::generateKey(random_);
    store::NewApiUser nu;
    nu.accountId = account->id;
    nu.name = std::string(name);
    nu.kind = kind;
    nu.keyHash = keys_.hash(key);
    nu.keyFingerprint = KeyMaterial::fingerprint(nu.keyHash);
    if (kind == store::UserKind::Sms) nu.keyCipher = keys_.seal(key, random_);
    nu.createdAtMs = clock_.nowMillis();
    auto r = store_.createUser(nu);
    if (!r) {
        auto k = r.error().kind == store::StoreError::Kind::Conflict ? IssueError::Kind::Exists
                                                                     : IssueError::Kind::Store;
        return fail(IssueError{k, k == IssueError::Kind::Exists
                                      ? "the user name " + std::string(name) + " is taken"
                                      : r.error().message});
    }
    return IssuedUser{std::move(r).value(), std::move(key)};
}

}  // namespace sc::auth
