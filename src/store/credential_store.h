#pragma once
// CredentialStore: accounts and API users. Thread-safe: the send path calls findUser() from
// every I/O thread at once, and operator commands may change the same database from another
// process while a server runs.

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "store/records.h"

namespace sc::store {

class CredentialStore {
public:
    virtual ~CredentialStore() = default;

    // Fails with Conflict when the e-mail is taken.
    virtual Result<Account, StoreError> createAccount(std::string_view email, int64_t nowMs) = 0;
    virtual std::optional<Account> findAccountByEmail(std::string_view email) = 0;

    // Fails with Conflict when the name is taken (names are unique across the platform).
    virtual Result<ApiUser, StoreError> createUser(const NewApiUser& user) = 0;
    virtual std::optional<ApiUser> findUser(std::string_view name) = 0;
    virtual std::vector<ApiUser> listUsers(int64_t accountId) = 0;
    // Fails with NotFound when there is no such user.
    virtual Result<Ok, StoreError> setUserDisabled(std::string_view name, bool disabled) = 0;
};

using CredentialStorePtr = std::unique_ptr<CredentialStore>;

}  // namespace sc::store
