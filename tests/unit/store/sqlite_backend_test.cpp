#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <set>
#include <stdexcept>
#include <string>

#include "store/sqlite/sqlite_store.h"

namespace sc::store {
namespace {

using namespace std::chrono_literals;

// A fresh directory per test, removed afterwards.
class TempDir {
  public:
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "sc-store-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    std::string file(const std::string& name) const { return (path_ / name).string(); }

  private:
    std::filesystem::path path_;
};

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
    m.recipients.push_back(Recipient{id + "-r0", "+14155550100", "to"});
    return m;
}

// Enqueues and waits for the answer.
Result<Ok, StoreError> enqueueAndWait(MessageStore& store, NewMessage m) {
    std::promise<Result<Ok, StoreError>> done;
    auto f = done.get_future();
    store.enqueue(std::move(m), [&](Result<Ok, StoreError> r) { done.set_value(std::move(r)); });
    if (f.wait_for(120s) != std::future_status::ready) {
        return fail(StoreError{StoreError::Kind::Internal, "no answer"});
    }
    return f.get();
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
    for (const char* table : {"accounts", "api_users", "messages", "attachments", "recipients"}) {
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
        auto u = backend.credentials().findUser("sender");
        ASSERT_TRUE(u.has_value());
        EXPECT_EQ(u->keyHash, std::string("\0hash\0", 6));
        EXPECT_EQ(backend.messages().recipientsOf("m1").size(), 1u);
    }
    EXPECT_EQ(schemaObjects(path()), schemaBefore);
    EXPECT_EQ(userVersion(path()), versionBefore);
}

TEST_F(SqliteBackendTest, BackendsOpeningANewFileTogetherBothSucceed) {
    auto open = [&] {
        SqliteBackend backend(optionsFor(path()));
        return backend.credentials().findUser("nobody").has_value();
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
        raw.exec("PRAGMA user_version=" + std::to_string(SqliteBackend::schemaVersion() + 1));
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
    ASSERT_TRUE(server.credentials().findUser("from_server").has_value());
    EXPECT_FALSE(server.credentials().findUser("from_operator").has_value());

    auto seen = operatorCmd.credentials().findUser("from_server");
    ASSERT_TRUE(seen.has_value());
    EXPECT_EQ(seen->keyHash, std::string("\0hash\0", 6));
    ASSERT_TRUE(operatorCmd.credentials().createUser(newUser(acct->id, "from_operator")).ok());
    ASSERT_TRUE(operatorCmd.credentials().setUserDisabled("from_server", true).ok());

    EXPECT_TRUE(server.credentials().findUser("from_operator").has_value());
    EXPECT_TRUE(server.credentials().findUser("from_server")->disabled);
    EXPECT_EQ(server.credentials().listUsers(acct->id).size(), 2u);
    auto dup = server.credentials().createUser(newUser(acct->id, "from_operator"));
    ASSERT_FALSE(dup.ok());
    EXPECT_EQ(dup.error().kind, StoreError::Kind::Conflict);

    ASSERT_TRUE(enqueueAndWait(server.messages(), newMessage("m1")).ok());
    EXPECT_EQ(operatorCmd.messages().recipientsOf("m1").size(), 1u);
    ASSERT_TRUE(enqueueAndWait(operatorCmd.messages(), newMessage("m2")).ok());
    EXPECT_EQ(server.messages().findRecipient("m2-r0")->state, "queued");
    EXPECT_EQ(enqueueAndWait(operatorCmd.messages(), newMessage("m1")).error().kind,
              StoreError::Kind::Conflict);
}

TEST_F(SqliteBackendTest, ReadsSeeChangesMadeWithPlainSqlite) {
    SqliteBackend backend(optionsFor(path()));
    auto acct = backend.credentials().createAccount("a@example.com", 1);
    ASSERT_TRUE(acct.ok());
    ASSERT_TRUE(backend.credentials().createUser(newUser(acct->id, "sender")).ok());
    EXPECT_FALSE(backend.credentials().findUser("sender")->disabled);

    SQLite::Database raw(path(), SQLite::OPEN_READWRITE);
    raw.exec(
        "UPDATE api_users SET disabled = 1, key_fingerprint = 'rotated' WHERE name = 'sender'");

    auto u = backend.credentials().findUser("sender");
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
    EXPECT_TRUE(backend.messages().recipientsOf("m1").empty());
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_NE(errors[0].find("recipientsOf"), std::string::npos) << errors[0];
}

}  // namespace
}  // namespace sc::store
