// The SQLite QueueStore against a real database file: claims with leases, release, outcomes in
// one transaction, receipts in any order and spelling.

#include <gtest/gtest.h>

#include "queue/outcome_recorder.h"
#include "queue/smsc_id.h"
#include "sqlite_test_support.h"
#include "store/queue_store.h"

namespace sc::store {
namespace {

using namespace test_support;

constexpr int64_t kT0 = 1795827000000;

class SqliteQueueStoreTest : public ::testing::Test {
protected:
    SqliteQueueStoreTest() {
        SqliteOptions o;
        o.path = dir_.file("sc.db");
        backend_ = std::make_unique<SqliteBackend>(o);
        queue_ = openSqliteQueueStore(o.path);
    }

    // A message with n recipients "<id><i>$r", accepted at kT0.
    void enqueue(const std::string& id, int n, UserKind kind = UserKind::Email,
                 bool testMode = false) {
        NewMessage m;
        m.messageId = id;
        m.kind = kind;
        m.accountId = 7;
        m.apiUserId = 3;
        m.apiUserName = "acme";
        m.createdAtMs = kT0;
        m.testMode = testMode;
        m.contentJson = R"({"subject":"s"})";
        for (int i = 0; i < n; ++i)
            m.recipients.push_back(recipient(
                recipientId(id, i), cat("u", std::to_string(i), "@x.io"), RecipientRole::To));
        must(enqueueAndWait(backend_->messages(), std::move(m)));
    }

    std::vector<ClaimedRecipient> claim(const std::string& owner, int64_t now, size_t limit = 100,
                                        bool email = true, bool sms = true) {
        ClaimRequest r;
        r.owner = owner;
        r.nowMs = now;
        r.leaseUntilMs = now + 600000;
        r.limit = limit;
        r.email = email;
        r.sms = sms;
        return must(queue_->claimDue(r));
    }

    std::string stateOf(const std::string& id) {
        return std::string(
            store::recipientStateName(backend_->messages().findRecipient(id).value()->state));
    }

    OutcomeWrite outcome(const std::string& id, RecipientState s, int64_t at) {
        OutcomeWrite w;
        w.recipientId = id;
        w.state = s;
        w.attempt.atMs = at;
        w.attempt.outcome = std::string(recipientStateName(s));
        w.eventKind = "deliver";
        return w;
    }

