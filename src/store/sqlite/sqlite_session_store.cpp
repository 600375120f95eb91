#include "store/sqlite/sqlite_session_store.h"

namespace sc::store::sqlite {

SqliteSessionStore::SqliteSessionStore(ConnectionPool& pool) : pool_(pool) {}

Result<Ok, StoreError> SqliteSessionStore::createSession(const Session& session) {
    try {
        auto conn = pool_.acquire();
        return inWriteTransaction(*conn, [&]() -> Result<Ok, StoreError> {
            ScopedStatement s(*conn,
                              "INSERT INTO sessions (token_hash, csrf_hash, account_id, "
                              "created_at_ms, expires_at_ms) VALUES (?, ?, ?, ?, ?)");
            // BLOBs: the hashes are raw bytes, and a lookup must bind them the same way.
            bindBlob(*s, 1, session.tokenHash);
            bindBlob(*s, 2, session.csrfHash);
            bindInt(*s, 3, session.accountId);
            bindInt(*s, 4, session.createdAtMs);
            bindInt(*s, 5, session.expiresAtMs);
            s->exec();
            return Ok{};
        });
    } catch (const SQLite::Exception& e) {
        if (isForeignKeyViolation(e)) {
            return fail(storeError(StoreError::Kind::NotFound, "no such account"));
        }
        return fail(toStoreError(e));
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

Result<std::optional<Session>, StoreError> SqliteSessionStore::findSession(
    std::string_view tokenHash) {
    try {
        auto conn = pool_.acquire();
        ScopedStatement s(*conn,
                          "SELECT token_hash, csrf_hash, account_id, created_at_ms, "
                          "expires_at_ms FROM sessions WHERE token_hash = ?");
        bindBlob(*s, 1, tokenHash);
        if (!s->executeStep()) return std::optional<Session>();
        Session session;
        session.tokenHash = columnBytes(*s, 0);
        session.csrfHash = columnBytes(*s, 1);
        session.accountId = s->getColumn(2).getInt64();
        session.createdAtMs = s->getColumn(3).getInt64();
        session.expiresAtMs = s->getColumn(4).getInt64();
        return std::optional<Session>(std::move(session));
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

Result<Ok, StoreError> SqliteSessionStore::deleteSession(std::string_view tokenHash) {
    try {
        auto conn = pool_.acquire();
        return inWriteTransaction(*conn, [&]() -> Result<Ok, StoreError> {
            ScopedStatement s(*conn, "DELETE FROM sessions WHERE token_hash = ?");
            bindBlob(*s, 1, tokenHash);
            s->exec();
            return Ok{};
        });
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

Result<int64_t, StoreError> SqliteSessionStore::deleteExpiredSessions(int64_t nowMs) {
    try {
        auto conn = pool_.acquire();
        return inWriteTransaction(*conn, [&]() -> Result<int64_t, StoreError> {
            ScopedStatement s(*conn, "DELETE FROM sessions WHERE expires_at_ms < ?");
            bindInt(*s, 1, nowMs);
            return static_cast<int64_t>(s->exec());
        });
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

Result<int64_t, StoreError> SqliteSessionStore::deleteAccountSessions(int64_t accountId) {
    try {
        auto conn = pool_.acquire();
        return inWriteTransaction(*conn, [&]() -> Result<int64_t, StoreError> {
            ScopedStatement s(*conn, "DELETE FROM sessions WHERE account_id = ?");
            bindInt(*s, 1, accountId);
            return static_cast<int64_t>(s->exec());
        });
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

}  // namespace sc::store::sqlite
