// Retention against a real SQLite database on a fake clock: what is past its window goes, what is
// inside it stays, a message body goes only once no recipient needs it, and a run works in
// batches.

#include <gtest/gtest.h>

#include <SQLiteCpp/SQLiteCpp.h>

#include "fakes/fake_clock.h"
#include "retention/retention_worker.h"
#include "store/sqlite_test_support.h"  // tests/unit/store

namespace sc::retention {
namespace {

using namespace store::test_support;
using namespace std::chrono_literals;

constexpr int64_t kDay = 86'400'000;
constexpr int64_t kNow = 1'800'000'000'000;

class RetentionTest : public ::testing::Test {
protected:
    RetentionTest() {
        store::SqliteOptions o;
        o.path = dir_.file("sc.db");
        backend_ = std::make_unique<store::SqliteBackend>(o);
        policy_.pauseBetweenBatches = 0ms;
    }

    // Writes rows as another process would (the tables' own writers are tested elsewhere).
    void sql(const std::string& statement) {
        SQLite::Database db(dir_.file("sc.db"), SQLite::OPEN_READWRITE);
        db.exec(statement);
    }
    int64_t count(const std::string& query) {
        SQLite::Database db(dir_.file("sc.db"), SQLite::OPEN_READONLY);
        return db.execAndGet(query).getInt64();
    }
    std::string text(const std::string& query) {
        SQLite::Database db(dir_.file("sc.db"), SQLite::OPEN_READONLY);
        return db.execAndGet(query).getString();
    }

    // A message accepted `ageDays` ago with one recipient in `state`, its own content and an
    // attachment.
    void message(const std::string& id, int64_t ageDays, const std::string& state) {
        store::NewMessage m;
        m.messageId = id;
        m.kind = store::UserKind::Email;
        m.accountId = 1;
        m.apiUserId = 1;
        m.apiUserName = "acme";
        m.createdAtMs = kNow - ageDays * kDay;
        m.contentJson = R"({"subject":"the body"})";
        m.attachments.push_back({"a.txt", "text/plain", "attached bytes"});
        m.recipients.push_back(recipient(recipientId(id, 0), "a@x.io", store::RecipientRole::To,
                                         R"({"subject":"own body"})"));
        must(enqueueAndWait(backend_->messages(), std::move(m)));
        sql(cat("UPDATE recipients SET state = '", state, "' WHERE message_id = '", id, "'"));
    }
    bool bodyPruned(const std::string& id) {
        const auto content = text(cat("SELECT content_json FROM messages WHERE id = '", id, "'"));
        const auto attachments =
            count(cat("SELECT count(*) FROM attachments WHERE message_id = '", id, "'"));
        const auto own = count(cat("SELECT count(*) FROM recipients WHERE message_id = '", id,
                                   "' AND content_json IS NOT NULL"));
        const bool pruned = content == R"({"pruned":true})";
        // All of the body goes, or none of it.
        EXPECT_EQ(pruned, attachments == 0 && own == 0) << id;
        return pruned;
    }

