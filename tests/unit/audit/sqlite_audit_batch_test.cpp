// SqliteAuditStore's batched writes: multi-row INSERTs of every size a batch splits into, and the
// pooled connection handed back as durable as it was lent.

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "store/sqlite/connection.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/sqlite_audit_store.h"

namespace sc::store::sqlite {
namespace {

class SqliteAuditBatchTest : public ::testing::Test {
protected:
    SqliteAuditBatchTest() : dir_(makeTempDir()), pool_(dir_ + "/audit.db", 5000, 4) {
        auto first = std::make_unique<Connection>(dir_ + "/audit.db", 5000);
        migrate(*first);
        pool_.adopt(std::move(first));
    }
    ~SqliteAuditBatchTest() override { std::filesystem::remove_all(dir_); }

    static std::string makeTempDir() {
        char tmpl[] = "/tmp/sc-auditbatch-XXXXXX";
        return mkdtemp(tmpl);
    }

    static AuthEvent event(int i) {
        AuthEvent e;
        e.atMs = 1795824000000 + i;
        e.api = i % 2 ? AuthApi::Sms : AuthApi::Email;
        e.userName = "user_" + std::to_string(i);
        e.accountId = 7;
        e.userId = 100 + i;
        e.outcome = i % 3 ? AuthOutcome::Success : AuthOutcome::Failure;
        e.reason = i % 3 ? "" : "auth.failed";
        e.keyFingerprint = "fp" + std::to_string(i * 31);
        e.clientIp = "10.0.0." + std::to_string(i % 250);
        e.userAgent = std::string(static_cast<size_t>(i % 40), 'a') + "\"'\\";
        return e;
    }

    std::string dir_;
    ConnectionPool pool_;
};

TEST_F(SqliteAuditBatchTest, EveryBatchSizeRoundTripsInOrder) {
    SqliteAuditStore store(pool_);
    int next = 0;
    std::vector<AuthEvent> all;
    // 1..33 cover every statement size (32, 16, 8, 4, 2, 1) and their combinations; 77 and
    // 100 several full statements and a remainder.
    std::vector<int> sizes;
    for (int n = 1; n <= 33; ++n) sizes.push_back(n);
    sizes.push_back(77);
    sizes.push_back(100);
    for (int n : sizes) {
        std::vector<AuthEvent> batch;
        for (int k = 0; k < n; ++k) batch.push_back(event(next++));
        ASSERT_TRUE(store.appendEvents(batch).ok()) << n;
        all.insert(all.end(), batch.begin(), batch.end());
    }
    std::vector<StoredAuthEvent> stored;
    AuthEventQuery q;
    q.accountId = 7;
    q.limit = SqliteAuditStore::kMaxEventsPerQuery;
    for (;;) {
        auto page = store.queryEvents(q);
        ASSERT_TRUE(page.ok());
        if (page->empty()) break;
        stored.insert(stored.end(), page->begin(), page->end());
        q.beforeId = page->back().id;
    }
    ASSERT_EQ(stored.size(), all.size());
    // Newest first: reversed, they are the events in the order they were appended.
    for (size_t i = 0; i < all.size(); ++i) {
        const AuthEvent& got = stored[stored.size() - 1 - i].event;
        const AuthEvent& want = all[i];
        EXPECT_EQ(got.atMs, want.atMs) << i;
        EXPECT_EQ(got.api, want.api) << i;
        EXPECT_EQ(got.userName, want.userName) << i;
        EXPECT_EQ(got.accountId, want.accountId) << i;
        EXPECT_EQ(got.userId, want.userId) << i;
        EXPECT_EQ(got.outcome, want.outcome) << i;
        EXPECT_EQ(got.reason, want.reason) << i;
        EXPECT_EQ(got.keyFingerprint, want.keyFingerprint) << i;
        EXPECT_EQ(got.clientIp, want.clientIp) << i;
        EXPECT_EQ(got.userAgent, want.userAgent) << i;
    }
    EXPECT_EQ(store.countKeyUses(101, "fp31", 0).value(), 1);
}

TEST_F(SqliteAuditBatchTest, TheLentConnectionComesBackWithSynchronousFull) {
    SqliteAuditStore store(pool_);
    ASSERT_TRUE(store.appendEvents({event(1), event(2)}).ok());
    // One idle connection: the one the append used.
    auto conn = pool_.acquire();
    EXPECT_EQ(conn->db().execAndGet("PRAGMA synchronous").getInt(), 2);  // FULL
}

}  // namespace
}  // namespace sc::store::sqlite
