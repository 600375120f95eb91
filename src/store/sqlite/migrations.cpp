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
    // Delivery (docs/delivery.md): leases instead of an in-memory "sending" flag, so that a
    // restarted node, or another node once the lease has run out, takes a recipient back; every
    // attempt and every state change kept; SMSC ids for matching receipts.
    Migration{6, "delivery: leases, attempts, events, SMSC ids, pending receipts, inbound SMS",
              R"sql(
ALTER TABLE recipients ADD COLUMN lease_owner TEXT;
ALTER TABLE recipients ADD COLUMN lease_until_ms INTEGER;
ALTER TABLE recipients ADD COLUMN last_reply TEXT;
-- Test-mode recipients used to be parked as 'test' and never claimed; they are now claimed and
-- handed to the sandbox agent, so the ones already stored are what that agent would make them.
UPDATE recipients SET state = 'sandbox' WHERE state = 'test';
-- The claim keeps using recipients_due (state, next_attempt_at_ms): a claimed ('sending')
-- recipient's next_attempt_at_ms is its lease's end, so an abandoned lease becomes due by the
-- same index.
-- No foreign keys to recipients, as for messages: the log is the record of what was done.
CREATE TABLE delivery_attempts (
    id             INTEGER PRIMARY KEY,
    recipient_id   TEXT NOT NULL,
    at_ms          INTEGER NOT NULL,
    outcome        TEXT NOT NULL,
    remote_host    TEXT NOT NULL DEFAULT '',
    remote_ip      TEXT NOT NULL DEFAULT '',
    reply_code     INTEGER NOT NULL DEFAULT 0,
    enhanced_code  TEXT NOT NULL DEFAULT '',
    reply_text     TEXT NOT NULL DEFAULT '',
    tls_version    TEXT NOT NULL DEFAULT '',
    tls_cipher     TEXT NOT NULL DEFAULT '',
    smsc_message_id TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX delivery_attempts_by_recipient ON delivery_attempts(recipient_id, id);
-- The durable record of each state change, read by the webhooks' outbox. AUTOINCREMENT: the id
-- is the outbox's cursor and must never be handed out twice.
CREATE TABLE events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT NOT NULL,
    recipient_id TEXT,
    account_id   INTEGER NOT NULL DEFAULT 0,
    at_ms        INTEGER NOT NULL,
    payload_json TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(payload_json))
) STRICT;
CREATE INDEX events_by_recipient ON events(recipient_id);
-- An SMSC message id (normalised, docs/delivery.md "Receipts") -> the part of the recipient it
-- was given for. An id is stored under each form a receipt may spell it in (exact = 1 for the
-- form the SMSC gave at submit), so a receipt is found with one look-up.
CREATE TABLE smsc_ids (
    route        TEXT NOT NULL,
    smsc_id      TEXT NOT NULL,
    recipient_id TEXT NOT NULL,
    part         INTEGER NOT NULL,
    exact        INTEGER NOT NULL CHECK (exact IN (0, 1)),
    stat         TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (route, smsc_id, recipient_id, part)
) STRICT, WITHOUT ROWID;
CREATE INDEX smsc_ids_by_recipient ON smsc_ids(recipient_id, part);
-- Receipts that came before their submit was recorded; matched when it is.
CREATE TABLE pending_receipts (
    id          INTEGER PRIMARY KEY,
    route       TEXT NOT NULL,
    smsc_id     TEXT NOT NULL,
    stat        TEXT NOT NULL,
    error_code  TEXT NOT NULL DEFAULT '',
    received_at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX pending_receipts_by_id ON pending_receipts(route, smsc_id);
CREATE TABLE inbound_sms (
    id        INTEGER PRIMARY KEY,
    route     TEXT NOT NULL,
    sender    TEXT NOT NULL,
    receiver  TEXT NOT NULL,
    text      TEXT NOT NULL,
    at_ms     INTEGER NOT NULL
) STRICT;
)sql"},
    // Sending domains and their DKIM keys (store/domain_store.h). One owner per domain; at most
    // one signing key per domain (the partial unique index); retired keys stay until removed.
    Migration{7, "sending domains and DKIM keys", R"sql(
CREATE TABLE sending_domains (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts(id),
    domain        TEXT NOT NULL UNIQUE,
    created_at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX sending_domains_by_account ON sending_domains(account_id);
CREATE TABLE dkim_keys (
    id                 INTEGER PRIMARY KEY,
    domain_id          INTEGER NOT NULL REFERENCES sending_domains(id) ON DELETE CASCADE,
    selector           TEXT NOT NULL,
    algorithm          TEXT NOT NULL CHECK (algorithm IN ('rsa', 'ed25519')),
    public_key         TEXT NOT NULL,
    private_key_sealed BLOB NOT NULL,
    created_at_ms      INTEGER NOT NULL,
    retired_at_ms      INTEGER,
    UNIQUE (domain_id, selector)
) STRICT;
CREATE UNIQUE INDEX dkim_keys_one_active ON dkim_keys(domain_id) WHERE retired_at_ms IS NULL;
)sql"},
    // Every kind and state stored as text is one of the texts of store/records.cpp, and the
    // schema says so: a CHECK per column, so no writer (another process, a hand-made fix) can
    // store a state no reader knows. The recipient states become those of docs/delivery.md:
    // 'test' is now 'sandbox' and 'sent' (never written, but named by old code) 'delivered'.
    // recipients and auth_events are rebuilt (SQLite cannot add a CHECK to a column); no table
    // references either. auth_events keeps its AUTOINCREMENT counter: its ids are the audit
    // log's paging cursor and must not be handed out again.
    Migration{8, "CHECK constraints on every kind, role, state, api and outcome column", R"sql(
PRAGMA defer_foreign_keys=ON;

CREATE TABLE recipients_v8 (
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
    content_json       TEXT,
    lease_owner        TEXT,
    lease_until_ms     INTEGER,
    last_reply         TEXT
) STRICT;
-- rowid kept: it is the order a request listed its recipients in.
INSERT INTO recipients_v8 (rowid, id, message_id, address, role, state, attempts,
                           next_attempt_at_ms, updated_at_ms, content_json, lease_owner,
                           lease_until_ms, last_reply)
    SELECT rowid, id, message_id, address, role,
           CASE state WHEN 'test' THEN 'sandbox' WHEN 'sent' THEN 'delivered' ELSE state END,
           attempts, next_attempt_at_ms, updated_at_ms, content_json, lease_owner,
           lease_until_ms, last_reply
    FROM recipients;
DROP TABLE recipients;
ALTER TABLE recipients_v8 RENAME TO recipients;
CREATE INDEX recipients_due ON recipients(state, next_attempt_at_ms);

CREATE TABLE auth_events_v8 (
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
INSERT INTO auth_events_v8 SELECT id, at_ms, api, user_name, account_id, user_id, outcome,
    reason, key_fingerprint, client_ip, user_agent, attempts, last_at_ms FROM auth_events;
INSERT INTO sqlite_sequence (name, seq) SELECT 'auth_events_v8', 0
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'auth_events_v8');
UPDATE sqlite_sequence
    SET seq = max(seq, coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'auth_events'), 0))
    WHERE name = 'auth_events_v8';
