#pragma once
// Wraps a real CredentialStore and counts the reads the credential verifier makes, so that a
// test can tell a cache hit (no read) from a store round trip on any backend.

#include <atomic>

#include "store/credential_store.h"

namespace sc::testing {

class CountingCredentialStore final : public store::CredentialStore {
public:
    using StoreError = store::StoreError;

    explicit CountingCredentialStore(store::CredentialStore& real) : real_(real) {}

    Result<store::Account, StoreError> createAccount(std::string_view email,
                                                     int64_t nowMs) override {
        return real_.createAccount(email, nowMs);
    }
    Result<std::optional<store::Account>, StoreError> findAccountByEmail(
        std::string_view email) override {
        return real_.findAccountByEmail(email);
    }
    Result<std::optional<store::Account>, StoreError> findAccountById(int64_t id) override {
        return real_.findAccountById(id);
    }
    Result<Ok, StoreError> setAccountPassword(int64_t id, std::string_view hash) override {
        return real_.setAccountPassword(id, hash);
    }
    Result<store::ApiUser, StoreError> createUser(const store::NewApiUser& user) override {
        return real_.createUser(user);
    }
    Result<std::optional<store::ApiUser>, StoreError> findUser(std::string_view name) override {
        ++reads;
        ++lookups;
        return real_.findUser(name);
    }
    Result<std::optional<store::ApiUser>, StoreError> findUserById(int64_t id) override {
        return real_.findUserById(id);
    }
    Result<std::vector<store::ApiUser>, StoreError> listUsers(int64_t accountId) override {
        return real_.listUsers(accountId);
    }
    Result<Ok, StoreError> setUserDisabled(std::string_view name, bool disabled) override {
        return real_.setUserDisabled(name, disabled);
    }
    Result<store::ApiUser, StoreError> updateUser(int64_t userId, const store::UserPolicy& policy,
                                                  bool disabled) override {
        return real_.updateUser(userId, policy, disabled);
    }
    Result<Ok, StoreError> deleteUser(int64_t userId) override { return real_.deleteUser(userId); }
    Result<store::ApiUser, StoreError> rotateKey(int64_t userId,
                                                 const store::KeyRotation& rotation) override {
        return real_.rotateKey(userId, rotation);
    }
    Result<std::optional<store::RetiredKey>, StoreError> findRetiredKey(
        int64_t userId, std::string_view keyHash) override {
        ++reads;
        ++retiredLookups;
        return real_.findRetiredKey(userId, keyHash);
    }
    // One read that looks up a user and a retired key.
    Result<store::UserAndRetiredKey, StoreError> findUserAndRetiredKey(
        std::string_view name, std::string_view keyHash) override {
        ++reads;
        ++lookups;
        ++retiredLookups;
        return real_.findUserAndRetiredKey(name, keyHash);
    }
    Result<std::vector<store::RetiredKey>, StoreError> retiredKeys(int64_t userId) override {
        return real_.retiredKeys(userId);
    }
    std::optional<uint64_t> credentialVersion() const override { return real_.credentialVersion(); }

    // Store round trips; and the user and retired-key lookups among them (a combined read
    // counts as one of each).
    std::atomic<int> reads{0};
    std::atomic<int> lookups{0};
    std::atomic<int> retiredLookups{0};

private:
    store::CredentialStore& real_;
};

}  // namespace sc::testing
