#pragma once
// CredentialStore on SQLite. Every call borrows a pooled connection and reads the file afresh,
// so a change made by an operator command in another process is seen on the next call.

#include "store/credential_store.h"
#include "store/sqlite/connection.h"

namespace sc::store::sqlite {

class SqliteCredentialStore final : public CredentialStore {
  public:
    SqliteCredentialStore(ConnectionPool& pool, ErrorSink onError);

    Result<Account, StoreError> createAccount(std::string_view email, int64_t nowMs) override;
    std::optional<Account> findAccountByEmail(std::string_view email) override;

    Result<ApiUser, StoreError> createUser(const NewApiUser& user) override;
    std::optional<ApiUser> findUser(std::string_view name) override;
    std::vector<ApiUser> listUsers(int64_t accountId) override;
    Result<Ok, StoreError> setUserDisabled(std::string_view name, bool disabled) override;

  private:
    void report(std::string_view what, const std::exception& e) const;

    ConnectionPool& pool_;
    ErrorSink onError_;
};

}  // namespace sc::store::sqlite
