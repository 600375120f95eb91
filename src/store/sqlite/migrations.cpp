#include "store/sqlite/migrations.h"

#include <array>
#include <stdexcept>
#include <string>

namespace sc::store::sqlite {

namespace {

// To change the schema, append a step; never edit one that has shipped, since databases in the
// field have already applied it. Steps run inside one transaction with foreign_keys=ON, which
// cannot be switched off there: a step that rebuilds a table starts with
// PRAGMA defer_foreign_keys=ON so the keys need only hold at COMMIT.
//
// Conventions: STRICT tables, so a value bound with the wrong type (a key hash bound as TEXT)
// fails at once instead of being stored; a TEXT PRIMARY KEY is also NOT NULL because SQLite
// otherwise lets NULL into non-integer primary keys; times are integer milliseconds since the
// epoch.
constexpr std::array kMigrations{
    Migration{1, "accounts, API users, messages, attachments, recipients", R"sql(
CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
    created_at_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE api_users (
    id                INTEGER PRIMARY KEY,
    account_id        INTEGER NOT NULL REFERENCES accounts(id),
    name              TEXT NOT NULL UNIQUE,
    kind              TEXT NOT NULL CHECK (kind IN ('email', 'sms')),
    disabled          INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    key_hash          BLOB NOT NULL,
    key_cipher        BLOB,
    key_fingerprint   TEXT NOT NULL,
    key_created_at_ms INTEGER NOT NULL,
    created_at_ms     INTEGER NOT NULL
) STRICT;
CREATE INDEX api_users_by_account ON api_users(account_id);

-- No foreign keys to accounts or api_users: a message is the record of what was sent and
-- must outlive the user that sent it (hence the copied api_user_name).
CREATE TABLE messages (
    id            TEXT NOT NULL PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('email', 'sms')),
    account_id    INTEGER NOT NULL,
    api_user_id   INTEGER NOT NULL,
    api_user_name TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    test_mode     INTEGER NOT NULL CHECK (test_mode IN (0, 1)),
    content_json  TEXT NOT NULL
) STRICT;

CREATE TABLE attachments (
    message_id   TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    idx          INTEGER NOT NULL,
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    data         BLOB NOT NULL,
    PRIMARY KEY (message_id, idx)
) STRICT;

CREATE TABLE recipients (
    id                 TEXT NOT NULL PRIMARY KEY,
    message_id         TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    address            TEXT NOT NULL,
    role               TEXT NOT NULL,
    state              TEXT NOT NULL,
    attempts           INTEGER NOT NULL DEFAULT 0,
    next_attempt_at_ms INTEGER,
    updated_at_ms      INTEGER NOT NULL
) STRICT;
CREATE INDEX recipients_by_message ON recipients(message_id);
-- The delivery workers' claim: due recipients in a given state.
CREATE INDEX recipients_due ON recipients(state, next_attempt_at_ms);
)sql"},
};

constexpr bool versionsAreContiguous() {
    for (size_t i = 0; i < kMigrations.size(); ++i) {
        if (kMigrations[i].version != static_cast<int>(i) + 1) return false;
    }
    return true;
}
static_assert(versionsAreContiguous(), "migration versions must be 1, 2, 3, ... in order");

int userVersion(Connection& c) {
    ScopedStatement s(c, "PRAGMA user_version");
    s->executeStep();
    return s->getColumn(0).getInt();
}

}  // namespace

int latestSchemaVersion() {
    return kMigrations.back().version;
}

void migrate(Connection& c) {
    inWriteTransaction(c, [&] {
        const int current = userVersion(c);
        if (current > latestSchemaVersion()) {
            throw std::runtime_error("database schema version " + std::to_string(current) +
                                     " is newer than this build supports (" +
                                     std::to_string(latestSchemaVersion()) + ")");
        }
        for (const Migration& m : kMigrations) {
            if (m.version <= current) continue;
            try {
                // Database::exec, not the statement cache: a step holds several statements.
                c.db().exec(m.sql);
            } catch (const SQLite::Exception& e) {
                throw std::runtime_error("schema migration " + std::to_string(m.version) + " (" +
                                         m.summary + ") failed: " + e.what());
            }
        }
        if (current < latestSchemaVersion()) {
            // PRAGMA takes no bound parameters; the value is our own integer.
            c.db().exec("PRAGMA user_version=" + std::to_string(latestSchemaVersion()));
        }
        return true;
    });
}

}  // namespace sc::store::sqlite