    TempDir dir_;
    testing::FakeClock clock_{kNow};
    RetentionPolicy policy_;
    std::unique_ptr<store::SqliteBackend> backend_;
};

TEST_F(RetentionTest, EachKindGoesOncePastItsWindowAndNotBefore) {
    const int64_t hour = 3'600'000;
    sql(cat("INSERT INTO send_requests VALUES (1, 'old', ", std::to_string(kNow - 2 * hour),
            ", '{}'), (1, 'new', ", std::to_string(kNow - hour / 2), ", '{}')"));
    sql(cat("INSERT INTO accounts (id, email, created_at_ms) VALUES (1, 'o@x.io', 0)"));
    sql(
        cat("INSERT INTO api_users (id, account_id, name, kind, key_hash, key_fingerprint, "
            "key_created_at_ms, created_at_ms) VALUES (1, 1, 'acme', 'email', x'00', 'f', 0, 0)"));
    sql(cat("INSERT INTO retired_keys VALUES (1, x'01', 'f1', 0, 0, ",
            std::to_string(kNow - 31 * kDay), "), (1, x'02', 'f2', 0, 0, ",
            std::to_string(kNow - 29 * kDay), ")"));
    sql(
        cat("INSERT INTO usage_hourly (user_id, account_id, user_name, hour_start_ms) VALUES "
            "(1, 1, 'acme', ",
            std::to_string(kNow - 401 * kDay), "), (1, 1, 'acme', ",
            std::to_string(kNow - 399 * kDay), ")"));
    sql(
        cat("INSERT INTO pending_receipts (route, smsc_id, stat, received_at_ms) VALUES "
            "('r', 'a', 'DELIVRD', ",
            std::to_string(kNow - 8 * kDay), "), ('r', 'b', 'DELIVRD', ",
            std::to_string(kNow - 6 * kDay), ")"));

    RetentionWorker worker(backend_->retention(), clock_, policy_);
    auto counts = worker.runOnce();
    EXPECT_EQ(counts.sendRequests, 1);
    EXPECT_EQ(counts.retiredKeys, 1);
    EXPECT_EQ(counts.usage, 1);
    EXPECT_EQ(counts.pendingReceipts, 1);
    EXPECT_EQ(counts.failures, 0);
    EXPECT_EQ(text("SELECT request_id FROM send_requests"), "new");
    EXPECT_EQ(text("SELECT key_fingerprint FROM retired_keys"), "f2");
    EXPECT_EQ(count("SELECT count(*) FROM usage_hourly"), 1);
    EXPECT_EQ(text("SELECT smsc_id FROM pending_receipts"), "b");

    // Two days later the younger ones are past their windows too.
    clock_.advance(std::chrono::hours(48));
    counts = worker.runOnce();
    EXPECT_EQ(counts.total(), 4);
    EXPECT_EQ(count("SELECT count(*) FROM send_requests") +
                  count("SELECT count(*) FROM retired_keys") +
                  count("SELECT count(*) FROM usage_hourly") +
                  count("SELECT count(*) FROM pending_receipts"),
              0);
}

TEST_F(RetentionTest, AMessageLosesItsBodyPastRetentionOnlyOnceNoRecipientNeedsIt) {
    message("m1", 31, "delivered");
    message("m2", 31, "bounced");
    message("m3", 29, "delivered");  // too young
    RetentionWorker worker(backend_->retention(), clock_, policy_);
    EXPECT_EQ(worker.runOnce().messageBodies, 2);
    EXPECT_TRUE(bodyPruned("m1"));
    EXPECT_TRUE(bodyPruned("m2"));
    EXPECT_FALSE(bodyPruned("m3"));
    // The record of what was sent stays.
    EXPECT_EQ(count("SELECT count(*) FROM messages"), 3);
    EXPECT_EQ(text("SELECT state FROM recipients WHERE message_id = 'm1'"), "delivered");
    EXPECT_EQ(text("SELECT address FROM recipients WHERE message_id = 'm2'"), "a@x.io");

    clock_.advance(std::chrono::hours(48));
    EXPECT_EQ(worker.runOnce().messageBodies, 1);
    EXPECT_TRUE(bodyPruned("m3"));
    EXPECT_EQ(worker.runOnce().messageBodies, 0);  // nothing twice
}

TEST_F(RetentionTest, ABodyStillNeededForDeliveryIsKeptAndHoldsBackTheOnesAfterIt) {
    message("m1", 40, "delivered");
    message("m2", 40, "deferred");  // still being retried: its body is needed
    message("m3", 40, "delivered");
    RetentionWorker worker(backend_->retention(), clock_, policy_);
    EXPECT_EQ(worker.runOnce().messageBodies, 1);
    EXPECT_TRUE(bodyPruned("m1"));
    EXPECT_FALSE(bodyPruned("m2"));
    EXPECT_FALSE(bodyPruned("m3"));

    sql("UPDATE recipients SET state = 'expired' WHERE message_id = 'm2'");
    EXPECT_EQ(worker.runOnce().messageBodies, 2);
    EXPECT_TRUE(bodyPruned("m2"));
    EXPECT_TRUE(bodyPruned("m3"));
}

TEST_F(RetentionTest, ARunWorksInBatchesUntilNothingIsDue) {
    for (int i = 0; i < 7; ++i) message("m" + std::to_string(i), 31, "sandbox");
    policy_.batch = 3;
    RetentionWorker worker(backend_->retention(), clock_, policy_);
    EXPECT_EQ(worker.runOnce().messageBodies, 7);
    for (int i = 0; i < 7; ++i) EXPECT_TRUE(bodyPruned("m" + std::to_string(i)));
}

TEST_F(RetentionTest, TheWorkerRunsAtStartAndStopsPromptly) {
    message("m1", 31, "delivered");
    policy_.interval = std::chrono::hours(1);  // only the start-up run can do it
    RetentionWorker worker(backend_->retention(), clock_, policy_);
    worker.start();
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (worker.runsDone() == 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(2ms);
    }
    ASSERT_EQ(worker.runsDone(), 1u);
    EXPECT_TRUE(bodyPruned("m1"));
    worker.stop();  // wakes the hour-long wait at once (the test would time out otherwise)
}

}  // namespace
}  // namespace sc::retention
