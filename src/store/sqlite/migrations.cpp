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
    // api_users is rebuilt rather than altered so that its ids come from AUTOINCREMENT: users can
    // now be deleted, and messages, auth events and usage rows keep the id of the user that made
    // them, so a new user must never inherit a deleted user's id (plain INTEGER PRIMARY KEY
    // reuses the largest id once that row is gone). Nothing references api_users yet, so the
    // table can be dropped without touching foreign keys.
    Migration{2, "console passwords, user policies, retired keys, sessions, audit log, usage",
              R"sql(
ALTER TABLE accounts ADD COLUMN password_hash TEXT NOT NULL DEFAULT '';

CREATE TABLE api_users_v2 (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id            INTEGER NOT NULL REFERENCES accounts(id),
    name                  TEXT NOT NULL UNIQUE,
    kind                  TEXT NOT NULL CHECK (kind IN ('email', 'sms')),
    disabled              INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    key_hash              BLOB NOT NULL,
    key_cipher            BLOB,
    key_fingerprint       TEXT NOT NULL,
    key_created_at_ms     INTEGER NOT NULL,
    created_at_ms         INTEGER NOT NULL,
    purpose               TEXT NOT NULL DEFAULT '',
    test_mode             INTEGER NOT NULL DEFAULT 0 CHECK (test_mode IN (0, 1)),
    -- JSON arrays of strings: they round-trip any value, including one with a newline.
    ip_allowlist          TEXT NOT NULL DEFAULT '[]' CHECK (json_type(ip_allowlist) = 'array'),
    sender_domains        TEXT NOT NULL DEFAULT '[]' CHECK (json_type(sender_domains) = 'array'),
    rate_limit_per_minute INTEGER NOT NULL DEFAULT 0,
    daily_quota           INTEGER NOT NULL DEFAULT 0
) STRICT;
INSERT INTO api_users_v2 (id, account_id, name, kind, disabled, key_hash, key_cipher,
                          key_fingerprint, key_created_at_ms, created_at_ms)
    SELECT id, account_id, name, kind, disabled, key_hash, key_cipher, key_fingerprint,
           key_created_at_ms, created_at_ms
    FROM api_users;
DROP TABLE api_users;
ALTER TABLE api_users_v2 RENAME TO api_users;
CREATE INDEX api_users_by_account ON api_users(account_id);

-- Keys replaced by a reset; kept after they expire so that a request using one can be told so.
CREATE TABLE retired_keys (
    user_id         INTEGER NOT NULL REFERENCES api_users(id) ON DELETE CASCADE,
    key_hash        BLOB NOT NULL,
    key_fingerprint TEXT NOT NULL,
    created_at_ms   INTEGER NOT NULL,
    reset_at_ms     INTEGER NOT NULL,
    expires_at_ms   INTEGER NOT NULL
) STRICT;
CREATE INDEX retired_keys_by_user_hash ON retired_keys(user_id, key_hash);

CREATE TABLE sessions (
    token_hash    BLOB NOT NULL PRIMARY KEY,
    csrf_hash     BLOB NOT NULL,
    account_id    INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_by_account ON sessions(account_id);
CREATE INDEX sessions_by_expiry ON sessions(expires_at_ms);

-- No foreign keys: an attempt by an unknown user has ids 0, and the log outlives the user.
-- AUTOINCREMENT: the id is the paging cursor, so ids of pruned events are never handed out again.
CREATE TABLE auth_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms           INTEGER NOT NULL,
    api             TEXT NOT NULL,
    user_name       TEXT NOT NULL,
    account_id      INTEGER NOT NULL,
    user_id         INTEGER NOT NULL,
    outcome         TEXT NOT NULL,
    reason          TEXT NOT NULL,
    key_fingerprint TEXT NOT NULL,
    client_ip       TEXT NOT NULL,
    user_agent      TEXT NOT NULL
) STRICT;
CREATE INDEX auth_events_by_account ON auth_events(account_id, id);
CREATE INDEX auth_events_by_time ON auth_events(at_ms);
CREATE INDEX auth_events_by_key ON auth_events(user_id, key_fingerprint, at_ms);

-- No foreign keys either: usage is history and outlives the user (the name is copied).
CREATE TABLE usage_hourly (
    user_id       INTEGER NOT NULL,
    account_id    INTEGER NOT NULL,
    user_name     TEXT NOT NULL,
    hour_start_ms INTEGER NOT NULL,
    requests      INTEGER NOT NULL DEFAULT 0,
    recipients    INTEGER NOT NULL DEFAULT 0,
    auth_failures INTEGER NOT NULL DEFAULT 0,
    rate_limited  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, hour_start_ms)
) STRICT, WITHOUT ROWID;
CREATE INDEX usage_hourly_by_account ON usage_hourly(account_id, hour_start_ms);
)sql"},
    Migration{3, "per-recipient content, send request ids, email and SMS templates", R"sql(
-- NULL: the recipient gets the message's content_json.
ALTER TABLE recipients ADD COLUMN content_json TEXT;

-- Idempotency of sends: (user, sendRequestId) and the answer the first request got. Written in
-- the same transaction as the message, so a retried request either finds the row or finds no
-- message. No foreign key: like messages, the record outlives the user. A row older than an
-- hour no longer counts and is overwritten by the next request with the same id.
CREATE TABLE send_requests (
    api_user_id   INTEGER NOT NULL,
    request_id    TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    response_json TEXT NOT NULL,
    PRIMARY KEY (api_user_id, request_id)
) STRICT, WITHOUT ROWID;

-- AUTOINCREMENT, as for api_users: a deleted template's id is never handed out again, so a
-- client still sending an old id cannot reach someone else's newer template.
CREATE TABLE email_templates (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id    INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    invoke_name   TEXT NOT NULL,
    name          TEXT NOT NULL,
    subject       TEXT NOT NULL,
    html          TEXT NOT NULL,
    plain         TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    -- Also the index that the cascade and the per-account list use.
    UNIQUE (account_id, invoke_name)
) STRICT;

CREATE TABLE sms_templates (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id    INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    text          TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX sms_templates_by_account ON sms_templates(account_id, id);
)sql"},
    Migration{4, "coalesced authentication attempts", R"sql(
-- Attempts alike but for their time within one second are one row (audit/audit_recorder.h):
-- how many, and when the last came. Rows written before were one attempt each (NULL: at_ms).
ALTER TABLE auth_events ADD COLUMN attempts INTEGER NOT NULL DEFAULT 1;
ALTER TABLE auth_events ADD COLUMN last_at_ms INTEGER;
)sql"},
    // A recipient's id is its message's id followed by a decimal digit (api/ids.cpp), so the
    // recipients of a message are a range of the primary key: this index was a sixth B-tree
    // insert per recipient on the group-commit writer, for lookups the key already answers.
    // Without it, deleting a message would scan recipients for its ON DELETE CASCADE; nothing
    // deletes messages (a message is the record of what was sent). Whatever starts to must
    // bring an index on recipients(message_id) back first.
    Migration{5, "recipients found by their id range instead of an index on message_id", R"sql(
DROP INDEX IF EXISTS recipients_by_message;
)sql"},
    // Every kind and state stored as text is one of the texts of store/records.cpp, and the
    // schema says so: a CHECK per column, so no writer (another process, a hand-made fix) can
    // store a state no reader knows. The recipient states become those of docs/delivery.md:
    // 'test' is now 'sandbox' and 'sent' (never written, but named by old code) 'delivered'.
    // recipients and auth_events are rebuilt (SQLite cannot add a CHECK to a column); no table
    // references either. auth_events keeps its AUTOINCREMENT counter: its ids are the audit
    // log's paging cursor and must not be handed out again.
    Migration{6, "CHECK constraints on every kind, role, state, api and outcome column", R"sql(
PRAGMA defer_foreign_keys=ON;

CREATE TABLE recipients_v6 (
    id                 TEXT NOT NULL PRIMARY KEY,
    message_id         TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    address            TEXT NOT NULL,
    role               TEXT NOT NULL CHECK (role IN ('to', 'cc', 'bcc')),
    state              TEXT NOT NULL CHECK (state IN ('queued', 'sending', 'delivered',
                           'deferred', 'bounced', 'expired', 'suppressed', 'sandbox',
                           'submitted', 'undeliverable', 'rejected', 'failed')),
    attempts           INTEGER NOT NULL DEFAULT 0,
    next_attempt_at_ms INTEGER,
    updated_at_ms      INTEGER NOT NULL,
    content_json       TEXT
) STRICT;
-- rowid kept: it is the order a request listed its recipients in.
INSERT INTO recipients_v6 (rowid, id, message_id, address, role, state, attempts,
                           next_attempt_at_ms, updated_at_ms, content_json)
    SELECT rowid, id, message_id, address, role,
           CASE state WHEN 'test' THEN 'sandbox' WHEN 'sent' THEN 'delivered' ELSE state END,
           attempts, next_attempt_at_ms, updated_at_ms, content_json
    FROM recipients;
DROP TABLE recipients;
ALTER TABLE recipients_v6 RENAME TO recipients;
CREATE INDEX recipients_due ON recipients(state, next_attempt_at_ms);

CREATE TABLE auth_events_v6 (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms           INTEGER NOT NULL,
    api             TEXT NOT NULL CHECK (api IN ('email', 'sms', 'console')),
    user_name       TEXT NOT NULL,
    account_id      INTEGER NOT NULL,
    user_id         INTEGER NOT NULL,
    outcome         TEXT NOT NULL CHECK (outcome IN ('success', 'failure', 'locked',
                        'rate_limited', 'quota', 'forbidden')),
    reason          TEXT NOT NULL,
    key_fingerprint TEXT NOT NULL,
    client_ip       TEXT NOT NULL,
    user_agent      TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 1,
    last_at_ms      INTEGER
) STRICT;
INSERT INTO auth_events_v6 SELECT id, at_ms, api, user_name, account_id, user_id, outcome,
    reason, key_fingerprint, client_ip, user_agent, attempts, last_at_ms FROM auth_events;
INSERT INTO sqlite_sequence (name, seq) SELECT 'auth_events_v6', 0
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'auth_events_v6');
UPDATE sqlite_sequence
    SET seq = max(seq, coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'auth_events'), 0))
    WHERE name = 'auth_events_v6';
