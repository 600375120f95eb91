#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <future>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "store/sqlite/migrations.h"
#include "store/sqlite/sqlite_store.h"
#include "unit/store/sqlite_test_support.h"

namespace sc::store {
namespace {

using test_support::enqueueAndWait;
using test_support::must;
using test_support::TempDir;

SqliteOptions optionsFor(const std::string& path) {
    SqliteOptions o;
    o.path = path;
    return o;
}

NewApiUser newUser(int64_t accountId, std::string name) {
    NewApiUser u;
    u.accountId = accountId;
    u.name = std::move(name);
    u.keyHash = std::string("\0hash\0", 6);
    u.keyFingerprint = "deadbeef";
    u.createdAtMs = 5;
    return u;
}

NewMessage newMessage(const std::string& id) {
    NewMessage m;
    m.messageId = id;
    m.kind = UserKind::Sms;
    m.apiUserName = "sender";
    m.createdAtMs = 9;
    m.contentJson = "{}";
    m.recipients.push_back(test_support::recipient(test_support::recipientId(id, 0), "+14155550100",
                                                   RecipientRole::To));
    return m;
}

std::set<std::string> schemaObjects(const std::string& path) {
    SQLite::Database raw(path, SQLite::OPEN_READONLY);
    SQLite::Statement q(raw,
                        "SELECT type || ':' || name || ':' || coalesce(sql, '') "
                        "FROM sqlite_schema");
    std::set<std::string> out;
    while (q.executeStep()) out.insert(q.getColumn(0).getString());
    return out;
}

int userVersion(const std::string& path) {
    SQLite::Database raw(path, SQLite::OPEN_READONLY);
    return raw.execAndGet("PRAGMA user_version").getInt();
}

class SqliteBackendTest : public ::testing::Test {
protected:
    std::string path() const { return dir_.file("sendcloud.db"); }
    TempDir dir_;
};

TEST_F(SqliteBackendTest, CreatesTheSchemaInWalMode) {
    { SqliteBackend backend(optionsFor(path())); }
    EXPECT_GE(SqliteBackend::schemaVersion(), 1);
    EXPECT_EQ(userVersion(path()), SqliteBackend::schemaVersion());

    SQLite::Database raw(path(), SQLite::OPEN_READONLY);
    EXPECT_EQ(raw.execAndGet("PRAGMA journal_mode").getString(), "wal");
    for (const char* table : {"accounts", "api_users", "messages", "attachments", "recipients",
                              "retired_keys", "sessions", "auth_events", "usage_hourly",
                              "send_requests", "email_templates", "sms_templates"}) {
        EXPECT_TRUE(raw.tableExists(table)) << table;
    }
    EXPECT_EQ(raw.execAndGet("SELECT count(*) FROM sqlite_schema "
                             "WHERE type = 'index' AND name = 'recipients_due'")
                  .getInt(),
              1);
}

TEST_F(SqliteBackendTest, ConnectionsEnforceForeignKeysAndCheckConstraints) {
    SqliteBackend backend(optionsFor(path()));
    // Through the backend's own connections: a user of an account that does not exist.
    auto acct = backend.credentials().createAccount("a@example.com", 1);
    ASSERT_TRUE(acct.ok());
    auto r = backend.credentials().createUser(newUser(acct->id + 1000, "nobody"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, StoreError::Kind::NotFound);

    // STRICT tables refuse a key hash stored as an integer by a careless writer.
    SQLite::Database raw(path(), SQLite::OPEN_READWRITE);
    EXPECT_THROW(raw.exec("INSERT INTO api_users (account_id, name, kind, key_hash, "
                          "key_fingerprint, key_created_at_ms, created_at_ms) "
                          "VALUES (1, 'x', 'email', 'not-a-blob', 'f', 1, 1)"),
                 SQLite::Exception);
    EXPECT_THROW(raw.exec("INSERT INTO api_users (account_id, name, kind, key_hash, "
                          "key_fingerprint, key_created_at_ms, created_at_ms) "
                          "VALUES (1, 'y', 'fax', x'00', 'f', 1, 1)"),
                 SQLite::Exception);
}

TEST_F(SqliteBackendTest, MigrationsAreIdempotentOnReopen) {
    {
        SqliteBackend backend(optionsFor(path()));
        auto acct = backend.credentials().createAccount("a@example.com", 1);
        ASSERT_TRUE(acct.ok());
        ASSERT_TRUE(backend.credentials().createUser(newUser(acct->id, "sender")).ok());
        ASSERT_TRUE(enqueueAndWait(backend.messages(), newMessage("m1")).ok());
    }
    const auto schemaBefore = schemaObjects(path());
    const int versionBefore = userVersion(path());

    for (int i = 0; i < 2; ++i) {
        SqliteBackend backend(optionsFor(path()));
        auto u = must(backend.credentials().findUser("sender"));
        ASSERT_TRUE(u.has_value());
        EXPECT_EQ(u->keyHash, std::string("\0hash\0", 6));
        EXPECT_EQ(backend.messages().recipientsOf("m1").value().size(), 1u);
    }
    EXPECT_EQ(schemaObjects(path()), schemaBefore);
    EXPECT_EQ(userVersion(path()), versionBefore);
}

TEST_F(SqliteBackendTest, BackendsOpeningANewFileTogetherBothSucceed) {
    auto open = [&] {
        SqliteBackend backend(optionsFor(path()));
        return must(backend.credentials().findUser("nobody")).has_value();
    };
    auto a = std::async(std::launch::async, open);
    auto b = std::async(std::launch::async, open);
    EXPECT_FALSE(a.get());
    EXPECT_FALSE(b.get());
    EXPECT_EQ(userVersion(path()), SqliteBackend::schemaVersion());
}

TEST_F(SqliteBackendTest, RefusesADatabaseNewerThanThisBuild) {
    { SqliteBackend backend(optionsFor(path())); }
    {
        SQLite::Database raw(path(), SQLite::OPEN_READWRITE);
        raw.exec(test_support::cat("PRAGMA user_version=",
                                   std::to_string(SqliteBackend::schemaVersion() + 1)));
    }
    try {
        SqliteBackend backend(optionsFor(path()));
        FAIL() << "opened a database from a newer build";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
    }
    // Left as it was.
    EXPECT_EQ(userVersion(path()), SqliteBackend::schemaVersion() + 1);
}

TEST_F(SqliteBackendTest, FailsClearlyWhenTheFileCannotBeOpened) {
    const std::string bad = dir_.file("missing-dir/sendcloud.db");
    try {
        SqliteBackend backend(optionsFor(bad));
        FAIL() << "opened " << bad;
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
}

// Two backends on one file stand for the server and an operator command in another process:
// each has its own connections, and neither may answer from a cache.
TEST_F(SqliteBackendTest, SecondBackendOnTheSameFileSeesWritesBothWays) {
    SqliteBackend server(optionsFor(path()));
    SqliteBackend operatorCmd(optionsFor(path()));

    auto acct = server.credentials().createAccount("a@example.com", 1);
    ASSERT_TRUE(acct.ok());
    ASSERT_TRUE(server.credentials().createUser(newUser(acct->id, "from_server")).ok());
    // Warm the server's connections and statements before the other side writes.
    ASSERT_TRUE(must(server.credentials().findUser("from_server")).has_value());
    EXPECT_FALSE(must(server.credentials().findUser("from_operator")).has_value());

    auto seen = must(operatorCmd.credentials().findUser("from_server"));
    ASSERT_TRUE(seen.has_value());
    EXPECT_EQ(seen->keyHash, std::string("\0hash\0", 6));
    ASSERT_TRUE(operatorCmd.credentials().createUser(newUser(acct->id, "from_operator")).ok());
    ASSERT_TRUE(operatorCmd.credentials().setUserDisabled("from_server", true).ok());

    EXPECT_TRUE(must(server.credentials().findUser("from_operator")).has_value());
    EXPECT_TRUE(must(server.credentials().findUser("from_server"))->disabled);
    EXPECT_EQ(must(server.credentials().listUsers(acct->id)).size(), 2u);
    auto dup = server.credentials().createUser(newUser(acct->id, "from_operator"));
    ASSERT_FALSE(dup.ok());
    EXPECT_EQ(dup.error().kind, StoreError::Kind::Conflict);

    ASSERT_TRUE(enqueueAndWait(server.messages(), newMessage("m1")).ok());
    EXPECT_EQ(operatorCmd.messages().recipientsOf("m1").value().size(), 1u);
    ASSERT_TRUE(enqueueAndWait(operatorCmd.messages(), newMessage("m2")).ok());
    EXPECT_EQ(server.messages().findRecipient(test_support::recipientId("m2", 0)).value()->state,
              RecipientState::Queued);
    EXPECT_EQ(enqueueAndWait(operatorCmd.messages(), newMessage("m1")).error().kind,
              StoreError::Kind::Conflict);
}

TEST_F(SqliteBackendTest, ReadsSeeChangesMadeWithPlainSqlite) {
    SqliteBackend backend(optionsFor(path()));
    auto acct = backend.credentials().createAccount("a@example.com", 1);
    ASSERT_TRUE(acct.ok());
    ASSERT_TRUE(backend.credentials().createUser(newUser(acct->id, "sender")).ok());
    EXPECT_FALSE(must(backend.credentials().findUser("sender"))->disabled);

    SQLite::Database raw(path(), SQLite::OPEN_READWRITE);
    raw.exec(
        "UPDATE api_users SET disabled = 1, key_fingerprint = 'rotated' WHERE name = 'sender'");

    auto u = must(backend.credentials().findUser("sender"));
    ASSERT_TRUE(u.has_value());
    EXPECT_TRUE(u->disabled);
    EXPECT_EQ(u->keyFingerprint, "rotated");
}

TEST_F(SqliteBackendTest, ReadErrorsGoToTheErrorSink) {
    std::vector<std::string> errors;
    SqliteOptions o = optionsFor(path());
    o.onError = [&](std::string_view m) { errors.emplace_back(m); };
    SqliteBackend backend(std::move(o));
    {
        // Another process drops the table under a running server.
        SQLite::Database raw(path(), SQLite::OPEN_READWRITE);
        raw.exec("DROP TABLE recipients");
    }
    // An outage is an error, never "no recipients".
    auto read = backend.messages().recipientsOf("m1");
    ASSERT_FALSE(read.ok());
    EXPECT_FALSE(backend.messages().findRecipient("m10$r").ok());
    ASSERT_EQ(errors.size(), 2u);
    EXPECT_NE(errors[0].find("recipientsOf"), std::string::npos) << errors[0];
}

// A file left by a build at schema version 1 (built with this build's own step 1, then filled
// with plain SQL as that build would have).
void createVersion1Database(const std::string& path) {
    sqlite::Connection c(path, 5000);
    sqlite::migrate(c, 1);
    c.db().exec(R"sql(
INSERT INTO accounts (id, email, created_at_ms) VALUES (7, 'old@example.com', 100);
INSERT INTO api_users (id, account_id, name, kind, disabled, key_hash, key_cipher,
                       key_fingerprint, key_created_at_ms, created_at_ms)
VALUES (3, 7, 'old_mailer', 'email', 0, x'00ff00', NULL, 'aaaaaaaa', 200, 150),
       (5, 7, 'old_texter', 'sms', 1, x'0102', x'00aa00', 'bbbbbbbb', 300, 160);
INSERT INTO messages (id, kind, account_id, api_user_id, api_user_name, created_at_ms,
                      test_mode, content_json)
VALUES ('m1', 'sms', 7, 5, 'old_texter', 400, 0, '{}');
INSERT INTO recipients (id, message_id, address, role, state, attempts, next_attempt_at_ms,
                        updated_at_ms)
VALUES ('m10$r', 'm1', '+14155550100', 'to', 'queued', 0, 400, 400);
)sql");
}

TEST_F(SqliteBackendTest, MigratesAVersion1DatabaseKeepingUsersWithTheDefaultPolicy) {
    createVersion1Database(path());
    ASSERT_EQ(userVersion(path()), 1);
    {
        SQLite::Database raw(path(), SQLite::OPEN_READONLY);
        EXPECT_FALSE(raw.tableExists("retired_keys"));
    }

    SqliteBackend backend(optionsFor(path()));
    EXPECT_EQ(userVersion(path()), SqliteBackend::schemaVersion());
    CredentialStore& creds = backend.credentials();

    auto account = must(creds.findAccountById(7));
    ASSERT_TRUE(account.has_value());
    EXPECT_EQ(account->email, "old@example.com");
    EXPECT_EQ(account->createdAtMs, 100);
    EXPECT_EQ(account->passwordHash, "");

    auto mailer = must(creds.findUser("old_mailer"));
    ASSERT_TRUE(mailer.has_value());
    EXPECT_EQ(mailer->id, 3);
    EXPECT_EQ(mailer->accountId, 7);
    EXPECT_EQ(mailer->kind, UserKind::Email);
    EXPECT_FALSE(mailer->disabled);
    EXPECT_EQ(mailer->keyHash, std::string("\0\xff\0", 3));
    EXPECT_EQ(mailer->keyCipher, "");
    EXPECT_EQ(mailer->keyFingerprint, "aaaaaaaa");
    EXPECT_EQ(mailer->keyCreatedAtMs, 200);
    EXPECT_EQ(mailer->createdAtMs, 150);
    EXPECT_EQ(mailer->policy.purpose, "");
    EXPECT_FALSE(mailer->policy.testMode);
    EXPECT_TRUE(mailer->policy.ipAllowlist.empty());
    EXPECT_TRUE(mailer->policy.senderDomains.empty());
    EXPECT_EQ(mailer->policy.rateLimitPerMinute, 0);
    EXPECT_EQ(mailer->policy.dailyQuota, 0);

    auto texter = must(creds.findUserById(5));
    ASSERT_TRUE(texter.has_value());
    EXPECT_EQ(texter->name, "old_texter");
    EXPECT_EQ(texter->kind, UserKind::Sms);
    EXPECT_TRUE(texter->disabled);
    EXPECT_EQ(texter->keyHash, std::string("\x01\x02", 2));
    EXPECT_EQ(texter->keyCipher, std::string("\0\xaa\0", 3));
    EXPECT_EQ(must(creds.listUsers(7)).size(), 2u);
    EXPECT_EQ(backend.messages().recipientsOf("m1").value().size(), 1u);

    {
        SQLite::Database raw(path(), SQLite::OPEN_READONLY);
        EXPECT_EQ(raw.execAndGet("PRAGMA integrity_check").getString(), "ok");
        SQLite::Statement fk(raw, "PRAGMA foreign_key_check");
        EXPECT_FALSE(fk.executeStep());
        EXPECT_EQ(raw.execAndGet("SELECT count(*) FROM sqlite_schema "
                                 "WHERE type = 'index' AND name = 'api_users_by_account'")
                      .getInt(),
                  1);
        EXPECT_FALSE(raw.tableExists("api_users_v2"));
    }

    // The rebuilt table works with everything that refers to it.
    KeyRotation r;
    r.keyHash = std::string("\0new", 4);
    r.keyFingerprint = "cccccccc";
    r.nowMs = 1000;
    r.oldKeyExpiresAtMs = 2000;
    ASSERT_TRUE(creds.rotateKey(3, r).ok());
    ASSERT_TRUE(creds.rotateKey(5, r).ok());
    auto old = must(creds.findRetiredKey(3, std::string("\0\xff\0", 3)));
    ASSERT_TRUE(old.has_value());
    EXPECT_EQ(old->createdAtMs, 200);
    UserPolicy p;
    p.senderDomains = {"example.com"};
    EXPECT_EQ(must(creds.updateUser(3, p, false)).policy.senderDomains, p.senderDomains);
    ASSERT_TRUE(creds.deleteUser(5).ok());
    EXPECT_TRUE(must(creds.retiredKeys(5)).empty());
    EXPECT_EQ(must(creds.retiredKeys(3)).size(), 1u);
    // Ids stay unique after the deletion of the largest one.
    EXPECT_GT(must(creds.createUser(newUser(7, "new_mailer"))).id, 5);
    ASSERT_TRUE(backend.sessions()
                    .createSession(Session{std::string("\0tok", 4), "csrf", 7, 1000, 2000})
                    .ok());
}

// A file left by a build at schema version 2, filled with plain SQL as that build would have.
void createVersion2Database(const std::string& path) {
    sqlite::Connection c(path, 5000);
    sqlite::migrate(c, 2);
    c.db().exec(R"sql(
INSERT INTO accounts (id, email, created_at_ms, password_hash)
VALUES (7, 'old@example.com', 100, 'pw');
INSERT INTO accounts (id, email, created_at_ms) VALUES (8, 'other@example.com', 110);
INSERT INTO api_users (id, account_id, name, kind, key_hash, key_fingerprint, key_created_at_ms,
                       created_at_ms, purpose, sender_domains, daily_quota)
VALUES (3, 7, 'old_mailer', 'email', x'00ff00', 'aaaaaaaa', 200, 150, 'newsletters',
        '["example.com"]', 1000);
INSERT INTO retired_keys (user_id, key_hash, key_fingerprint, created_at_ms, reset_at_ms,
                          expires_at_ms)
VALUES (3, x'0102', 'cccccccc', 50, 200, 300);
INSERT INTO messages (id, kind, account_id, api_user_id, api_user_name, created_at_ms,
                      test_mode, content_json)
VALUES ('m1', 'email', 7, 3, 'old_mailer', 400, 0, '{"subject":"old"}');
INSERT INTO recipients (id, message_id, address, role, state, attempts, next_attempt_at_ms,
                        updated_at_ms)
VALUES ('m10$r', 'm1', 'a@example.com', 'to', 'sent', 1, NULL, 450),
       ('m11$r', 'm1', 'b@example.com', 'cc', 'queued', 0, 400, 400);
INSERT INTO sessions (token_hash, csrf_hash, account_id, created_at_ms, expires_at_ms)
VALUES (x'00746f6b', x'6373', 7, 500, 5000);
INSERT INTO auth_events (at_ms, api, user_name, account_id, user_id, outcome, reason,
                         key_fingerprint, client_ip, user_agent)
VALUES (600, 'email', 'old_mailer', 7, 3, 'success', '', 'aaaaaaaa', '192.0.2.1', 'curl');
INSERT INTO usage_hourly (user_id, account_id, user_name, hour_start_ms, requests, recipients)
VALUES (3, 7, 'old_mailer', 0, 1, 2);
)sql");
}

TEST_F(SqliteBackendTest, MigratesAVersion2DatabaseKeepingItsData) {
    createVersion2Database(path());
    ASSERT_EQ(userVersion(path()), 2);
    {
        SQLite::Database raw(path(), SQLite::OPEN_READONLY);
        EXPECT_FALSE(raw.tableExists("send_requests"));
    }

    SqliteBackend backend(optionsFor(path()));
    EXPECT_EQ(userVersion(path()), SqliteBackend::schemaVersion());

    // What was there is still there, and recipients of old messages read the message's content.
    auto account = must(backend.credentials().findAccountById(7));
    ASSERT_TRUE(account.has_value());
    EXPECT_EQ(account->passwordHash, "pw");
    auto mailer = must(backend.credentials().findUser("old_mailer"));
    ASSERT_TRUE(mailer.has_value());
    EXPECT_EQ(mailer->policy.purpose, "newsletters");
    EXPECT_EQ(mailer->policy.senderDomains, std::vector<std::string>{"example.com"});
    EXPECT_EQ(mailer->policy.dailyQuota, 1000);
    EXPECT_EQ(must(backend.credentials().retiredKeys(3)).size(), 1u);
    ASSERT_TRUE(must(backend.sessions().findSession(std::string("\0tok", 4))).has_value());
    AuthEventQuery events;
    events.accountId = 7;
    EXPECT_EQ(must(backend.audit().queryEvents(events)).size(), 1u);
    EXPECT_EQ(must(backend.audit().recipientsBetween(3, 0, 1000)), 2);
    auto rs = backend.messages().recipientsOf("m1").value();
    ASSERT_EQ(rs.size(), 2u);
    EXPECT_EQ(rs[0].state, RecipientState::Delivered);  // migration 6 renamed it
    EXPECT_EQ(rs[0].contentJson, R"({"subject":"old"})");
    EXPECT_EQ(rs[1].contentJson, R"({"subject":"old"})");
    EXPECT_EQ(
        backend.messages().findRecipient(test_support::recipientId("m1", 1)).value()->createdAtMs,
        400);

    // The new columns and tables work.
    NewMessage m = newMessage("m2");
    m.apiUserId = 3;
    m.sendRequestId = "req";
    m.responseJson = "{}";
    m.recipients[0].contentJson = R"({"text":"own"})";
    ASSERT_TRUE(enqueueAndWait(backend.messages(), m).ok());
    EXPECT_EQ(
        backend.messages().findRecipient(test_support::recipientId("m2", 0)).value()->contentJson,
        R"({"text":"own"})");
    EXPECT_TRUE(enqueueAndWait(backend.messages(), newMessage("m3")).ok());
    m.messageId = "m4";
    m.recipients[0].id = test_support::recipientId("m4", 0);
    EXPECT_EQ(enqueueAndWait(backend.messages(), m).error().kind, StoreError::Kind::Duplicate);
    EmailTemplate t;
    t.accountId = 7;
    t.invokeName = "welcome";
    EXPECT_GT(must(backend.templates().createEmailTemplate(t)).id, 0);
    SmsTemplate st;
    st.accountId = 8;
    EXPECT_GT(must(backend.templates().createSmsTemplate(st)).id, 0);

    SQLite::Database raw(path(), SQLite::OPEN_READONLY);
    EXPECT_EQ(raw.execAndGet("PRAGMA integrity_check").getString(), "ok");
    SQLite::Statement fk(raw, "PRAGMA foreign_key_check");
    EXPECT_FALSE(fk.executeStep());
    EXPECT_EQ(raw.execAndGet("SELECT count(*) FROM recipients WHERE content_json IS NULL").getInt(),
              3);
}

TEST_F(SqliteBackendTest, Migration6RenamesOldStatesAndChecksEveryKindColumn) {
    {
        sqlite::Connection c(path(), 5000);
        sqlite::migrate(c, 5);
        c.db().exec(R"sql(
INSERT INTO messages (id, kind, account_id, api_user_id, api_user_name, created_at_ms,
                      test_mode, content_json)
VALUES ('m1', 'email', 7, 3, 'old_mailer', 400, 1, '{}');
INSERT INTO recipients (id, message_id, address, role, state, attempts, next_attempt_at_ms,
                        updated_at_ms)
VALUES ('m10$r', 'm1', 'a@example.com', 'to', 'test', 0, NULL, 400),
       ('m11$r', 'm1', 'b@example.com', 'bcc', 'failed', 0, NULL, 400);
INSERT INTO auth_events (at_ms, api, user_name, account_id, user_id, outcome, reason,
                         key_fingerprint, client_ip, user_agent)
VALUES (1, 'email', 'u', 7, 3, 'success', '', '', '', ''),
       (2, 'sms', 'u', 7, 3, 'failure', '', '', '', ''),
       (3, 'console', 'u', 7, 3, 'locked', '', '', '', '');
DELETE FROM auth_events WHERE id = 3;
)sql");
    }
    SqliteBackend backend(optionsFor(path()));
    auto rs = must(backend.messages().recipientsOf("m1"));
    ASSERT_EQ(rs.size(), 2u);
    EXPECT_EQ(rs[0].state, RecipientState::Sandbox);
    EXPECT_EQ(rs[1].state, RecipientState::Failed);
    EXPECT_EQ(rs[1].role, RecipientRole::Bcc);

    SQLite::Database raw(path(), SQLite::OPEN_READWRITE);
    // A pruned event's id is not handed out again: the AUTOINCREMENT counter survived.
    raw.exec(
        "INSERT INTO auth_events (at_ms, api, user_name, account_id, user_id, outcome, reason, "
        "key_fingerprint, client_ip, user_agent) VALUES (4, 'email', 'u', 7, 3, 'quota', '', "
        "'', '', '')");
    EXPECT_EQ(raw.getLastInsertRowid(), 4);
    // Texts records.cpp does not know are refused by the schema itself.
    for (const char* bad : {
             "INSERT INTO recipients (id, message_id, address, role, state, updated_at_ms) "
             "VALUES ('m12$r', 'm1', 'c@example.com', 'to', 'sent', 1)",
             "INSERT INTO recipients (id, message_id, address, role, state, updated_at_ms) "
             "VALUES ('m12$r', 'm1', 'c@example.com', 'from', 'queued', 1)",
             "UPDATE auth_events SET api = 'smtp'",
             "UPDATE auth_events SET outcome = 'maybe'",
         }) {
        EXPECT_THROW(raw.exec(bad), SQLite::Exception) << bad;
    }
    EXPECT_EQ(raw.execAndGet("PRAGMA integrity_check").getString(), "ok");
}

TEST_F(SqliteBackendTest, Migration11TakesEachUsersLastUseFromTheAuthenticationLog) {
    constexpr int64_t kHour = 3600 * 1000;
    constexpr int64_t kT0 = 1795824000000;  // an hour boundary; the SQL below spells it out
    {
        sqlite::Connection c(path(), 5000);
        sqlite::migrate(c, 10);
        // User 3: a usage row in the hour of its latest success (a coalesced event whose last
        // attempt is the latest), an older success, and a later failure. User 4: a success in an
        // hour that has no usage row. User 5: failures only. User 0: an unknown user's success.
        c.db().exec(R"sql(
INSERT INTO usage_hourly (user_id, account_id, user_name, hour_start_ms, requests)
VALUES (3, 7, 'old_mailer', 1795824000000, 9),
       (3, 7, 'old_mailer', 1795827600000, 2);
INSERT INTO auth_events (at_ms, api, user_name, account_id, user_id, outcome, reason,
                         key_fingerprint, client_ip, user_agent, attempts, last_at_ms)
VALUES (1795824000100, 'email', 'old_mailer', 7, 3, 'success', '', '', '', '', 1, NULL),
       (1795827600010, 'email', 'old_mailer', 7, 3, 'success', '', '', '', '', 5, 1795827600800),
       (1795827605000, 'email', 'old_mailer', 7, 3, 'failure', '', '', '', '', 1, NULL),
       (1795824000300, 'sms', 'old_texter', 7, 4, 'success', '', '', '', '', 1, NULL),
       (1795824000400, 'email', 'bad_mailer', 7, 5, 'failure', '', '', '', '', 1, NULL),
       (1795824000500, 'console', 'old@example.com', 7, 0, 'success', '', '', '', '', 1, NULL);
)sql");
    }
    SqliteBackend backend(optionsFor(path()));
    EXPECT_EQ(must(backend.audit().lastUseOf(3)), kT0 + kHour + 800);
    EXPECT_EQ(must(backend.audit().lastUseOf(4)), kT0 + 300);
    EXPECT_EQ(must(backend.audit().lastUseOf(5)), std::nullopt);
    EXPECT_EQ(must(backend.audit().lastUseOf(0)), std::nullopt);
    // The counters are as they were; user 4 got a row of its own, with no counts.
    UsageQuery q;
    q.accountId = 7;
    auto rows = must(backend.audit().queryUsage(q));
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0].userId, 3);
    EXPECT_EQ(rows[0].requests, 9);
    EXPECT_EQ(rows[1].userId, 4);
    EXPECT_EQ(rows[1].requests, 0);
    EXPECT_EQ(rows[2].userId, 3);
    EXPECT_EQ(rows[2].requests, 2);
}

// Migration 13 rebuilds recipients and auth_events with their CHECKs written as OR-ed
// comparisons: every row, rowid and the audit log's AUTOINCREMENT counter survive, every state,
// role, api and outcome that records.cpp writes is still admitted, and others still refused.
TEST_F(SqliteBackendTest, Migration13KeepsRecipientsAndAuthEventsAndWhatTheirChecksAllow) {
    {
        sqlite::Connection c(path(), 5000);
        sqlite::migrate(c, 12);
        c.db().exec(R"sql(
INSERT INTO messages (id, kind, account_id, api_user_id, api_user_name, created_at_ms,
                      test_mode, content_json)
VALUES ('m1', 'sms', 7, 3, 'old_texter', 400, 0, '{}');
INSERT INTO recipients (rowid, id, message_id, address, role, state, attempts,
                        next_attempt_at_ms, updated_at_ms, lease_owner, last_reply)
VALUES (5, 'm10$r', 'm1', '+14155550100', 'to', 'submitted', 1, NULL, 400, NULL, '0 OK'),
       (9, 'm11$r', 'm1', '+14155550101', 'to', 'sending', 0, 900, 401, 'node-a', NULL);
INSERT INTO auth_events (at_ms, api, user_name, account_id, user_id, outcome, reason,
                         key_fingerprint, client_ip, user_agent)
VALUES (1, 'sms', 'u', 7, 3, 'success', '', '', '', ''),
       (2, 'console', 'u', 7, 3, 'rate_limited', '', '', '', '');
DELETE FROM auth_events WHERE id = 2;
)sql");
    }
    { SqliteBackend backend(optionsFor(path())); }
    SQLite::Database raw(path(), SQLite::OPEN_READWRITE);
    EXPECT_EQ(raw.execAndGet("SELECT group_concat(line, ' ') FROM (SELECT rowid || ':' || id || "
                             "':' || state || ':' || coalesce(lease_owner, '-') || ':' || "
                             "coalesce(last_reply, '-') AS line FROM recipients ORDER BY rowid)")
                  .getString(),
              "5:m10$r:submitted:-:0 OK 9:m11$r:sending:node-a:-");
    EXPECT_EQ(raw.execAndGet("SELECT count(*) FROM recipients INDEXED BY recipients_due "
                             "WHERE state = 'sending' AND next_attempt_at_ms <= 900")
                  .getInt(),
              1);
    raw.exec(
        "INSERT INTO auth_events (at_ms, api, user_name, account_id, user_id, outcome, reason, "
        "key_fingerprint, client_ip, user_agent) VALUES (3, 'email', 'u', 7, 3, 'quota', '', "
        "'', '', '')");
    EXPECT_EQ(raw.getLastInsertRowid(), 3);  // the pruned id 2 is not handed out again

    for (int s = 0; s <= static_cast<int>(RecipientState::Failed); ++s) {
        const auto name = std::string(recipientStateName(static_cast<RecipientState>(s)));
        EXPECT_EQ(raw.exec(test_support::cat("UPDATE recipients SET state = '", name,
                                             "' WHERE rowid = 5")),
                  1)
            << name;
    }
    for (const auto role : {RecipientRole::To, RecipientRole::Cc, RecipientRole::Bcc}) {
        raw.exec(test_support::cat("UPDATE recipients SET role = '",
                                   std::string(recipientRoleName(role)), "' WHERE rowid = 5"));
    }
    for (const auto api : {AuthApi::Email, AuthApi::Sms, AuthApi::Console}) {
        raw.exec(test_support::cat("UPDATE auth_events SET api = '", std::string(authApiName(api)),
                                   "' WHERE id = 1"));
    }
    for (const auto outcome : kAuthOutcomes) {
        raw.exec(test_support::cat("UPDATE auth_events SET outcome = '",
                                   std::string(authOutcomeName(outcome)), "' WHERE id = 1"));
    }
    for (const char* bad :
         {"UPDATE recipients SET state = 'sent'", "UPDATE recipients SET state = 'Queued'",
          "UPDATE recipients SET role = 'from'", "UPDATE auth_events SET api = 'smtp'",
          "UPDATE auth_events SET outcome = 'maybe'"}) {
        EXPECT_THROW(raw.exec(bad), SQLite::Exception) << bad;
    }
    EXPECT_EQ(raw.execAndGet("PRAGMA integrity_check").getString(), "ok");
}

// SQLite evaluates `x IN (a, b, c, ...)` in a CHECK by building a temporary B-tree of the list
// each time a statement runs; with two values or fewer it compares instead. Such a CHECK on a
// table written per delivery cost more than the row itself (migration 13), so none may come
// back.
TEST_F(SqliteBackendTest, NoCheckConstraintUsesAnInListOfMoreThanTwoValues) {
    { SqliteBackend backend(optionsFor(path())); }
    SQLite::Database raw(path(), SQLite::OPEN_READONLY);
    SQLite::Statement q(raw, "SELECT name, sql FROM sqlite_schema WHERE sql IS NOT NULL");
    int checks = 0;
    while (q.executeStep()) {
        const std::string name = q.getColumn(0).getString();
        const std::string sql = q.getColumn(1).getString();
        for (size_t at = sql.find("CHECK"); at != std::string::npos;
             at = sql.find("CHECK", at + 1)) {
            ++checks;
            // The CHECK's own parentheses, balanced.
            size_t end = sql.find('(', at);
            ASSERT_NE(end, std::string::npos) << name;
            int depth = 0;
            for (; end < sql.size(); ++end) {
                if (sql[end] == '(') ++depth;
                if (sql[end] == ')' && --depth == 0) break;
            }
            const std::string check = sql.substr(at, end - at + 1);
            for (size_t in = check.find(" IN ("); in != std::string::npos;
                 in = check.find(" IN (", in + 1)) {
                const size_t close = check.find(')', in);
                const auto commas =
                    std::count(check.begin() + static_cast<std::ptrdiff_t>(in),
                               check.begin() + static_cast<std::ptrdiff_t>(close), ',');
                EXPECT_LE(commas, 1) << name << ": " << check;
            }
        }
    }
    EXPECT_GE(checks, 10);  // the CHECKs were found at all
}

TEST_F(SqliteBackendTest, MigrateToAnOlderOrUnknownVersionChangesNothing) {
    { SqliteBackend backend(optionsFor(path())); }
    const auto schemaBefore = schemaObjects(path());
    {
        sqlite::Connection c(path(), 5000);
        sqlite::migrate(c, 1);  // never down
        EXPECT_THROW(sqlite::migrate(c, SqliteBackend::schemaVersion() + 1), std::invalid_argument);
    }
    EXPECT_EQ(userVersion(path()), SqliteBackend::schemaVersion());
    EXPECT_EQ(schemaObjects(path()), schemaBefore);
}

TEST_F(SqliteBackendTest, StepByStepMigrationGivesTheSameSchemaAsANewFile) {
    const std::string fresh = dir_.file("fresh.db");
    { SqliteBackend backend(optionsFor(fresh)); }
    for (int from = 1; from < SqliteBackend::schemaVersion(); ++from) {
        SCOPED_TRACE(from);
        const std::string old = dir_.file(test_support::cat("from-", std::to_string(from), ".db"));
        {
            sqlite::Connection c(old, 5000);
            sqlite::migrate(c, from);
        }
        EXPECT_EQ(userVersion(old), from);
        { SqliteBackend backend(optionsFor(old)); }
        EXPECT_EQ(schemaObjects(old), schemaObjects(fresh));
    }
}

}  // namespace
}  // namespace sc::store
