#pragma once
// A CredentialStore in memory, for unit tests of the auth rules without a database.

#include <map>
#include <mutex>
#include <string>

#include "store/credential_store.h"

namespace sc::testing {

class MemoryCredentialStore final : public store::CredentialStore {
public:
    Result<store::Account, store::StoreError> createAccount(std::string_view email,
                                                            int64_t nowMs) override {
        std::lock_guard lk(mu_);
        for (auto& [id, a] : accounts_) {
            if (a.email == email) return fail(store::StoreError{store::StoreError::Kind::Conflict, "exists"});
        }
        store::Account a{nextId_++, std::string(email), nowMs};
        accounts_[a.id] = a;
        return a;
    }
    std::optional<store::Account> findAccountByEmail(std::string_view email) override {
        std::lock_guard lk(mu_);
        for (auto& [id, a] : accounts_) {
            if (a.email == email) return a;
        }
        return std::nullopt;
    }
    Result<store::ApiUser, store::StoreError> createUser(const store::NewApiUser& nu) override {
        std::lock_guard lk(mu_);
        if (users_.count(nu.name)) return fail(store::StoreError{store::StoreError::Kind::Conflict, "exists"});
        store::ApiUser u;
        u.id = nextId_++;
        u.accountId = nu.accountId;
        u.name = nu.name;
        u.kind = nu.kind;
        u.keyHash = nu.keyHash;
        u.keyCipher = nu.keyCipher;
        u.keyFingerprint = nu.keyFingerprint;
        u.keyCreatedAtMs = nu.createdAtMs;
        u.createdAtMs = nu.createdAtMs;
        users_[u.name] = u;
        return u;
    }
    std::optional<store::ApiUser> findUser(std::string_view name) override {
        std::lock_guard lk(mu_);
        ++lookups;
        auto it = users_.find(std::string(name));
        if (it == users_.end()) return std::nullopt;
        return it->second;
    }
    std::vector<store::ApiUser> listUsers(int64_t accountId) override {
        std::lock_guard lk(mu_);
        std::vector<store::ApiUser> out;
        for (auto& [n, u] : users_) {
            if (u.accountId == accountId) out.push_back(u);
        }
        return out;
    }
    Result<Ok, store::StoreError> setUserDisabled(std::string_view name, bool disabled) override {
        std::lock_guard lk(mu_);
        auto it = users_.find(std::string(name));
        if (it == users_.end()) return fail(store::StoreError{store::StoreError::Kind::NotFound, "no such user"});
        it->second.disabled = disabled;
        return Ok{};
    }

    int lookups = 0;

private:
    std::mutex mu_;
    int64_t nextId_ = 1;
    std::map<int64_t, store::Account> accounts_;
    std::map<std::string, store::ApiUser> users_;
};

}  // namespace sc::testing