DROP TABLE auth_events;
ALTER TABLE auth_events_v6 RENAME TO auth_events;
CREATE INDEX auth_events_by_account ON auth_events(account_id, id);
CREATE INDEX auth_events_by_time ON auth_events(at_ms);
CREATE INDEX auth_events_by_key ON auth_events(user_id, key_fingerprint, at_ms);
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

// Messages are built with append(): "literal" + std::string&& trips a false -Wrestrict in
// g++ 12 at -O2 (GCC bug 105329).

int latestSchemaVersion() {
    return kMigrations.back().version;
}

void migrate(Connection& c) {
    migrate(c, latestSchemaVersion());
}

void migrate(Connection& c, int targetVersion) {
    if (targetVersion < 0 || targetVersion > latestSchemaVersion()) {
        throw std::invalid_argument(
            std::string("no schema version ").append(std::to_string(targetVersion)));
    }
    inWriteTransaction(c, [&] {
        const int current = userVersion(c);
        if (current > latestSchemaVersion()) {
            std::string message("database schema version ");
            message.append(std::to_string(current))
                .append(" is newer than this build supports (")
                .append(std::to_string(latestSchemaVersion()))
                .append(")");
            throw std::runtime_error(message);
        }
        for (const Migration& m : kMigrations) {
            if (m.version <= current || m.version > targetVersion) continue;
            try {
                // Database::exec, not the statement cache: a step holds several statements.
                c.db().exec(m.sql);
            } catch (const SQLite::Exception& e) {
                std::string message("schema migration ");
                message.append(std::to_string(m.version))
                    .append(" (")
                    .append(m.summary)
                    .append(") failed: ")
                    .append(e.what());
                throw std::runtime_error(message);
            }
        }
        if (current < targetVersion) {
            // PRAGMA takes no bound parameters; the value is our own integer.
            c.db().exec(std::string("PRAGMA user_version=").append(std::to_string(targetVersion)));
        }
        return true;
    });
}

}  // namespace sc::store::sqlite
