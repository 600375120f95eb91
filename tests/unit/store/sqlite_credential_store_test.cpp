#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite/sqlite_store.h"

namespace sc::store {
namespace {

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

// 32 bytes with NULs at the start, the middle and the end, as an HMAC may well have.
std::string binaryKeyHash() {
    std::string h(32, '\0');
    for (size_t i = 0; i < h.size(); ++i) h[i] = static_cast<char>((i * 37) & 0xff);
    h[16] = '\0';
    h[31] = '\0';
    return h;
}

NewApiUser newUser(int64_t accountId, std::string name, UserKind kind = UserKind::Email) {
    NewApiUser u;
    u.accountId = accountId;
    u.name = std::move(name);
    u.kind = kind;
    u.keyHash = binaryKeyHash();
    if (kind == UserKind::Sms) u.keyCipher = std::string("\0nonce\0\0cipher\xff", 15);
    u.keyFingerprint = "0a1b2c3d";
    u.createdAtMs = 1795827000123;
    return u;
}

class SqliteCredentialStoreTest : public ::testing::Test {
  protected:
    SqliteOptions options() const {
        SqliteOptions o;
        o.path = dir_.file("sendcloud.db");
        return o;
    }
    int64_t account(const std::string& email = "owner@example.com") {
        auto a = store_.createAccount(email, 1000);
        EXPECT_TRUE(a.ok());
        return a.ok() ? a->id : 0;
    }

    TempDir dir_;
    SqliteBackend backend_{options()};
    CredentialStore& store_ = backend_.credentials();
};

TEST_F(SqliteCredentialStoreTest, CreateAccountIsFoundByEmailInAnyCase) {
    auto created = store_.createAccount("Ops@Example.com", 1234);
    ASSERT_TRUE(created.ok());
    EXPECT_GT(created->id, 0);
    EXPECT_EQ(created->email, "Ops@Example.com");
    EXPECT_EQ(created->createdAtMs, 1234);

    auto found = store_.findAccountByEmail("ops@example.COM");
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->id, created->id);
    EXPECT_EQ(found->email, "Ops@Example.com");
    EXPECT_EQ(found->createdAtMs, 1234);

    EXPECT_FALSE(store_.findAccountByEmail("nobody@example.com").has_value());
}

TEST_F(SqliteCredentialStoreTest, CreateAccountConflictsOnEmailInAnyCase) {
    ASSERT_TRUE(store_.createAccount("ops@example.com", 1).ok());
    auto again = store_.createAccount("OPS@example.COM", 2);
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().kind, StoreError::Kind::Conflict);
    EXPECT_TRUE(store_.createAccount("other@example.com", 3).ok());
}

TEST_F(SqliteCredentialStoreTest, CreateUserConflictsOnNameAcrossAccounts) {
    const int64_t a = account("a@example.com");
    const int64_t b = account("b@example.com");
    ASSERT_TRUE(store_.createUser(newUser(a, "shop_trigger")).ok());
    auto again = store_.createUser(newUser(b, "shop_trigger", UserKind::Sms));
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().kind, StoreError::Kind::Conflict);
    EXPECT_EQ(store_.findUser("shop_trigger")->accountId, a);
}