    TempDir dir_;
    std::unique_ptr<SqliteBackend> backend_;
    std::unique_ptr<QueueStore> queue_;
};

TEST_F(SqliteQueueStoreTest, ClaimLeasesEachDueRecipientOnce) {
    enqueue("m1", 3);
    EXPECT_TRUE(claim("n1", kT0 - 1).empty());  // accepted at kT0: not due before
    auto first = claim("n1", kT0, 2);
    ASSERT_EQ(first.size(), 2u);
    EXPECT_EQ(first[0].messageId, "m1");
    EXPECT_EQ(first[0].apiUserName, "acme");
    EXPECT_EQ(first[0].attempts, 0);
    EXPECT_EQ(stateOf(first[0].id), "sending");
    auto second = claim("n2", kT0, 10);
    ASSERT_EQ(second.size(), 1u);
    EXPECT_NE(second[0].id, first[0].id);
    EXPECT_NE(second[0].id, first[1].id);
    EXPECT_TRUE(claim("n1", kT0).empty());
    EXPECT_TRUE(claim("n2", kT0).empty());
}

TEST_F(SqliteQueueStoreTest, AnAbandonedLeaseIsTakenByAnotherNodeButNotByItsOwnerWhileLive) {
    enqueue("m1", 1);
    ASSERT_EQ(claim("n1", kT0).size(), 1u);
    // After the lease ran out: another node takes it; its owner (still sending) does not.
    EXPECT_TRUE(claim("n1", kT0 + 600001).empty());
    EXPECT_EQ(claim("n2", kT0 + 600001).size(), 1u);
}

TEST_F(SqliteQueueStoreTest, ReleaseHandsBackOnlyTheOwnersLeasesDueAtOnce) {
    enqueue("m1", 2);
    ASSERT_EQ(claim("n1", kT0, 1).size(), 1u);
    ASSERT_EQ(claim("n2", kT0, 1).size(), 1u);
    EXPECT_EQ(must(queue_->releaseLeases("n1", kT0 + 5)), 1);
    auto again = claim("n3", kT0 + 5);
    ASSERT_EQ(again.size(), 1u);  // n1's, not n2's (whose lease is live)
    EXPECT_EQ(
        stateOf(recipientId("m1", 0)) == "sending" && stateOf(recipientId("m1", 1)) == "sending",
        true);
}

TEST_F(SqliteQueueStoreTest, ChannelsWithoutAnAgentAreLeftButTestModeIsAlwaysClaimed) {
    enqueue("e1", 1, UserKind::Email);
    enqueue("s1", 1, UserKind::Sms);
    enqueue("t1", 1, UserKind::Sms, /*testMode=*/true);
    auto got = claim("n1", kT0, 100, /*email=*/true, /*sms=*/false);
    ASSERT_EQ(got.size(), 2u);
    for (const auto& c : got) EXPECT_NE(c.messageId, "s1");
}

TEST_F(SqliteQueueStoreTest, AnOutcomeWritesStateAttemptAndEventTogether) {
    enqueue("m1", 1);
    const auto id = recipientId("m1", 0);
    ASSERT_EQ(claim("n1", kT0).size(), 1u);
    auto w = outcome(id, RecipientState::Deferred, kT0 + 10);
    w.nextAttemptAtMs = kT0 + 60000;
    w.attempt.remoteHost = "mx.x.io";
    w.attempt.remoteIp = "127.0.0.1";
    w.attempt.replyCode = 451;
    w.attempt.enhancedCode = "4.7.1";
    w.attempt.replyText = "try later";
    w.attempt.tlsVersion = "TLSv1.3";
    w.eventKind = "soft_bounce";
    must(queue_->recordOutcome(w));
    EXPECT_EQ(stateOf(id), "deferred");
    EXPECT_TRUE(claim("n1", kT0 + 59999).empty());
    auto again = claim("n1", kT0 + 60000);
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again[0].attempts, 1);
    must(queue_->recordOutcome(outcome(id, RecipientState::Delivered, kT0 + 60010)));

