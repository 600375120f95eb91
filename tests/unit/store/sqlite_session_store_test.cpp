#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <string>

#include "store/sqlite/sqlite_store.h"
#include "unit/store/sqlite_test_support.h"

namespace sc::store {
namespace {

using test_support::countRows;
using test_support::must;
using test_support::TempDir;

constexpr int64_t kNow = 1795827000000;
constexpr int64_t kHour = 3600 * 1000;

// Raw hash bytes, NULs included, as a SHA-256 of the cookie value would be.
std::string hashOf(char tag) {
    std::string h(32, '\0');
    for (size_t i = 0; i < h.size(); ++i) h[i] = static_cast<char>(i * 11 + tag);
    h[0] = '\0';
    h[20] = '\0';
    return h;
}

class SqliteSessionStoreTest : public ::testing::Test {
protected:
    SqliteOptions options() const {
        SqliteOptions o;
        o.path = dir_.file("sendcloud.db");
        return o;
    }
    void SetUp() override {
        accountId_ = must(backend_.credentials().createAccount("owner@example.com", 1)).id;
    }
    Session session(char tag, int64_t expiresAtMs) const {
        Session s;
        s.tokenHash = hashOf(tag);
        s.csrfHash = hashOf(static_cast<char>(tag + 100));
        s.accountId = accountId_;
        s.createdAtMs = kNow;
        s.expiresAtMs = expiresAtMs;
        return s;
    }

    TempDir dir_;
    SqliteBackend backend_{options()};
    SessionStore& store_ = backend_.sessions();
    int64_t accountId_ = 0;
};

TEST_F(SqliteSessionStoreTest, CreateFindAndDeleteRoundTripEveryField) {
    const Session in = session('a', kNow + kHour);
    ASSERT_TRUE(store_.createSession(in).ok());

    auto found = must(store_.findSession(in.tokenHash));
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->tokenHash, in.tokenHash);
    EXPECT_EQ(found->csrfHash, in.csrfHash);
    EXPECT_EQ(found->accountId, accountId_);
    EXPECT_EQ(found->createdAtMs, kNow);
    EXPECT_EQ(found->expiresAtMs, kNow + kHour);

    // Byte-exact: a hash that differs after its first NUL is another session.
    std::string other = in.tokenHash;
    other[31] = static_cast<char>(other[31] ^ 1);
    EXPECT_FALSE(must(store_.findSession(other)).has_value());
    EXPECT_FALSE(must(store_.findSession("")).has_value());

    ASSERT_TRUE(store_.deleteSession(in.tokenHash).ok());
    EXPECT_FALSE(must(store_.findSession(in.tokenHash)).has_value());
    // A second logout is not an error.
    EXPECT_TRUE(store_.deleteSession(in.tokenHash).ok());
}

TEST_F(SqliteSessionStoreTest, DuplicateTokenConflictsAndUnknownAccountIsNotFound) {
    ASSERT_TRUE(store_.createSession(session('a', kNow + kHour)).ok());
    auto dup = store_.createSession(session('a', kNow + 2 * kHour));
    ASSERT_FALSE(dup.ok());
    EXPECT_EQ(dup.error().kind, StoreError::Kind::Conflict);
    EXPECT_EQ(must(store_.findSession(hashOf('a')))->expiresAtMs, kNow + kHour);

    Session orphan = session('b', kNow + kHour);
    orphan.accountId = accountId_ + 1;
    auto r = store_.createSession(orphan);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, StoreError::Kind::NotFound);
}

TEST_F(SqliteSessionStoreTest, FindAnswersAnExpiredSessionUntilItIsDeleted) {
    // The caller compares with its own clock; the store only keeps the rows.
    ASSERT_TRUE(store_.createSession(session('a', kNow - 1)).ok());
    auto found = must(store_.findSession(hashOf('a')));
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->expiresAtMs, kNow - 1);
}

TEST_F(SqliteSessionStoreTest, DeleteExpiredRemovesOnlySessionsThatExpiredBeforeNow) {
    ASSERT_TRUE(store_.createSession(session('a', kNow - kHour)).ok());
    ASSERT_TRUE(store_.createSession(session('b', kNow - 1)).ok());
    ASSERT_TRUE(store_.createSession(session('c', kNow)).ok());  // expires at now: kept
    ASSERT_TRUE(store_.createSession(session('d', kNow + kHour)).ok());

    EXPECT_EQ(must(store_.deleteExpiredSessions(kNow)), 2);
    EXPECT_FALSE(must(store_.findSession(hashOf('a'))).has_value());
    EXPECT_FALSE(must(store_.findSession(hashOf('b'))).has_value());
    EXPECT_TRUE(must(store_.findSession(hashOf('c'))).has_value());
    EXPECT_TRUE(must(store_.findSession(hashOf('d'))).has_value());
    EXPECT_EQ(must(store_.deleteExpiredSessions(kNow)), 0);
    EXPECT_EQ(must(store_.deleteExpiredSessions(kNow + kHour + 1)), 2);
    EXPECT_EQ(countRows(options().path, "sessions"), 0);
}

// A password change ends the account's sessions, and only its own.
TEST_F(SqliteSessionStoreTest, DeleteAccountSessionsRemovesOnlyThatAccountsSessions) {
    const int64_t otherAccount =
        must(backend_.credentials().createAccount("other@example.com", 1)).id;
    ASSERT_TRUE(store_.createSession(session('a', kNow + kHour)).ok());
    ASSERT_TRUE(store_.createSession(session('b', kNow - 1)).ok());  // expired, not yet pruned
    Session others = session('c', kNow + kHour);
    others.accountId = otherAccount;
    ASSERT_TRUE(store_.createSession(others).ok());

    EXPECT_EQ(must(store_.deleteAccountSessions(accountId_)), 2);
    EXPECT_FALSE(must(store_.findSession(hashOf('a'))).has_value());
    EXPECT_FALSE(must(store_.findSession(hashOf('b'))).has_value());
    EXPECT_TRUE(must(store_.findSession(hashOf('c'))).has_value());
    EXPECT_EQ(must(store_.deleteAccountSessions(accountId_)), 0);
}

TEST_F(SqliteSessionStoreTest, SessionsAreSharedWithAnotherProcessAndGoWithTheirAccount) {
    SqliteBackend other(options());
    ASSERT_TRUE(store_.createSession(session('a', kNow + kHour)).ok());
    EXPECT_TRUE(must(other.sessions().findSession(hashOf('a'))).has_value());
    ASSERT_TRUE(other.sessions().deleteSession(hashOf('a')).ok());
    EXPECT_FALSE(must(store_.findSession(hashOf('a'))).has_value());

    ASSERT_TRUE(store_.createSession(session('b', kNow + kHour)).ok());
    {
        SQLite::Database raw(options().path, SQLite::OPEN_READWRITE);
        raw.exec("PRAGMA foreign_keys=ON");
        raw.exec("DELETE FROM accounts");
    }
    EXPECT_FALSE(must(store_.findSession(hashOf('b'))).has_value());
}

}  // namespace
}  // namespace sc::store
