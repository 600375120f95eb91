#include "store/sqlite/sqlite_credential_store.h"

#include <string>

namespace sc::store::sqlite {

namespace {

// Both queries select the columns readUser() expects, in its order.
#define SC_USER_COLUMNS                                                             \
    "id, account_id, name, kind, disabled, key_hash, key_cipher, key_fingerprint, " \
    "key_created_at_ms, created_at_ms"
constexpr const char* kFindUser = "SELECT " SC_USER_COLUMNS " FROM api_users WHERE name = ?";
constexpr const char* kListUsers =
    "SELECT " SC_USER_COLUMNS " FROM api_users WHERE account_id = ? ORDER BY name";
#undef SC_USER_COLUMNS

ApiUser readUser(const SQLite::Statement& s) {
    ApiUser u;
    u.id = s.getColumn(0).getInt64();
    u.accountId = s.getColumn(1).getInt64();
    u.name = columnBytes(s, 2);
    // The CHECK constraint admits only these two names.
    u.kind = columnBytes(s, 3) == userKindName(UserKind::Sms) ? UserKind::Sms : UserKind::Email;
    u.disabled = s.getColumn(4).getInt64() != 0;
    u.keyHash = columnBytes(s, 5);
    u.keyCipher = columnBytes(s, 6);
    u.keyFingerprint = columnBytes(s, 7);
    u.keyCreatedAtMs = s.getColumn(8).getInt64();
    u.createdAtMs = s.getColumn(9).getInt64();
    return u;
}

}  // namespace

SqliteCredentialStore::SqliteCredentialStore(ConnectionPool& pool, ErrorSink onError)
    : pool_(pool), onError_(std::move(onError)) {}

void SqliteCredentialStore::report(std::string_view what, const std::exception& e) const {
    if (onError_) {
        onError_(std::string("sqlite credential store: ") + std::string(what) + ": " + e.what());
    }
}

Result<Account, StoreError> SqliteCredentialStore::createAccount(std::string_view email,
                                                                 int64_t nowMs) {
    try {
        auto conn = pool_.acquire();
        const int64_t id = inWriteTransaction(*conn, [&] {
            ScopedStatement s(*conn, "INSERT INTO accounts (email, created_at_ms) VALUES (?, ?)");
            bindText(*s, 1, email);
            bindInt(*s, 2, nowMs);
            s->exec();
            return conn->db().getLastInsertRowid();
        });
        return Account{id, std::string(email), nowMs};
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

std::optional<Account> SqliteCredentialStore::findAccountByEmail(std::string_view email) {
    try {
        auto conn = pool_.acquire();
        ScopedStatement s(*conn, "SELECT id, email, created_at_ms FROM accounts WHERE email = ?");
        bindText(*s, 1, email);
        if (!s->executeStep()) return std::nullopt;
        return Account{s->getColumn(0).getInt64(), columnBytes(*s, 1), s->getColumn(2).getInt64()};
    } catch (const std::exception& e) {
        report("findAccountByEmail", e);
        return std::nullopt;
    }
}

Result<ApiUser, StoreError> SqliteCredentialStore::createUser(const NewApiUser& user) {
    try {
        auto conn = pool_.acquire();
        const int64_t id = inWriteTransaction(*conn, [&] {
            ScopedStatement s(*conn,
                              "INSERT INTO api_users (account_id, name, kind, disabled, key_hash, "
                              "key_cipher, key_fingerprint, key_created_at_ms, created_at_ms) "
                              "VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?)");
            bindInt(*s, 1, user.accountId);
            bindText(*s, 2, user.name);
            bindText(*s, 3, userKindName(user.kind));
            bindBlob(*s, 4, user.keyHash);
            // NULL rather than an empty BLOB: "no stored key" (e-mail users) is not a key.
            if (user.keyCipher.empty()) {
                bindNull(*s, 5);
            } else {
                bindBlob(*s, 5, user.keyCipher);
            }
            bindText(*s, 6, user.keyFingerprint);
            bindInt(*s, 7, user.createdAtMs);
            bindInt(*s, 8, user.createdAtMs);
            s->exec();
            return conn->db().getLastInsertRowid();
        });
        ApiUser u;
        u.id = id;
        u.accountId = user.accountId;
        u.name = user.name;
        u.kind = user.kind;
        u.disabled = false;
        u.keyHash = user.keyHash;
        u.keyCipher = user.keyCipher;
        u.keyFingerprint = user.keyFingerprint;
        u.keyCreatedAtMs = user.createdAtMs;
        u.createdAtMs = user.createdAtMs;
        return u;
    } catch (const SQLite::Exception& e) {
        if (isForeignKeyViolation(e)) {
            return fail(StoreError{StoreError::Kind::NotFound, "no such account"});
        }
        return fail(toStoreError(e));
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

std::optional<ApiUser> SqliteCredentialStore::findUser(std::string_view name) {
    try {
        auto conn = pool_.acquire();
        ScopedStatement s(*conn, kFindUser);
        bindText(*s, 1, name);
        if (!s->executeStep()) return std::nullopt;
        return readUser(*s);
    } catch (const std::exception& e) {
        report("findUser", e);
        return std::nullopt;
    }
}

std::vector<ApiUser> SqliteCredentialStore::listUsers(int64_t accountId) {
    std::vector<ApiUser> users;
    try {
        auto conn = pool_.acquire();
        ScopedStatement s(*conn, kListUsers);
        bindInt(*s, 1, accountId);
        while (s->executeStep()) users.push_back(readUser(*s));
        return users;
    } catch (const std::exception& e) {
        report("listUsers", e);
        return {};
    }
}

Result<Ok, StoreError> SqliteCredentialStore::setUserDisabled(std::string_view name,
                                                              bool disabled) {
    try {
        auto conn = pool_.acquire();
        const int changed = inWriteTransaction(*conn, [&] {
            ScopedStatement s(*conn, "UPDATE api_users SET disabled = ? WHERE name = ?");
            bindInt(*s, 1, disabled ? 1 : 0);
            bindText(*s, 2, name);
            return s->exec();
        });
        if (changed == 0) return fail(StoreError{StoreError::Kind::NotFound, "no such user"});
        return Ok{};
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

}  // namespace sc::store::sqlite