    auto st = must(queue_->statusOf({id, "nope"}));
    ASSERT_EQ(st.size(), 1u);
    EXPECT_EQ(st[0].state, "delivered");
    EXPECT_EQ(st[0].accountId, 7);
    EXPECT_EQ(st[0].updatedAtMs, kT0 + 60010);
    ASSERT_EQ(st[0].attempts.size(), 2u);
    EXPECT_EQ(st[0].attempts[0].outcome, "deferred");
    EXPECT_EQ(st[0].attempts[0].replyCode, 451);
    EXPECT_EQ(st[0].attempts[0].enhancedCode, "4.7.1");
    EXPECT_EQ(st[0].attempts[0].tlsVersion, "TLSv1.3");
    EXPECT_EQ(st[0].attempts[1].outcome, "delivered");
    EXPECT_EQ(countRows(dir_.file("sc.db"), "events"), 2);
    SQLite::Database raw(dir_.file("sc.db"), SQLite::OPEN_READONLY);
    EXPECT_EQ(raw.execAndGet("SELECT kind || ',' || account_id FROM events ORDER BY id LIMIT 1")
                  .getString(),
              "soft_bounce,7");
}

// The claim hands out each row's key and an outcome finds its row by it; a key that names
// another recipient (rowids renumbered since the claim) never writes that one: the outcome goes
// by the text id instead.
TEST_F(SqliteQueueStoreTest, AnOutcomeFindsItsRowByTheClaimsKeyButNeverAnotherRow) {
    enqueue("m1", 2);
    const auto claimed = claim("n1", kT0);
    ASSERT_EQ(claimed.size(), 2u);
    EXPECT_NE(claimed[0].recipientKey, 0);
    EXPECT_NE(claimed[0].recipientKey, claimed[1].recipientKey);

    auto byKey = outcome(claimed[0].id, RecipientState::Delivered, kT0 + 1);
    byKey.recipientKey = claimed[0].recipientKey;
    must(queue_->recordOutcome(byKey));
    EXPECT_EQ(stateOf(claimed[0].id), "delivered");

    auto wrongKey = outcome(claimed[1].id, RecipientState::Bounced, kT0 + 2);
    wrongKey.recipientKey = claimed[0].recipientKey;
    must(queue_->recordOutcome(wrongKey));
    EXPECT_EQ(stateOf(claimed[1].id), "bounced");
    EXPECT_EQ(stateOf(claimed[0].id), "delivered");

    auto gone = outcome("nope", RecipientState::Delivered, kT0 + 3);
    gone.recipientKey = claimed[0].recipientKey;
    EXPECT_FALSE(queue_->recordOutcome(gone).ok());
    EXPECT_EQ(stateOf(claimed[0].id), "delivered");
    EXPECT_EQ(countRows(dir_.file("sc.db"), "delivery_attempts"), 2);
}

TEST_F(SqliteQueueStoreTest, AFailedOutcomeWritesNothing) {
    auto w = outcome("nope", RecipientState::Delivered, kT0);
    EXPECT_FALSE(queue_->recordOutcome(w).ok());
    EXPECT_EQ(countRows(dir_.file("sc.db"), "delivery_attempts"), 0);
    EXPECT_EQ(countRows(dir_.file("sc.db"), "events"), 0);
}

class SmsReceiptTest : public SqliteQueueStoreTest {
protected:
    // Submits recipient 0 of an SMS with these ids, one per part, as the SMSC spelled them.
    std::string submit(const std::vector<std::string>& rawIds, const std::string& message = "s1") {
        enqueue(message, 1, UserKind::Sms);
        const auto id = recipientId(message, 0);
        EXPECT_EQ(claim("n1", kT0).size(), 1u);
        auto w = outcome(id, RecipientState::Submitted, kT0 + 1);
        w.eventKind =
            queue::OutcomeRecorder::eventKindFor(RecipientState::Submitted, UserKind::Sms);
        w.route = "carrier-a";
        for (const auto& raw : rawIds) w.smscIdForms.push_back(queue::smscIdForms(raw));
        must(queue_->recordOutcome(w));
        return id;
    }

