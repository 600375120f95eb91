#pragma once
// CredentialStore on SQLite. Every call borrows a pooled connection and reads
// the file afresh, so a change made by an operator command in another process is seen on the
// next call. Failures are returned, never logged here: the caller decides what an outage means.

#include <cstdint>
#include <optional>
#include <string>

#include "store/credential_store.h"
#include "store/sqlite/connection.h"

namespace sc::store::sqlite {

// The credential version of a database, shared by every process that opens it: a 64-bit
// counter in a small file next to the database (`<db>-credver`), mapped MAP_SHARED, so that a
// reader pays one atomic load and no system call, and a writer in any process (the server, an
// operator command) moves it with one atomic increment after its transaction commits. The file
// gets the database file's permissions (and, when created by root, its owner), as SQLite does
// for its -wal and -shm files. When it cannot be opened or mapped, the version is unavailable:
// readers then cache nothing (never stale data), and writers report it through `onError`,
// because a server that did map the file would see their changes only after its cache's TTL.
// Truncating, replacing or deleting the file while processes have it mapped is not supported
// (as for SQLite's -shm file): a truncated mapping faults, and a replaced one no longer carries
// the others' changes (their caches then rely on the TTL). While nothing runs, deleting it is
// harmless: it is recreated at the next open.
class CredentialVersionFile {
public:
    CredentialVersionFile(const std::string& databasePath, const ErrorSink& onError);
    ~CredentialVersionFile();
    CredentialVersionFile(const CredentialVersionFile&) = delete;
    CredentialVersionFile& operator=(const CredentialVersionFile&) = delete;

    static std::string pathFor(const std::string& databasePath);

    std::optional<uint64_t> read() const;
    // Call after a credential change committed (or may have).
    void bump();

private:
    uint64_t* counter_ = nullptr;  // in the shared mapping; null when unavailable
    std::string unavailableReason_;
    ErrorSink onError_;
};

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
    CredentialVersionFile version_;
};

}  // namespace sc::store::sqlite
