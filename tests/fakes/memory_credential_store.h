#pragma once
// A CredentialStore in memory, for unit tests of the auth rules without a database. Like the
// SQLite store it has a credential version that every user write moves; tests can turn that off
// (`moveVersionOnWrite`, an edit behind the store's back) or hide the version altogether
// (`versioned`, a backend that cannot tell).

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <string>

#include "store/credential_store.h"

namespace sc::testing {

class MemoryCredentialStore final : public store::CredentialStore {
public:
    using StoreError = store::StoreError;

    Result<store::Account, StoreError> createAccount(std::string_view email,
                                                     int64_t nowMs) override {
        std::lock_guard lk(mu_);
        for (auto& [id, a] : accounts_) {
            if (a.email == email) return fail(StoreError{StoreError::Kind::Conflict, "exists"});
        }
        store::Account a{nextId_++, std::string(email), nowMs, ""};
        accounts_[a.id] = a;
        return a;
    }
    Result<std::optional<store::Account>, StoreError> findAccountByEmail(
        std::string_view email) override {
        std::lock_guard lk(mu_);
        for (auto& [id, a] : accounts_) {
            if (a.email == email) return std::optional<store::Account>(a);
        }
        return std::optional<store::Account>();
    }
    Result<std::optional<store::Account>, StoreError> findAccountById(int64_t id) override {
        std::lock_guard lk(mu_);
        auto it = accounts_.find(id);
        if (it == accounts_.end()) return std::optional<store::Account>();
        return std::optional<store::Account>(it->second);
    }
    Result<Ok, StoreError> setAccountPassword(int64_t id, std::string_view hash) override {
        std::lock_guard lk(mu_);
        auto it = accounts_.find(id);
        if (it == accounts_.end())
            return fail(StoreError{StoreError::Kind::NotFound, "no account"});
        it->second.passwordHash = std::string(hash);
        return Ok{};
    }
    Result<store::ApiUser, StoreError> createUser(const store::NewApiUser& nu) override {
        std::lock_guard lk(mu_);
        if (users_.count(nu.name)) return fail(StoreError{StoreError::Kind::Conflict, "exists"});
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
        u.policy = nu.policy;
        users_[u.name] = u;
        bumpVersion();
        return u;
    }
    Result<std::optional<store::ApiUser>, StoreError> findUser(std::string_view name) override {
        std::lock_guard lk(mu_);
        ++reads;
        ++lookups;
        if (failReads) return fail(StoreError{StoreError::Kind::Unavailable, "down"});
        auto it = users_.find(std::string(name));
        if (it == users_.end()) return std::optional<store::ApiUser>();
        return std::optional<store::ApiUser>(it->second);
    }
    Result<std::optional<store::ApiUser>, StoreError> findUserById(int64_t id) override {
        std::lock_guard lk(mu_);
        for (auto& [n, u] : users_) {
            if (u.id == id) return std::optional<store::ApiUser>(u);
        }
        return std::optional<store::ApiUser>();
    }
    Result<std::vector<store::ApiUser>, StoreError> listUsers(int64_t accountId) override {
        std::lock_guard lk(mu_);
        std::vector<store::ApiUser> out;
        for (auto& [n, u] : users_) {
            if (u.accountId == accountId) out.push_back(u);
        }
        return out;
    }
    Result<Ok, StoreError> setUserDisabled(std::string_view name, bool disabled) override {
        std::lock_guard lk(mu_);
        auto it = users_.find(std::string(name));
        if (it == users_.end()) return fail(StoreError{StoreError::Kind::NotFound, "no such user"});
        it->second.disabled = disabled;
        bumpVersion();
        return Ok{};
    }
    Result<store::ApiUser, StoreError> updateUser(int64_t userId, const store::UserPolicy& policy,
                                                  bool disabled) override {
        std::lock_guard lk(mu_);
        for (auto& [n, u] : users_) {
            if (u.id == userId) {
                u.policy = policy;
                u.disabled = disabled;
                bumpVersion();
                return u;
            }
        }
        return fail(StoreError{StoreError::Kind::NotFound, "no such user"});
    }
    Result<Ok, StoreError> deleteUser(int64_t userId) override {
        std::lock_guard lk(mu_);
        for (auto it = users_.begin(); it != users_.end(); ++it) {
            if (it->second.id == userId) {
                users_.erase(it);
                std::erase_if(retired_,
                              [&](const store::RetiredKey& k) { return k.userId == userId; });
                bumpVersion();
                return Ok{};
            }
        }
        return fail(StoreError{StoreError::Kind::NotFound, "no such user"});
    }
    Result<store::ApiUser, StoreError> rotateKey(int64_t userId,
                                                 const store::KeyRotation& r) override {
        std::lock_guard lk(mu_);
        for (auto& [n, u] : users_) {
            if (u.id != userId) continue;
            for (auto& k : retired_) {
                if (k.userId == userId && k.expiresAtMs > r.nowMs) k.expiresAtMs = r.nowMs;
            }
            retired_.push_back({userId, u.keyHash, u.keyFingerprint, u.keyCreatedAtMs, r.nowMs,
                                r.oldKeyExpiresAtMs});
            u.keyHash = r.keyHash;
            u.keyCipher = r.keyCipher;
            u.keyFingerprint = r.keyFingerprint;
            u.keyCreatedAtMs = r.nowMs;
            bumpVersion();
            return u;
        }
        return fail(StoreError{StoreError::Kind::NotFound, "no such user"});
    }
    Result<std::optional<store::RetiredKey>, StoreError> findRetiredKey(
        int64_t userId, std::string_view keyHash) override {
        std::lock_guard lk(mu_);
        ++reads;
        ++retiredLookups;
        return latestRetiredKeyLocked(userId, keyHash);
    }
    // Counted as one read, one user lookup and one retired-key lookup, as SQLite always probes
    // both in its one statement.
    Result<store::UserAndRetiredKey, StoreError> findUserAndRetiredKey(
        std::string_view name, std::string_view keyHash) override {
        std::lock_guard lk(mu_);
        ++reads;
        ++lookups;
        ++retiredLookups;
        if (failReads) return fail(StoreError{StoreError::Kind::Unavailable, "down"});
        store::UserAndRetiredKey found;
        auto it = users_.find(std::string(name));
        if (it == users_.end()) return found;
        found.user = it->second;
        found.retiredKey = latestRetiredKeyLocked(it->second.id, keyHash);
        return found;
    }
    Result<std::vector<store::RetiredKey>, StoreError> retiredKeys(int64_t userId) override {
        std::lock_guard lk(mu_);
        std::vector<store::RetiredKey> out;
        for (auto it = retired_.rbegin(); it != retired_.rend(); ++it) {
            if (it->userId == userId) out.push_back(*it);
        }
        return out;
    }

