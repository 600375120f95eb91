#pragma once
// CredentialStore: accounts, API users, their keys and policies. Thread-safe: the send path
// calls findUser() from every I/O thread at once, and operator commands may change the same
// database from another process while a server runs. The store itself caches nothing: a change
// made by anyone is seen by the next read. Callers that cache (auth's CredentialCache) rely on
// credentialVersion() to learn, without a read, that something changed.
// Reads return Result so that an outage is a 503, never a misleading "not found".

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "store/records.h"

namespace sc::store {

// What the credential check needs from one read: the user and, if any, that user's retired key
// with the presented hash.
struct UserAndRetiredKey {
    std::optional<ApiUser> user;
    // Only ever a key of `user` (never another user's key with the same hash); empty when there
    // is no user.
    std::optional<RetiredKey> retiredKey;
};

class CredentialStore {
public:
    virtual ~CredentialStore() = default;

    // Fails with Conflict when the e-mail is taken.
    virtual Result<Account, StoreError> createAccount(std::string_view email, int64_t nowMs) = 0;
    virtual Result<std::optional<Account>, StoreError> findAccountByEmail(
        std::string_view email) = 0;
    virtual Result<std::optional<Account>, StoreError> findAccountById(int64_t id) = 0;
    // NotFound when there is no such account.
    virtual Result<Ok, StoreError> setAccountPassword(int64_t accountId,
                                                      std::string_view passwordHash) = 0;

    // Fails with Conflict when the name is taken (names are unique across the platform), and
    // NotFound when the account does not exist.
    virtual Result<ApiUser, StoreError> createUser(const NewApiUser& user) = 0;
    virtual Result<std::optional<ApiUser>, StoreError> findUser(std::string_view name) = 0;
    virtual Result<std::optional<ApiUser>, StoreError> findUserById(int64_t id) = 0;
    // Ordered by name.
    virtual Result<std::vector<ApiUser>, StoreError> listUsers(int64_t accountId) = 0;
    // NotFound when there is no such user.
    virtual Result<Ok, StoreError> setUserDisabled(std::string_view name, bool disabled) = 0;
    virtual Result<ApiUser, StoreError> updateUser(int64_t userId, const UserPolicy& policy,
                                                   bool disabled) = 0;
    // Removes the user and its retired keys. NotFound when there is no such user.
    virtual Result<Ok, StoreError> deleteUser(int64_t userId) = 0;

    // Atomically: every retired key of the user still valid at rotation.nowMs ends then; the
    // current key becomes a retired key valid until rotation.oldKeyExpiresAtMs; the new key
    // becomes current. Returns the updated user. NotFound when there is no such user.
    virtual Result<ApiUser, StoreError> rotateKey(int64_t userId, const KeyRotation& rotation) = 0;
    // The retired key of this user with this hash, if any (valid or expired).
    virtual Result<std::optional<RetiredKey>, StoreError> findRetiredKey(
        int64_t userId, std::string_view keyHash) = 0;
    // findUser(name) and findRetiredKey(user's id, keyHash) in one read, for the credential
    // check's uncached path. The backend probes for the retired key whether or not the user
    // exists (with user id 0 when it does not), so an unknown user costs what a wrong key costs.
    virtual Result<UserAndRetiredKey, StoreError> findUserAndRetiredKey(
        std::string_view name, std::string_view keyHash) = 0;
    // The user's retired keys, newest reset first.
    virtual Result<std::vector<RetiredKey>, StoreError> retiredKeys(int64_t userId) = 0;

    // A counter shared by every process and node using this store, moved by every committed
    // change to an API user or its keys (create, disable, update, delete, key rotation) before
    // the changing call returns. A reader that saw the same value before and after reading a
    // user knows its copy is current. Cheap enough to read on every request (no I/O).
    // nullopt: this store cannot tell (no shared counter available), so nothing may be cached.
    virtual std::optional<uint64_t> credentialVersion() const { return std::nullopt; }
};

using CredentialStorePtr = std::unique_ptr<CredentialStore>;

// Console sessions, kept in the store so that every node of a cluster knows them.
class SessionStore {
public:
    virtual ~SessionStore() = default;
    virtual Result<Ok, StoreError> createSession(const Session& session) = 0;
    virtual Result<std::optional<Session>, StoreError> findSession(std::string_view tokenHash) = 0;
    virtual Result<Ok, StoreError> deleteSession(std::string_view tokenHash) = 0;
    // Removes sessions that expired before nowMs; returns how many.
    virtual Result<int64_t, StoreError> deleteExpiredSessions(int64_t nowMs) = 0;
    // Removes every session of the account (its password changed); returns how many.
    virtual Result<int64_t, StoreError> deleteAccountSessions(int64_t accountId) = 0;
};

}  // namespace sc::store
