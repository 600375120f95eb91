#include "store/sqlite/sqlite_credential_store.h"

#include "store/sqlite/credential_version_file.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

namespace sc::store::sqlite {

namespace {

// Every query that answers users selects these columns, in readUser()'s order; `t` qualifies
// them ("u.") where a join would make a name ambiguous.
#define SC_USER_COLUMNS_OF(t)                                                            \
    t "id, " t "account_id, " t "name, " t "kind, " t "disabled, " t "key_hash, " t      \
      "key_cipher, " t "key_fingerprint, " t "key_created_at_ms, " t "created_at_ms, " t \
      "purpose, " t "test_mode, " t "ip_allowlist, " t "sender_domains, " t              \
      "rate_limit_per_minute, " t "daily_quota, " t "sms_route"
#define SC_USER_COLUMNS SC_USER_COLUMNS_OF("")
constexpr int kUserColumnCount = 17;
constexpr const char* kFindUser = "SELECT " SC_USER_COLUMNS " FROM api_users WHERE name = ?";
constexpr const char* kFindUserById = "SELECT " SC_USER_COLUMNS " FROM api_users WHERE id = ?";
constexpr const char* kListUsers =
    "SELECT " SC_USER_COLUMNS " FROM api_users WHERE account_id = ? ORDER BY name";
constexpr const char* kInsertUser =
    "INSERT INTO api_users (account_id, name, kind, disabled, key_hash, key_cipher, "
    "key_fingerprint, key_created_at_ms, created_at_ms, purpose, test_mode, ip_allowlist, "
    "sender_domains, rate_limit_per_minute, daily_quota, sms_route) "
    "VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING " SC_USER_COLUMNS;
constexpr const char* kUpdateUser =
    "UPDATE api_users SET purpose = ?, test_mode = ?, ip_allowlist = ?, sender_domains = ?, "
    "rate_limit_per_minute = ?, daily_quota = ?, sms_route = ?, disabled = ? "
    "WHERE id = ? RETURNING " SC_USER_COLUMNS;
constexpr const char* kSetCurrentKey =
    "UPDATE api_users SET key_hash = ?, key_cipher = ?, key_fingerprint = ?, "
    "key_created_at_ms = ? WHERE id = ? RETURNING " SC_USER_COLUMNS;
#undef SC_USER_COLUMNS

#define SC_ACCOUNT_COLUMNS "id, email, created_at_ms, password_hash"
constexpr const char* kFindAccountByEmail =
    "SELECT " SC_ACCOUNT_COLUMNS " FROM accounts WHERE email = ?";
constexpr const char* kFindAccountById = "SELECT " SC_ACCOUNT_COLUMNS " FROM accounts WHERE id = ?";
#undef SC_ACCOUNT_COLUMNS

#define SC_RETIRED_KEY_COLUMNS_OF(t)                                                           \
    t "user_id, " t "key_hash, " t "key_fingerprint, " t "created_at_ms, " t "reset_at_ms, " t \
      "expires_at_ms"
#define SC_RETIRED_KEY_COLUMNS SC_RETIRED_KEY_COLUMNS_OF("")
// Two rows with one hash cannot happen with random keys; if they did, the latest reset is the
// one that says when the key stopped working. rowid breaks a tie between resets in one ms.
constexpr const char* kFindRetiredKey = "SELECT " SC_RETIRED_KEY_COLUMNS
                                        " FROM retired_keys WHERE user_id = ? AND key_hash = ? "
                                        "ORDER BY reset_at_ms DESC, rowid DESC LIMIT 1";
constexpr const char* kRetiredKeys =
    "SELECT " SC_RETIRED_KEY_COLUMNS
    " FROM retired_keys WHERE user_id = ? ORDER BY reset_at_ms DESC, rowid DESC";
// findUser and findRetiredKey in one statement. The one-row `q` keeps a row when the user does
// not exist, and the retired-key probe then runs with user id 0 (ids start at 1), so both
// index searches happen whatever the name. Of several retirements of one hash (see
// kFindRetiredKey) only the newest passes NOT EXISTS, which probes the same index again only
// when a retired key matched: an ORDER BY here would cost a temporary B-tree on every call,
// more than the second statement this one replaces.
constexpr const char* kFindUserAndRetiredKey =
    "SELECT " SC_USER_COLUMNS_OF("u.") ", " SC_RETIRED_KEY_COLUMNS_OF("r.") " "
    "FROM (SELECT ?1 AS name) AS q "
    "LEFT JOIN api_users AS u ON u.name = q.name "
    "LEFT JOIN retired_keys AS r ON r.user_id = coalesce(u.id, 0) AND r.key_hash = ?2 "
    "AND NOT EXISTS (SELECT 1 FROM retired_keys AS newer WHERE newer.user_id = r.user_id "
    "AND newer.key_hash = r.key_hash "
    "AND (newer.reset_at_ms, newer.rowid) > (r.reset_at_ms, r.rowid))";
#undef SC_RETIRED_KEY_COLUMNS
#undef SC_RETIRED_KEY_COLUMNS_OF
#undef SC_USER_COLUMNS_OF

// Lists are stored as JSON arrays of strings, which round-trip any value exactly (a newline-
// joined list could not hold an entry with a newline, nor tell [] from [""]). nlohmann throws
// on a value that is not UTF-8; the caller turns that into a StoreError.
std::string toJsonArray(const std::vector<std::string>& values) {
    return nlohmann::json(values).dump();
}

std::vector<std::string> fromJsonArray(const std::string& text) {
    return nlohmann::json::parse(text).get<std::vector<std::string>>();
}

// `first`: where the user's columns start in the row (0 unless the statement joins tables).
ApiUser readUser(const SQLite::Statement& s, int first = 0) {
    ApiUser u;
    u.id = s.getColumn(first).getInt64();
    u.accountId = s.getColumn(first + 1).getInt64();
    u.name = columnBytes(s, first + 2);
    u.kind = parsedColumn(s, first + 3, parseUserKind, "user kind");
    u.disabled = s.getColumn(first + 4).getInt64() != 0;
    u.keyHash = columnBytes(s, first + 5);
    u.keyCipher = columnBytes(s, first + 6);
    u.keyFingerprint = columnBytes(s, first + 7);
    u.keyCreatedAtMs = s.getColumn(first + 8).getInt64();
    u.createdAtMs = s.getColumn(first + 9).getInt64();
    u.policy.purpose = columnBytes(s, first + 10);
    u.policy.testMode = s.getColumn(first + 11).getInt64() != 0;
    u.policy.ipAllowlist = fromJsonArray(columnBytes(s, first + 12));
    u.policy.senderDomains = fromJsonArray(columnBytes(s, first + 13));
    u.policy.rateLimitPerMinute = s.getColumn(first + 14).getInt64();
    u.policy.dailyQuota = s.getColumn(first + 15).getInt64();
    u.policy.smsRoute = columnBytes(s, first + 16);
    return u;
}

// Steps a statement that answers at most one user to its end, so that a RETURNING statement
// has finished (and its row is no longer pending) before the transaction commits.
std::optional<ApiUser> stepOneUser(ScopedStatement& s) {
    std::optional<ApiUser> user;
    while (s->executeStep()) {
        if (!user) user = readUser(*s);
    }
    return user;
}

Account readAccount(const SQLite::Statement& s) {
    Account a;
    a.id = s.getColumn(0).getInt64();
    a.email = columnBytes(s, 1);
    a.createdAtMs = s.getColumn(2).getInt64();
    a.passwordHash = columnBytes(s, 3);
    return a;
}

RetiredKey readRetiredKey(const SQLite::Statement& s, int first = 0) {
    RetiredKey k;
    k.userId = s.getColumn(first).getInt64();
    k.keyHash = columnBytes(s, first + 1);
    k.keyFingerprint = columnBytes(s, first + 2);
    k.createdAtMs = s.getColumn(first + 3).getInt64();
    k.resetAtMs = s.getColumn(first + 4).getInt64();
    k.expiresAtMs = s.getColumn(first + 5).getInt64();
    return k;
}

// NULL rather than an empty BLOB: "no stored key" (e-mail users) is not a key.
void bindKeyCipher(SQLite::Statement& s, int index, const std::string& cipher) {
    if (cipher.empty()) {
        bindNull(s, index);
    } else {
        bindBlob(s, index, cipher);
    }
}

void bindPolicy(SQLite::Statement& s, int first, const UserPolicy& p) {
    bindText(s, first, p.purpose);
    bindInt(s, first + 1, p.testMode ? 1 : 0);
    bindText(s, first + 2, toJsonArray(p.ipAllowlist));
    bindText(s, first + 3, toJsonArray(p.senderDomains));
    bindInt(s, first + 4, p.rateLimitPerMinute);
    bindInt(s, first + 5, p.dailyQuota);
    bindText(s, first + 6, p.smsRoute);
}

StoreError notFound(const char* what) {
    return storeError(StoreError::Kind::NotFound, what);
}

}  // namespace

class SqliteCredentialStore::BumpOnExit {
public:
    explicit BumpOnExit(CredentialVersion& version) : version_(version) {}
    ~BumpOnExit() { version_.bump(); }
    BumpOnExit(const BumpOnExit&) = delete;
    BumpOnExit& operator=(const BumpOnExit&) = delete;

private:
    CredentialVersion& version_;
};

SqliteCredentialStore::SqliteCredentialStore(ConnectionPool& pool, const std::string& databasePath,
                                             ErrorSink onError)
    : pool_(pool), version_(std::make_unique<CredentialVersionFile>(databasePath, onError)) {}

std::optional<uint64_t> SqliteCredentialStore::credentialVersion() const {
    return version_->read();
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
        Account a;
        a.id = id;
        a.email = std::string(email);
        a.createdAtMs = nowMs;
        return a;
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

Result<std::optional<Account>, StoreError> SqliteCredentialStore::findAccountByEmail(
    std::string_view email) {
    try {
        auto conn = pool_.acquire();
        ScopedStatement s(*conn, kFindAccountByEmail);
        bindText(*s, 1, email);
        if (!s->executeStep()) return std::optional<Account>();
        return std::optional<Account>(readAccount(*s));
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

Result<std::optional<Account>, StoreError> SqliteCredentialStore::findAccountById(int64_t id) {
    try {
        auto conn = pool_.acquire();
        ScopedStatement s(*conn, kFindAccountById);
        bindInt(*s, 1, id);
        if (!s->executeStep()) return std::optional<Account>();
        return std::optional<Account>(readAccount(*s));
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

Result<Ok, StoreError> SqliteCredentialStore::setAccountPassword(int64_t accountId,
                                                                 std::string_view passwordHash) {
    try {
        auto conn = pool_.acquire();
        return inWriteTransactionIfOk(*conn, [&]() -> Result<Ok, StoreError> {
            ScopedStatement s(*conn, "UPDATE accounts SET password_hash = ? WHERE id = ?");
            bindText(*s, 1, passwordHash);
            bindInt(*s, 2, accountId);
            if (s->exec() == 0) return fail(notFound("no such account"));
            return Ok{};
        });
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

Result<ApiUser, StoreError> SqliteCredentialStore::createUser(const NewApiUser& user) {
    BumpOnExit bump(*version_);
    try {
        auto conn = pool_.acquire();
        return inWriteTransactionIfOk(*conn, [&]() -> Result<ApiUser, StoreError> {
            ScopedStatement s(*conn, kInsertUser);
            bindInt(*s, 1, user.accountId);
            bindText(*s, 2, user.name);
            bindText(*s, 3, userKindName(user.kind));
            bindBlob(*s, 4, user.keyHash);
            bindKeyCipher(*s, 5, user.keyCipher);
            bindText(*s, 6, user.keyFingerprint);
            bindInt(*s, 7, user.createdAtMs);
            bindInt(*s, 8, user.createdAtMs);
            bindPolicy(*s, 9, user.policy);
            auto created = stepOneUser(s);
            if (!created)
                return fail(storeError(StoreError::Kind::Internal, "insert answered no row"));
            return *std::move(created);
        });
    } catch (const SQLite::Exception& e) {
        if (isForeignKeyViolation(e)) return fail(notFound("no such account"));
        return fail(toStoreError(e));
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

Result<std::optional<ApiUser>, StoreError> SqliteCredentialStore::findUser(std::string_view name) {
    try {
        auto conn = pool_.acquire();
        ScopedStatement s(*conn, kFindUser);
        bindText(*s, 1, name);
        if (!s->executeStep()) return std::optional<ApiUser>();
        return std::optional<ApiUser>(readUser(*s));
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

Result<std::optional<ApiUser>, StoreError> SqliteCredentialStore::findUserById(int64_t id) {
    try {
        auto conn = pool_.acquire();
        ScopedStatement s(*conn, kFindUserById);
        bindInt(*s, 1, id);
        if (!s->executeStep()) return std::optional<ApiUser>();
        return std::optional<ApiUser>(readUser(*s));
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

Result<std::vector<ApiUser>, StoreError> SqliteCredentialStore::listUsers(int64_t accountId) {
    try {
        std::vector<ApiUser> users;
        auto conn = pool_.acquire();
        ScopedStatement s(*conn, kListUsers);
        bindInt(*s, 1, accountId);
        while (s->executeStep()) users.push_back(readUser(*s));
        return users;
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

Result<Ok, StoreError> SqliteCredentialStore::setUserDisabled(std::string_view name,
                                                              bool disabled) {
    BumpOnExit bump(*version_);
    try {
        auto conn = pool_.acquire();
        return inWriteTransactionIfOk(*conn, [&]() -> Result<Ok, StoreError> {
            ScopedStatement s(*conn, "UPDATE api_users SET disabled = ? WHERE name = ?");
            bindInt(*s, 1, disabled ? 1 : 0);
            bindText(*s, 2, name);
            if (s->exec() == 0) return fail(notFound("no such user"));
            return Ok{};
        });
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

Result<ApiUser, StoreError> SqliteCredentialStore::updateUser(int64_t userId,
                                                              const UserPolicy& policy,
                                                              bool disabled) {
    BumpOnExit bump(*version_);
    try {
        auto conn = pool_.acquire();
        return inWriteTransactionIfOk(*conn, [&]() -> Result<ApiUser, StoreError> {
            ScopedStatement s(*conn, kUpdateUser);
            bindPolicy(*s, 1, policy);
            bindInt(*s, 8, disabled ? 1 : 0);
            bindInt(*s, 9, userId);
            auto updated = stepOneUser(s);
            if (!updated) return fail(notFound("no such user"));
            return *std::move(updated);
        });
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

Result<Ok, StoreError> SqliteCredentialStore::deleteUser(int64_t userId) {
    BumpOnExit bump(*version_);
    try {
        auto conn = pool_.acquire();
        // Retired keys go with the user (ON DELETE CASCADE); messages, auth events and usage
        // rows stay, as the record of what the user did.
        return inWriteTransactionIfOk(*conn, [&]() -> Result<Ok, StoreError> {
            ScopedStatement s(*conn, "DELETE FROM api_users WHERE id = ?");
            bindInt(*s, 1, userId);
            if (s->exec() == 0) return fail(notFound("no such user"));
            return Ok{};
        });
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

Result<ApiUser, StoreError> SqliteCredentialStore::rotateKey(int64_t userId,
                                                             const KeyRotation& rotation) {
    BumpOnExit bump(*version_);
    try {
        auto conn = pool_.acquire();
        return inWriteTransactionIfOk(*conn, [&]() -> Result<ApiUser, StoreError> {
            {
                // First, so that it cannot touch the key retired just below: a key still in its
                // grace period ends now, and at most two keys stay valid.
                ScopedStatement s(*conn,
                                  "UPDATE retired_keys SET expires_at_ms = ?1 "
                                  "WHERE user_id = ?2 AND expires_at_ms > ?1");
                bindInt(*s, 1, rotation.nowMs);
                bindInt(*s, 2, userId);
                s->exec();
            }
            {
                ScopedStatement s(*conn,
                                  "INSERT INTO retired_keys (user_id, key_hash, key_fingerprint, "
                                  "created_at_ms, reset_at_ms, expires_at_ms) "
                                  "SELECT id, key_hash, key_fingerprint, key_created_at_ms, ?, ? "
                                  "FROM api_users WHERE id = ?");
                bindInt(*s, 1, rotation.nowMs);
                bindInt(*s, 2, rotation.oldKeyExpiresAtMs);
                bindInt(*s, 3, userId);
                // No row to copy: no such user (the transaction is rolled back).
                if (s->exec() == 0) return fail(notFound("no such user"));
            }
            ScopedStatement s(*conn, kSetCurrentKey);
            bindBlob(*s, 1, rotation.keyHash);
            bindKeyCipher(*s, 2, rotation.keyCipher);
            bindText(*s, 3, rotation.keyFingerprint);
            bindInt(*s, 4, rotation.nowMs);
            bindInt(*s, 5, userId);
            auto updated = stepOneUser(s);
            // Cannot happen inside the write lock, after the copy above found the user.
            if (!updated) return fail(storeError(StoreError::Kind::Internal, "user vanished"));
            return *std::move(updated);
        });
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

Result<std::optional<RetiredKey>, StoreError> SqliteCredentialStore::findRetiredKey(
    int64_t userId, std::string_view keyHash) {
    try {
        auto conn = pool_.acquire();
        ScopedStatement s(*conn, kFindRetiredKey);
        bindInt(*s, 1, userId);
        // As a BLOB: compared with a TEXT value, a stored BLOB never matches.
        bindBlob(*s, 2, keyHash);
        if (!s->executeStep()) return std::optional<RetiredKey>();
        return std::optional<RetiredKey>(readRetiredKey(*s));
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

Result<UserAndRetiredKey, StoreError> SqliteCredentialStore::findUserAndRetiredKey(
    std::string_view name, std::string_view keyHash) {
    try {
        auto conn = pool_.acquire();
        ScopedStatement s(*conn, kFindUserAndRetiredKey);
        bindText(*s, 1, name);
        // As a BLOB, as in findRetiredKey.
        bindBlob(*s, 2, keyHash);
        UserAndRetiredKey found;
        // The outer row always exists; a missing user or key shows as a NULL id (both id
        // columns are NOT NULL).
        if (!s->executeStep()) return found;
        if (!s->getColumn(0).isNull()) found.user = readUser(*s);
        if (!s->getColumn(kUserColumnCount).isNull()) {
            found.retiredKey = readRetiredKey(*s, kUserColumnCount);
        }
        return found;
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

Result<std::vector<RetiredKey>, StoreError> SqliteCredentialStore::retiredKeys(int64_t userId) {
    try {
        std::vector<RetiredKey> keys;
        auto conn = pool_.acquire();
        ScopedStatement s(*conn, kRetiredKeys);
        bindInt(*s, 1, userId);
        while (s->executeStep()) keys.push_back(readRetiredKey(*s));
        return keys;
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

}  // namespace sc::store::sqlite