    std::optional<uint64_t> credentialVersion() const override {
        if (!versioned) return std::nullopt;
        return version_.load(std::memory_order_acquire);
    }

    // Store round trips of the credential check (findUser, findRetiredKey and
    // findUserAndRetiredKey each count one), and the user and retired-key lookups among them.
    std::atomic<int> reads{0};
    std::atomic<int> lookups{0};
    std::atomic<int> retiredLookups{0};
    bool failReads = false;
    bool versioned = true;
    bool moveVersionOnWrite = true;

private:
    // Newest reset first, as the SQLite store orders them.
    std::optional<store::RetiredKey> latestRetiredKeyLocked(int64_t userId,
                                                            std::string_view keyHash) const {
        for (auto it = retired_.rbegin(); it != retired_.rend(); ++it) {
            if (it->userId == userId && it->keyHash == keyHash) return *it;
        }
        return std::nullopt;
    }

    // Called with mu_ held, after the change: as the SQLite store does after its commit.
    void bumpVersion() {
        if (moveVersionOnWrite) version_.fetch_add(1, std::memory_order_acq_rel);
    }

    std::atomic<uint64_t> version_{0};
    std::mutex mu_;
    int64_t nextId_ = 1;
    std::map<int64_t, store::Account> accounts_;
    std::map<std::string, store::ApiUser> users_;
    std::vector<store::RetiredKey> retired_;
};

}  // namespace sc::testing
