#pragma once
// SessionStore on SQLite: console sessions live in the database file, so every process that
// opens it (the server, an operator command) sees the same logins and logouts at once.

#include "store/credential_store.h"
#include "store/sqlite/connection.h"

namespace sc::store::sqlite {

class SqliteSessionStore final : public SessionStore {
public:
    explicit SqliteSessionStore(ConnectionPool& pool);

    // Conflict when the token hash exists already, NotFound when the account does not.
    Result<Ok, StoreError> createSession(const Session& session) override;
    // Answers the session as stored, expired or not: the caller compares expiresAtMs with its
    // own clock.
    Result<std::optional<Session>, StoreError> findSession(std::string_view tokenHash) override;
    // Ok also when there is no such session (a second logout is not an error).
    Result<Ok, StoreError> deleteSession(std::string_view tokenHash) override;
    Result<int64_t, StoreError> deleteExpiredSessions(int64_t nowMs) override;
    Result<int64_t, StoreError> deleteAccountSessions(int64_t accountId) override;

private:
    ConnectionPool& pool_;
};

}  // namespace sc::store::sqlite