TEST_F(SqliteCredentialStoreTest, CreateUserForUnknownAccountIsNotFound) {
    auto r = store_.createUser(newUser(424242, "orphan"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, StoreError::Kind::NotFound);
    EXPECT_FALSE(store_.findUser("orphan").has_value());
}

TEST_F(SqliteCredentialStoreTest, FindUserRoundTripsEveryField) {
    const int64_t acct = account();
    const NewApiUser in = newUser(acct, "sms_sender", UserKind::Sms);
    auto created = store_.createUser(in);
    ASSERT_TRUE(created.ok());

    auto u = store_.findUser("sms_sender");
    ASSERT_TRUE(u.has_value());
    EXPECT_EQ(u->id, created->id);
    EXPECT_EQ(u->accountId, acct);
    EXPECT_EQ(u->name, "sms_sender");
    EXPECT_EQ(u->kind, UserKind::Sms);
    EXPECT_FALSE(u->disabled);
    EXPECT_EQ(u->keyHash, in.keyHash);
    EXPECT_EQ(u->keyHash.size(), 32u);
    EXPECT_EQ(u->keyCipher, in.keyCipher);
    EXPECT_EQ(u->keyCipher.size(), 15u);
    EXPECT_EQ(u->keyFingerprint, "0a1b2c3d");
    EXPECT_EQ(u->keyCreatedAtMs, in.createdAtMs);
    EXPECT_EQ(u->createdAtMs, in.createdAtMs);

    // What createUser answered is what findUser reads back.
    EXPECT_EQ(created->keyHash, u->keyHash);
    EXPECT_EQ(created->keyCipher, u->keyCipher);
    EXPECT_EQ(created->keyCreatedAtMs, u->keyCreatedAtMs);

    // Stored as BLOBs (not TEXT, which would stop at the first NUL in some readers); an e-mail
    // user has no stored key at all.
    ASSERT_TRUE(store_.createUser(newUser(acct, "mail_sender")).ok());
    SQLite::Database raw(options().path, SQLite::OPEN_READONLY);
    SQLite::Statement q(raw,
                        "SELECT typeof(key_hash), typeof(key_cipher), length(key_hash) "
                        "FROM api_users ORDER BY name");
    ASSERT_TRUE(q.executeStep());  // mail_sender
    EXPECT_EQ(q.getColumn(0).getString(), "blob");
    EXPECT_EQ(q.getColumn(1).getString(), "null");
    EXPECT_EQ(q.getColumn(2).getInt(), 32);
    ASSERT_TRUE(q.executeStep());  // sms_sender
    EXPECT_EQ(q.getColumn(1).getString(), "blob");

    auto mail = store_.findUser("mail_sender");
    ASSERT_TRUE(mail.has_value());
    EXPECT_EQ(mail->kind, UserKind::Email);
    EXPECT_TRUE(mail->keyCipher.empty());
}

TEST_F(SqliteCredentialStoreTest, FindUserUnknownIsEmpty) {
    EXPECT_FALSE(store_.findUser("nobody").has_value());
    EXPECT_FALSE(store_.findUser("").has_value());
}

TEST_F(SqliteCredentialStoreTest, ListUsersReturnsOnlyThatAccountsUsersByName) {
    const int64_t a = account("a@example.com");
    const int64_t b = account("b@example.com");
    ASSERT_TRUE(store_.createUser(newUser(a, "zeta")).ok());
    ASSERT_TRUE(store_.createUser(newUser(b, "beta")).ok());
    ASSERT_TRUE(store_.createUser(newUser(a, "alpha", UserKind::Sms)).ok());

    auto users = store_.listUsers(a);
    ASSERT_EQ(users.size(), 2u);
    EXPECT_EQ(users[0].name, "alpha");
    EXPECT_EQ(users[0].kind, UserKind::Sms);
    EXPECT_EQ(users[0].keyHash, binaryKeyHash());
    EXPECT_EQ(users[1].name, "zeta");
    EXPECT_EQ(store_.listUsers(b).size(), 1u);
    EXPECT_TRUE(store_.listUsers(999).empty());
}

TEST_F(SqliteCredentialStoreTest, SetUserDisabledTogglesAndReportsUnknownUser) {
    ASSERT_TRUE(store_.createUser(newUser(account(), "sender")).ok());

    ASSERT_TRUE(store_.setUserDisabled("sender", true).ok());
    EXPECT_TRUE(store_.findUser("sender")->disabled);
    // Setting the state it already has still finds the user.
    ASSERT_TRUE(store_.setUserDisabled("sender", true).ok());
    ASSERT_TRUE(store_.setUserDisabled("sender", false).ok());
    EXPECT_FALSE(store_.findUser("sender")->disabled);

    auto missing = store_.setUserDisabled("nobody", true);
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().kind, StoreError::Kind::NotFound);
}

TEST_F(SqliteCredentialStoreTest, ConcurrentLookupsWhileUsersAreCreated) {
    const int64_t acct = account();
    ASSERT_TRUE(store_.createUser(newUser(acct, "hot")).ok());

    constexpr int kReaders = 8;
    constexpr int kLookups = 300;
    std::vector<std::thread> threads;
    std::vector<int> found(kReaders, 0);
    for (int t = 0; t < kReaders; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kLookups; ++i) {
                auto u = store_.findUser("hot");
                if (u && u->keyHash == binaryKeyHash()) ++found[t];
            }
        });
    }
    for (int i = 0; i < 50; ++i) {
        ASSERT_TRUE(store_.createUser(newUser(acct, "user" + std::to_string(i))).ok());
    }
    for (auto& th : threads) th.join();
    for (int t = 0; t < kReaders; ++t) EXPECT_EQ(found[t], kLookups);
    EXPECT_EQ(store_.listUsers(acct).size(), 51u);
}

TEST_F(SqliteCredentialStoreTest, WaitsForAnotherProcessesWriteLockInsteadOfFailing) {
    const int64_t acct = account();
    // An operator command in another process, in the middle of its own write.
    SQLite::Database other(options().path, SQLite::OPEN_READWRITE);
    other.exec("BEGIN IMMEDIATE");
    other.exec("UPDATE accounts SET created_at_ms = 7");

    auto pending =
        std::async(std::launch::async, [&] { return store_.createUser(newUser(acct, "late")); });
    // Not a synchronisation sleep: a bounded check that the write does not complete while the
    // lock is held (it cannot, whatever the timing), which also gives it time to start waiting.
    EXPECT_EQ(pending.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
    other.exec("COMMIT");

    auto r = pending.get();
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_TRUE(store_.findUser("late").has_value());
    EXPECT_EQ(store_.findAccountByEmail("owner@example.com")->createdAtMs, 7);
}

}  // namespace
}  // namespace sc::store