DROP TABLE auth_events;
ALTER TABLE auth_events_v8 RENAME TO auth_events;
CREATE INDEX auth_events_by_account ON auth_events(account_id, id);
CREATE INDEX auth_events_by_time ON auth_events(at_ms);
CREATE INDEX auth_events_by_key ON auth_events(user_id, key_fingerprint, at_ms);
)sql"},
    // An SMS user may name the route its messages take (sendcloudd sms-user set-route).
    Migration{9, "the SMS route an SMS user chose", R"sql(
ALTER TABLE api_users ADD COLUMN sms_route TEXT NOT NULL DEFAULT '';
)sql"},
    // Retention (store/retention_store.h) blanks old message bodies and never deletes messages
    // or recipients, so migration 5's dropped index stays dropped: no ON DELETE CASCADE runs.
    // The mark is how far the walk through messages (in rowid order) has gone.
    Migration{10, "retention marks", R"sql(
CREATE TABLE retention_marks (
    name       TEXT NOT NULL PRIMARY KEY,
    last_rowid INTEGER NOT NULL
) STRICT;
)sql"},
    // A user's last use (the console's "Last use") kept with the hourly counters, written by the
    // same statement that counts them (store/audit_store.h, lastUseOf). A database that had the
    // authentication log only takes each user's latest success from it, into that hour's row
    // (made when missing), so that no user reads "never" after the upgrade: one pass over
    // auth_events. SQLite takes the bare columns from the row that has the max(); "WHERE true"
    // keeps the upsert's ON from being read as a join constraint.
    Migration{11, "a user's last use with the usage counters", R"sql(
ALTER TABLE usage_hourly ADD COLUMN last_used_ms INTEGER;
INSERT INTO usage_hourly (user_id, account_id, user_name, hour_start_ms, last_used_ms)
SELECT user_id, account_id, user_name, at_ms - at_ms % 3600000, at_ms
FROM (SELECT user_id, account_id, user_name, max(coalesce(last_at_ms, at_ms)) AS at_ms
      FROM auth_events WHERE outcome = 'success' AND user_id != 0 GROUP BY user_id)
WHERE true
ON CONFLICT (user_id, hour_start_ms) DO UPDATE SET last_used_ms = excluded.last_used_ms;
)sql"},
    // Events are read in id order (the webhook cursor: docs/delivery.md "Events"); nothing looks
    // them up by recipient (a recipient's history is its delivery_attempts). The index cost a
    // B-tree insert per outcome and receipt, at the full delivery rate: the SMS benchmark
    // recorded about 14% more submits a second without it (bench/README.md).
    Migration{12, "events no longer indexed by recipient", R"sql(
DROP INDEX IF EXISTS events_by_recipient;
)sql"},
    // The same CHECK constraints as migration 8, written as comparisons joined by OR instead of
    // `IN (...)`: SQLite evaluates an IN list of more than two constants by building a temporary
    // B-tree of them, once per statement run, so every INSERT and UPDATE of a recipient (twice per
    // delivery: the claim and the outcome) and of an authentication event paid about 2 us for
    // it, more than the row itself. Rebuilt as in migration 8, keeping rowids and the
    // AUTOINCREMENT counter. SqliteBackendTest.NoCheckConstraintUsesAnInListOfMoreThanTwoValues
    // keeps such a list from coming back.
    Migration{13, "CHECK constraints as OR-ed comparisons, not IN lists", R"sql(
PRAGMA defer_foreign_keys=ON;

CREATE TABLE recipients_v13 (
    id                 TEXT NOT NULL PRIMARY KEY,
    message_id         TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    address            TEXT NOT NULL,
    role               TEXT NOT NULL CHECK (role = 'to' OR role = 'cc' OR role = 'bcc'),
    state              TEXT NOT NULL CHECK (
                           state = 'queued' OR state = 'sending' OR state = 'delivered' OR
                           state = 'deferred' OR state = 'bounced' OR state = 'expired' OR
                           state = 'suppressed' OR state = 'sandbox' OR state = 'submitted' OR
                           state = 'undeliverable' OR state = 'rejected' OR state = 'failed'),
    attempts           INTEGER NOT NULL DEFAULT 0,
    next_attempt_at_ms INTEGER,
    updated_at_ms      INTEGER NOT NULL,
    content_json       TEXT,
    lease_owner        TEXT,
    lease_until_ms     INTEGER,
    last_reply         TEXT
) STRICT;
INSERT INTO recipients_v13 (rowid, id, message_id, address, role, state, attempts,
                            next_attempt_at_ms, updated_at_ms, content_json, lease_owner,
                            lease_until_ms, last_reply)
    SELECT rowid, id, message_id, address, role, state, attempts, next_attempt_at_ms,
           updated_at_ms, content_json, lease_owner, lease_until_ms, last_reply
    FROM recipients;
DROP TABLE recipients;
ALTER TABLE recipients_v13 RENAME TO recipients;
CREATE INDEX recipients_due ON recipients(state, next_attempt_at_ms);

CREATE TABLE auth_events_v13 (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms           INTEGER NOT NULL,
    api             TEXT NOT NULL CHECK (api = 'email' OR api = 'sms' OR api = 'console'),
    user_name       TEXT NOT NULL,
    account_id      INTEGER NOT NULL,
    user_id         INTEGER NOT NULL,
    outcome         TEXT NOT NULL CHECK (
                        outcome = 'success' OR outcome = 'failure' OR outcome = 'locked' OR
                        outcome = 'rate_limited' OR outcome = 'quota' OR outcome = 'forbidden'),
    reason          TEXT NOT NULL,
    key_fingerprint TEXT NOT NULL,
    client_ip       TEXT NOT NULL,
    user_agent      TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 1,
    last_at_ms      INTEGER
) STRICT;
INSERT INTO auth_events_v13 SELECT id, at_ms, api, user_name, account_id, user_id, outcome,
    reason, key_fingerprint, client_ip, user_agent, attempts, last_at_ms FROM auth_events;
INSERT INTO sqlite_sequence (name, seq) SELECT 'auth_events_v13', 0
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'auth_events_v13');
UPDATE sqlite_sequence
    SET seq = max(seq, coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'auth_events'), 0))
    WHERE name = 'auth_events_v13';
DROP TABLE auth_events;
ALTER TABLE auth_events_v13 RENAME TO auth_events;
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
