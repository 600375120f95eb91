#pragma once
// CredentialStore on SQLite. Every call borrows a pooled connection and reads
// the file afresh, so a change made by an operator command in another process is seen on the
// next call. Failures are returned, never logged here: the caller decides what an outage means.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "store/credential_store.h"
#include "store/credential_version.h"
#include "store/sqlite/connection.h"

namespace sc::store::sqlite {

class SqliteCredentialStore final : public CredentialStore {
public:
    SqliteCredentialStore(ConnectionPool& pool, const std::string& databasePath, ErrorSink onError);

    Result<Account, StoreError> createAccount(std::string_view email, int64_t nowMs) override;
    Result<std::optional<Account>, StoreError> findAccountByEmail(std::string_view email) override;
    Result<std::optional<Account>, StoreError> findAccountById(int64_t id) override;
    Result<Ok, StoreError> setAccountPassword(int64_t accountId,
                                              std::string_view passwordHash) override;

    Result<ApiUser, StoreError> createUser(const NewApiUser& user) override;
    Result<std::optional<ApiUser>, StoreError> findUser(std::string_view name) override;
    Result<std::optional<ApiUser>, StoreError> findUserById(int64_t id) override;
    Result<std::vector<ApiUser>, StoreError> listUsers(int64_t accountId) override;
    Result<Ok, StoreError> setUserDisabled(std::string_view name, bool disabled) override;
    Result<ApiUser, StoreError> updateUser(int64_t userId, const UserPolicy& policy,
                                           bool disabled) override;
    Result<Ok, StoreError> deleteUser(int64_t userId) override;

    Result<ApiUser, StoreError> rotateKey(int64_t userId, const KeyRotation& rotation) override;
    Result<std::optional<RetiredKey>, StoreError> findRetiredKey(int64_t userId,
                                                                 std::string_view keyHash) override;
    Result<UserAndRetiredKey, StoreError> findUserAndRetiredKey(std::string_view name,
                                                                std::string_view keyHash) override;
    Result<std::vector<RetiredKey>, StoreError> retiredKeys(int64_t userId) override;

    std::optional<uint64_t> credentialVersion() const override;

private:
    // Moves the version when a credential write ends, however it ends: a spurious move only
    // costs readers one cache miss, a missed one would serve a stale user.
    class BumpOnExit;

    ConnectionPool& pool_;
    std::unique_ptr<CredentialVersion> version_;  // a CredentialVersionFile next to the database
};

}  // namespace sc::store::sqlite