    ReceiptResult receipt(const std::string& rawId, const std::string& stat,
                          const std::string& route = "carrier-a") {
        ReceiptWrite r;
        r.route = route;
        auto forms = queue::smscIdForms(rawId);
        r.smscId = forms.front();
        r.otherForms.assign(forms.begin() + 1, forms.end());
        r.stat = stat;
        r.atMs = kT0 + 100;
        return must(queue_->recordReceipt(r));
    }
};

TEST_F(SmsReceiptTest, ALongSmsIsDeliveredWhenEveryPartIsWhateverTheSpelling) {
    const auto id = submit({"0A1B", "00C8"});
    EXPECT_EQ(stateOf(id), "submitted");
    auto first = receipt("2587", "DELIVRD");  // 0x0A1B in decimal
    EXPECT_TRUE(first.matched);
    EXPECT_EQ(first.recipientId, id);
    EXPECT_FALSE(first.newState.has_value());
    EXPECT_EQ(stateOf(id), "submitted");
    auto second = receipt("c8", "DELIVRD");  // lower case, no leading zeros
    EXPECT_TRUE(second.matched);
    ASSERT_TRUE(second.newState.has_value());
    EXPECT_EQ(*second.newState, RecipientState::Delivered);
    EXPECT_EQ(stateOf(id), "delivered");
}

// SendCloud's SMS webhooks have no event for a submit: it writes its attempt and no event row,
// and the receipt that settles the SMS writes the `deliver` event.
TEST_F(SmsReceiptTest, ASubmitWritesNoEventAndTheReceiptThatSettlesItDoes) {
    const auto id = submit({"100"});
    EXPECT_EQ(countRows(dir_.file("sc.db"), "delivery_attempts"), 1);
    EXPECT_EQ(countRows(dir_.file("sc.db"), "events"), 0);
    ASSERT_TRUE(receipt("100", "DELIVRD").newState.has_value());
    EXPECT_EQ(stateOf(id), "delivered");
    SQLite::Database raw(dir_.file("sc.db"), SQLite::OPEN_READONLY);
    EXPECT_EQ(
        raw.execAndGet("SELECT group_concat(kind || ',' || recipient_id) FROM events").getString(),
        "deliver," + id);
}

TEST_F(SmsReceiptTest, AFailedPartDecidesAndAnIntermediateStatDoesNot) {
    const auto id = submit({"100", "101"});
    EXPECT_FALSE(receipt("100", "ACCEPTD").newState.has_value());
    EXPECT_FALSE(receipt("100", "DELIVRD").newState.has_value());
    auto r = receipt("101", "UNDELIV");
    ASSERT_TRUE(r.newState.has_value());
    EXPECT_EQ(stateOf(id), "undeliverable");
    // Every receipt is in the attempt log.
    EXPECT_EQ(must(queue_->statusOf({id}))[0].attempts.size(), 4u);
}

TEST_F(SmsReceiptTest, AReceiptBeforeItsSubmitWaitsAndIsMatchedAtTheSubmit) {
    auto early = receipt("12345", "DELIVRD");  // decimal; the submit will say hex 3039
    EXPECT_FALSE(early.matched);
    EXPECT_EQ(countRows(dir_.file("sc.db"), "pending_receipts"), 1);
    const auto id = submit({"3039"});
    EXPECT_EQ(stateOf(id), "delivered");
    EXPECT_EQ(countRows(dir_.file("sc.db"), "pending_receipts"), 0);
}

// A submit keeps one row per part, under the id as the SMSC spelled it: its other spellings are
// the receipt's to look up (two more rows per SMS at the full submit rate, before).
TEST_F(SmsReceiptTest, ASubmitKeepsOneRowPerPart) {
    submit({"0A1B", "12345"});
    EXPECT_EQ(countRows(dir_.file("sc.db"), "smsc_ids"), 2);
}

// "10" read as hex is 16: a receipt "16" is for the submit that said "16", not for the one that
// said "10"; a receipt "a" (10 in hex) finds "10" through its conversion.
TEST_F(SmsReceiptTest, TheReceiptsOwnSpellingWinsOverAConversion) {
    const auto ten = submit({"10"}, "s1");
    const auto sixteen = submit({"16"}, "s2");
    EXPECT_EQ(receipt("16", "ACCEPTD").recipientId, sixteen);
    EXPECT_EQ(receipt("a", "ACCEPTD").recipientId, ten);
    EXPECT_EQ(receipt("0x", "ACCEPTD").matched, false);
}

TEST_F(SmsReceiptTest, IdsOfAnotherRouteDoNotMatch) {
    submit({"abc"});
    EXPECT_FALSE(receipt("abc", "DELIVRD", "carrier-b").matched);
}

TEST(SmscIdTest, NormalisationRule) {
    EXPECT_EQ(queue::normaliseSmscId("  00AbC\r\n"), "abc");
    EXPECT_EQ(queue::normaliseSmscId("0000"), "0");
    EXPECT_EQ(queue::normaliseSmscId("6F1A-00B2"), "6f1a-00b2");  // not all hex: zeros kept
    auto forms = queue::smscIdForms("0A1B");
    ASSERT_EQ(forms.size(), 2u);  // "a1b" has no decimal reading
    EXPECT_EQ(forms[0], "a1b");
    EXPECT_EQ(forms[1], "2587");
    forms = queue::smscIdForms("12345");
    ASSERT_EQ(forms.size(), 3u);
    EXPECT_EQ(forms[1], "3039");                                     // 12345 decimal, in hex
    EXPECT_EQ(forms[2], "74565");                                    // 0x12345, in decimal
    EXPECT_EQ(queue::smscIdForms("ffffffffffffffffff").size(), 1u);  // beyond 64 bits
}

}  // namespace
}  // namespace sc::store
