#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite/sqlite_store.h"
#include "unit/store/sqlite_test_support.h"

namespace sc::store {
namespace {

using test_support::countRows;
using test_support::must;
using test_support::TempDir;

constexpr int64_t kT0 = 1795824000000;  // an hour boundary
constexpr int64_t kHour = 3600 * 1000;

AuthEvent event(int64_t atMs, int64_t accountId, int64_t userId, std::string userName,
                AuthOutcome outcome, std::string fingerprint = "0a1b2c3d") {
    AuthEvent e;
    e.atMs = atMs;
    e.api = AuthApi::Email;
    e.userName = std::move(userName);
    e.accountId = accountId;
    e.userId = userId;
    e.outcome = outcome;
    e.reason = e.outcome == AuthOutcome::Success ? "" : "auth.failed";
    e.keyFingerprint = std::move(fingerprint);
    e.clientIp = "2001:db8::17";
    e.userAgent = "curl/7.88.1";
    return e;
}

UsageDelta delta(int64_t userId, std::string userName, int64_t hourStartMs, int64_t requests,
                 int64_t recipients, int64_t authFailures = 0, int64_t rateLimited = 0) {
    UsageDelta d;
    d.userId = userId;
    d.accountId = userId < 100 ? 1 : 2;  // users 1..99 belong to account 1, the rest to 2
    d.userName = std::move(userName);
    d.hourStartMs = hourStartMs;
    d.requests = requests;
    d.recipients = recipients;
    d.authFailures = authFailures;
    d.rateLimited = rateLimited;
    return d;
}

AuthEventQuery forAccount(int64_t accountId) {
    AuthEventQuery q;
    q.accountId = accountId;
    return q;
}

std::vector<int64_t> idsOf(const std::vector<StoredAuthEvent>& events) {
    std::vector<int64_t> ids;
    for (const auto& e : events) ids.push_back(e.id);
    return ids;
}

std::vector<int64_t> timesOf(const std::vector<StoredAuthEvent>& events) {
    std::vector<int64_t> times;
    for (const auto& e : events) times.push_back(e.event.atMs);
    return times;
}

class SqliteAuditStoreTest : public ::testing::Test {
protected:
    SqliteOptions options() const {
        SqliteOptions o;
        o.path = dir_.file("sendcloud.db");
        return o;
    }
    std::vector<StoredAuthEvent> query(const AuthEventQuery& q) {
        return must(store_.queryEvents(q));
    }
    // Account 1: alice_user (id 1) and bob_user (id 2); account 2: carol_user (id 100). One
    // event a minute from kT0, in this order.
    void appendMixedEvents() {
        constexpr int64_t kMin = 60 * 1000;
        ASSERT_TRUE(store_
                        .appendEvents({
                            event(kT0 + 0 * kMin, 1, 1, "alice_user", AuthOutcome::Success),
                            event(kT0 + 1 * kMin, 1, 2, "bob_user", AuthOutcome::Failure),
                            event(kT0 + 2 * kMin, 2, 100, "carol_user", AuthOutcome::Success),
                            event(kT0 + 3 * kMin, 1, 1, "alice_user", AuthOutcome::Failure),
                            event(kT0 + 4 * kMin, 1, 2, "bob_user", AuthOutcome::Success),
                            event(kT0 + 5 * kMin, 0, 0, "-", AuthOutcome::Failure),
                            event(kT0 + 6 * kMin, 1, 1, "alice_user", AuthOutcome::Success),
                        })
                        .ok());
    }

    TempDir dir_;
    SqliteBackend backend_{options()};
    AuditStore& store_ = backend_.audit();
};

TEST_F(SqliteAuditStoreTest, AppendEventsStoresTheBatchAndQueryAnswersNewestFirst) {
    AuthEvent full = event(kT0, 1, 1, "alice_user", AuthOutcome::Forbidden, "f1f2f3f4");
    full.api = AuthApi::Sms;
    full.reason = "auth.ip_not_allowed";
    full.clientIp = "203.0.113.9";
    full.userAgent = std::string("odd agent \xff\x01", 12);
    ASSERT_TRUE(
        store_.appendEvents({full, event(kT0 + 1, 1, 2, "bob_user", AuthOutcome::Success)}).ok());
    // An empty batch is nothing to do.
    ASSERT_TRUE(store_.appendEvents({}).ok());

    auto events = query(forAccount(1));
    ASSERT_EQ(events.size(), 2u);
    EXPECT_GT(events[0].id, events[1].id);
    EXPECT_EQ(events[0].event.userName, "bob_user");
    const AuthEvent& e = events[1].event;
    EXPECT_EQ(e.atMs, kT0);
    EXPECT_EQ(e.api, AuthApi::Sms);
    EXPECT_EQ(e.userName, "alice_user");
    EXPECT_EQ(e.accountId, 1);
    EXPECT_EQ(e.userId, 1);
    EXPECT_EQ(e.outcome, AuthOutcome::Forbidden);
    EXPECT_EQ(e.reason, "auth.ip_not_allowed");
    EXPECT_EQ(e.keyFingerprint, "f1f2f3f4");
    EXPECT_EQ(e.clientIp, "203.0.113.9");
    EXPECT_EQ(e.userAgent, full.userAgent);
    EXPECT_EQ(e.attempts, 1);
    EXPECT_EQ(e.lastAtMs, kT0);
}

TEST_F(SqliteAuditStoreTest, ACoalescedEventKeepsItsCountAndLastTime) {
    AuthEvent burst = event(kT0, 1, 1, "alice_user", AuthOutcome::Failure);
    burst.attempts = 1234;
    burst.lastAtMs = kT0 + 999;
    ASSERT_TRUE(store_.appendEvents({burst}).ok());
    auto events = query(forAccount(1));
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].event.attempts, 1234);
    EXPECT_EQ(events[0].event.atMs, kT0);
    EXPECT_EQ(events[0].event.lastAtMs, kT0 + 999);
}

// Rows written before attempts were coalesced have no count and no last time of their own.
TEST_F(SqliteAuditStoreTest, RowsFromBeforeCoalescingReadAsOneAttempt) {
    {
        SQLite::Database db(dir_.file("sendcloud.db"), SQLite::OPEN_READWRITE);
        db.exec(
            "INSERT INTO auth_events (at_ms, api, user_name, account_id, user_id, outcome, "
            "reason, key_fingerprint, client_ip, user_agent) VALUES (" +
            std::to_string(kT0) +
            ", 'email', 'alice_user', 1, 1, 'success', '', 'oldkey00', '127.0.0.1', 'ua')");
    }
    auto events = query(forAccount(1));
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].event.attempts, 1);
    EXPECT_EQ(events[0].event.lastAtMs, kT0);
    EXPECT_EQ(must(store_.countKeyUses(1, "oldkey00", 0)), 1);
}

// Every API and every outcome goes in as its text and comes back as the same enumerator, and
// the outcome filter finds each one's rows alone: the text written and the text compared are
// the same conversion's.
TEST_F(SqliteAuditStoreTest, EveryApiAndOutcomeRoundTripsAndFiltersByItself) {
    const AuthApi apis[] = {AuthApi::Email, AuthApi::Sms, AuthApi::Console};
    const AuthOutcome outcomes[] = {AuthOutcome::Success, AuthOutcome::Failure,
                                    AuthOutcome::Locked,  AuthOutcome::RateLimited,
                                    AuthOutcome::Quota,   AuthOutcome::Forbidden};
    std::vector<AuthEvent> batch;
    for (AuthApi api : apis) {
        for (AuthOutcome outcome : outcomes) {
            AuthEvent e =
                event(kT0 + static_cast<int64_t>(batch.size()), 1, 1, "alice_user", outcome);
            e.api = api;
            batch.push_back(e);
        }
    }
    ASSERT_TRUE(store_.appendEvents(batch).ok());

    auto stored = query(forAccount(1));
    ASSERT_EQ(stored.size(), batch.size());
    for (size_t i = 0; i < batch.size(); ++i) {
        const AuthEvent& got = stored[stored.size() - 1 - i].event;  // newest first
        EXPECT_EQ(authApiName(got.api), authApiName(batch[i].api)) << i;
        EXPECT_EQ(authOutcomeName(got.outcome), authOutcomeName(batch[i].outcome)) << i;
    }
    for (AuthOutcome outcome : outcomes) {
        AuthEventQuery q = forAccount(1);
        q.outcome = outcome;
        auto rows = query(q);
        ASSERT_EQ(rows.size(), std::size(apis)) << authOutcomeName(outcome);
        for (const auto& row : rows) {
            EXPECT_EQ(authOutcomeName(row.event.outcome), authOutcomeName(outcome));
        }
    }
}

// A row whose api or outcome text is none of records.cpp's (a database written by something
// else, its CHECK constraints ignored) is a store error, not an event with a made-up value.
TEST_F(SqliteAuditStoreTest, AnUnknownApiOrOutcomeInTheDatabaseIsAStoreError) {
    for (const char* values : {"'email', 'maybe'", "'fax', 'success'"}) {
        {
            SQLite::Database db(dir_.file("sendcloud.db"), SQLite::OPEN_READWRITE);
            db.exec("DELETE FROM auth_events");
            db.exec("PRAGMA ignore_check_constraints = ON");
            db.exec(std::string("INSERT INTO auth_events (at_ms, api, outcome, user_name, "
                                "account_id, user_id, reason, key_fingerprint, client_ip, "
                                "user_agent) VALUES (1, ") +
                    values + ", 'alice_user', 1, 1, '', '', '127.0.0.1', 'ua')");
        }
        auto events = store_.queryEvents(forAccount(1));
        ASSERT_FALSE(events.ok()) << values;
        EXPECT_EQ(events.error().kind, StoreError::Kind::Internal) << values;
    }
}

TEST_F(SqliteAuditStoreTest, QueryEventsAppliesEveryFilter) {
    appendMixedEvents();
    constexpr int64_t kMin = 60 * 1000;

    // Only the account's own events; unknown users' attempts (account 0) are nobody's.
    EXPECT_EQ(timesOf(query(forAccount(1))),
              (std::vector<int64_t>{kT0 + 6 * kMin, kT0 + 4 * kMin, kT0 + 3 * kMin, kT0 + 1 * kMin,
                                    kT0}));
    EXPECT_EQ(query(forAccount(2)).size(), 1u);
    EXPECT_EQ(query(forAccount(0)).size(), 1u);
    EXPECT_TRUE(query(forAccount(3)).empty());

    AuthEventQuery byUser = forAccount(1);
    byUser.userName = "alice_user";
    EXPECT_EQ(timesOf(query(byUser)), (std::vector<int64_t>{kT0 + 6 * kMin, kT0 + 3 * kMin, kT0}));
    // Another account's user is not reachable through this account.
    byUser.userName = "carol_user";
    EXPECT_TRUE(query(byUser).empty());

    AuthEventQuery byOutcome = forAccount(1);
    byOutcome.outcome = AuthOutcome::Failure;
    EXPECT_EQ(timesOf(query(byOutcome)), (std::vector<int64_t>{kT0 + 3 * kMin, kT0 + kMin}));

    AuthEventQuery both = forAccount(1);
    both.userName = "bob_user";
    both.outcome = AuthOutcome::Success;
    EXPECT_EQ(timesOf(query(both)), (std::vector<int64_t>{kT0 + 4 * kMin}));

    // [fromMs, toMs): from inclusive, to exclusive.
    AuthEventQuery window = forAccount(1);
    window.fromMs = kT0 + kMin;
    window.toMs = kT0 + 4 * kMin;
    EXPECT_EQ(timesOf(query(window)), (std::vector<int64_t>{kT0 + 3 * kMin, kT0 + kMin}));
    window.outcome = AuthOutcome::Failure;
    window.userName = "alice_user";
    EXPECT_EQ(timesOf(query(window)), (std::vector<int64_t>{kT0 + 3 * kMin}));
}

TEST_F(SqliteAuditStoreTest, PagingWithBeforeIdWalksBackThroughEveryEventOnce) {
    std::vector<AuthEvent> batch;
    for (int i = 0; i < 7; ++i)
        batch.push_back(event(kT0 + i, 1, 1, "alice_user", AuthOutcome::Success));
    ASSERT_TRUE(store_.appendEvents(batch).ok());
    const std::vector<int64_t> all = idsOf(query(forAccount(1)));
    ASSERT_EQ(all.size(), 7u);

    AuthEventQuery q = forAccount(1);
    q.limit = 3;
    std::vector<int64_t> walked;
    std::vector<size_t> pageSizes;
    for (;;) {
        auto page = query(q);
        if (page.empty()) break;
        pageSizes.push_back(page.size());
        for (const auto& e : page) walked.push_back(e.id);
        q.beforeId = page.back().id;
    }
    EXPECT_EQ(walked, all);
    EXPECT_EQ(pageSizes, (std::vector<size_t>{3, 3, 1}));

    // A cursor combines with the filters; a negative cursor reads as "from the newest".
    q.beforeId = all[0];  // the newest, kT0 + 6
    q.limit = 100;
    q.fromMs = kT0 + 3;
    EXPECT_EQ(timesOf(query(q)), (std::vector<int64_t>{kT0 + 5, kT0 + 4, kT0 + 3}));
    q = forAccount(1);
    q.beforeId = -5;
    EXPECT_EQ(query(q).size(), 7u);
}

TEST_F(SqliteAuditStoreTest, QueryLimitIsClampedToOneThroughAThousand) {
    std::vector<AuthEvent> batch;
    for (int i = 0; i < 1005; ++i)
        batch.push_back(event(kT0 + i, 1, 1, "alice_user", AuthOutcome::Success));
    ASSERT_TRUE(store_.appendEvents(batch).ok());
    EXPECT_EQ(countRows(options().path, "auth_events"), 1005);

    AuthEventQuery q = forAccount(1);
    q.limit = 5000;
    auto page = query(q);
    ASSERT_EQ(page.size(), 1000u);
    EXPECT_EQ(page.front().event.atMs, kT0 + 1004);
    q.limit = 1000;
    EXPECT_EQ(query(q).size(), 1000u);
    q.limit = 999;
    EXPECT_EQ(query(q).size(), 999u);
    q.limit = 1;
    EXPECT_EQ(query(q).size(), 1u);
    q.limit = 0;
    EXPECT_EQ(query(q).size(), 1u);
    q.limit = -7;
    EXPECT_EQ(query(q).size(), 1u);
}

TEST_F(SqliteAuditStoreTest, AddUsageAccumulatesAcrossDeltasAndBatches) {
    ASSERT_TRUE(
        store_
            .addUsage({delta(1, "alice_user", kT0, 1, 3),
                       delta(1, "alice_user", kT0, 2, 5, 1, 0),  // same row, same batch
                       delta(2, "bob_user", kT0, 1, 1), delta(1, "alice_user", kT0 + kHour, 1, 2)})
            .ok());
    ASSERT_TRUE(store_.addUsage({delta(1, "alice_user", kT0, 4, 10, 2, 3)}).ok());
    ASSERT_TRUE(store_.addUsage({}).ok());

    UsageQuery q;
    q.accountId = 1;
    auto rows = must(store_.queryUsage(q));
    ASSERT_EQ(rows.size(), 3u);
    // By hour, then user name.
    EXPECT_EQ(rows[0].userName, "alice_user");
    EXPECT_EQ(rows[0].userId, 1);
    EXPECT_EQ(rows[0].hourStartMs, kT0);
    EXPECT_EQ(rows[0].requests, 7);
    EXPECT_EQ(rows[0].recipients, 18);
    EXPECT_EQ(rows[0].authFailures, 3);
    EXPECT_EQ(rows[0].rateLimited, 3);
    EXPECT_EQ(rows[1].userName, "bob_user");
    EXPECT_EQ(rows[1].hourStartMs, kT0);
    EXPECT_EQ(rows[1].requests, 1);
    EXPECT_EQ(rows[2].userName, "alice_user");
    EXPECT_EQ(rows[2].hourStartMs, kT0 + kHour);
    EXPECT_EQ(rows[2].recipients, 2);
    EXPECT_EQ(countRows(options().path, "usage_hourly"), 3);
}

TEST_F(SqliteAuditStoreTest, QueryUsageFiltersByAccountUserAndHours) {
    ASSERT_TRUE(
        store_
            .addUsage({delta(1, "alice_user", kT0, 1, 1), delta(2, "bob_user", kT0 + kHour, 1, 1),
                       delta(1, "alice_user", kT0 + 2 * kHour, 1, 1),
                       delta(100, "carol_user", kT0 + kHour, 1, 1)})
            .ok());
    UsageQuery q;
    q.accountId = 2;
    auto rows = must(store_.queryUsage(q));
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].userName, "carol_user");

    q.accountId = 1;
    q.userName = "alice_user";
    EXPECT_EQ(must(store_.queryUsage(q)).size(), 2u);
    q.userName = "carol_user";  // not this account's user
    EXPECT_TRUE(must(store_.queryUsage(q)).empty());

    q.userName = "";
    q.fromMs = kT0 + kHour;    // inclusive
    q.toMs = kT0 + 2 * kHour;  // exclusive
    rows = must(store_.queryUsage(q));
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].userName, "bob_user");
}

TEST_F(SqliteAuditStoreTest, CountKeyUsesCountsOnlyThatKeysSuccessesSinceFrom) {
    ASSERT_TRUE(
        store_
            .appendEvents({
                event(kT0 - 1, 1, 1, "alice_user", AuthOutcome::Success, "oldkey00"),  // before
                event(kT0, 1, 1, "alice_user", AuthOutcome::Success, "oldkey00"),      // counted
                event(kT0 + 1, 1, 1, "alice_user", AuthOutcome::Success, "oldkey00"),  // counted
                event(kT0 + 2, 1, 1, "alice_user", AuthOutcome::Failure, "oldkey00"),
                event(kT0 + 3, 1, 1, "alice_user", AuthOutcome::RateLimited, "oldkey00"),
                event(kT0 + 4, 1, 1, "alice_user", AuthOutcome::Success, "newkey00"),
                event(kT0 + 5, 1, 2, "bob_user", AuthOutcome::Success, "oldkey00"),  // other user
            })
            .ok());
    EXPECT_EQ(must(store_.countKeyUses(1, "oldkey00", kT0)), 2);
    EXPECT_EQ(must(store_.countKeyUses(1, "oldkey00", kT0 - 1)), 3);
    EXPECT_EQ(must(store_.countKeyUses(1, "oldkey00", kT0 + 2)), 0);
    EXPECT_EQ(must(store_.countKeyUses(1, "newkey00", 0)), 1);
    EXPECT_EQ(must(store_.countKeyUses(2, "oldkey00", 0)), 1);
    EXPECT_EQ(must(store_.countKeyUses(3, "oldkey00", 0)), 0);

    // A coalesced row counts every attempt it stands for.
    AuthEvent burst = event(kT0 + 6, 1, 1, "alice_user", AuthOutcome::Success, "oldkey00");
    burst.attempts = 40;
    burst.lastAtMs = kT0 + 900;
    ASSERT_TRUE(store_.appendEvents({burst}).ok());
    EXPECT_EQ(must(store_.countKeyUses(1, "oldkey00", kT0)), 42);
}

TEST_F(SqliteAuditStoreTest, RecipientsBetweenSumsTheUsersHoursInTheWindow) {
    EXPECT_EQ(must(store_.recipientsBetween(1, kT0, kT0 + 24 * kHour)), 0);
    ASSERT_TRUE(store_
                    .addUsage({delta(1, "alice_user", kT0 - kHour, 1, 1000),  // the day before
                               delta(1, "alice_user", kT0, 1, 3),
                               delta(1, "alice_user", kT0 + 5 * kHour, 1, 4),
                               delta(1, "alice_user", kT0 + 24 * kHour, 1, 2000),  // next day
                               delta(2, "bob_user", kT0, 1, 50)})
                    .ok());
    EXPECT_EQ(must(store_.recipientsBetween(1, kT0, kT0 + 24 * kHour)), 7);
    EXPECT_EQ(must(store_.recipientsBetween(1, kT0 + 1, kT0 + 24 * kHour)), 4);
    EXPECT_EQ(must(store_.recipientsBetween(2, kT0, kT0 + 24 * kHour)), 50);
    EXPECT_EQ(must(store_.recipientsBetween(3, kT0, kT0 + 24 * kHour)), 0);
    ASSERT_TRUE(store_.addUsage({delta(1, "alice_user", kT0 + 5 * kHour, 1, 6)}).ok());
    EXPECT_EQ(must(store_.recipientsBetween(1, kT0, kT0 + 24 * kHour)), 13);
}

UsageDelta use(int64_t userId, std::string userName, int64_t atMs, int64_t requests = 1) {
    UsageDelta d = delta(userId, std::move(userName), atMs - atMs % kHour, requests, 0);
    d.lastUsedMs = atMs;
    return d;
}

TEST_F(SqliteAuditStoreTest, LastUseOfIsTheLatestUseKeptWithTheCounters) {
    EXPECT_EQ(must(store_.lastUseOf(1)), std::nullopt);
    // A delta without a use (an authentication failure) makes a row but no last use.
    ASSERT_TRUE(store_.addUsage({delta(1, "alice_user", kT0, 1, 0, 1)}).ok());
    EXPECT_EQ(must(store_.lastUseOf(1)), std::nullopt);

    ASSERT_TRUE(store_
                    .addUsage({use(1, "alice_user", kT0 + 5000), use(2, "bob_user", kT0 + 9000),
                               use(1, "alice_user", kT0 + 2 * kHour + 70)})
                    .ok());
    EXPECT_EQ(must(store_.lastUseOf(1)), kT0 + 2 * kHour + 70);
    EXPECT_EQ(must(store_.lastUseOf(2)), kT0 + 9000);
    EXPECT_EQ(must(store_.lastUseOf(3)), std::nullopt);

    // A row keeps the larger time: a batch written late with an earlier use lowers nothing, and
    // counting without a use (a refund, a failure) keeps what the row has.
    ASSERT_TRUE(store_
                    .addUsage({use(1, "alice_user", kT0 + 2 * kHour + 10),
                               delta(1, "alice_user", kT0 + 2 * kHour, 0, -1)})
                    .ok());
    EXPECT_EQ(must(store_.lastUseOf(1)), kT0 + 2 * kHour + 70);
    ASSERT_TRUE(store_.addUsage({use(1, "alice_user", kT0 + 2 * kHour + 900)}).ok());
    EXPECT_EQ(must(store_.lastUseOf(1)), kT0 + 2 * kHour + 900);

    // A later hour with failures only does not hide the last use before it.
    ASSERT_TRUE(store_.addUsage({delta(1, "alice_user", kT0 + 3 * kHour, 4, 0, 4)}).ok());
    EXPECT_EQ(must(store_.lastUseOf(1)), kT0 + 2 * kHour + 900);

    // The counters themselves are unchanged by the column beside them.
    UsageQuery q;
    q.accountId = 1;
    q.userName = "alice_user";
    q.fromMs = kT0 + 2 * kHour;
    q.toMs = kT0 + 3 * kHour;
    auto rows = must(store_.queryUsage(q));
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].requests, 3);
    EXPECT_EQ(rows[0].recipients, -1);
}

TEST_F(SqliteAuditStoreTest, PruneEventsDeletesOlderEventsAndIdsKeepGrowing) {
    std::vector<AuthEvent> batch;
    for (int i = 0; i < 5; ++i)
        batch.push_back(event(kT0 + i, 1, 1, "alice_user", AuthOutcome::Success));
    ASSERT_TRUE(store_.appendEvents(batch).ok());
    const int64_t newest = query(forAccount(1)).front().id;

    EXPECT_EQ(must(store_.pruneEvents(kT0 + 2)), 2);
    EXPECT_EQ(timesOf(query(forAccount(1))), (std::vector<int64_t>{kT0 + 4, kT0 + 3, kT0 + 2}));
    EXPECT_EQ(must(store_.pruneEvents(kT0 + 2)), 0);
    EXPECT_EQ(must(store_.pruneEvents(kT0 + 100)), 3);
    EXPECT_TRUE(query(forAccount(1)).empty());

    // A paging cursor held across a prune never sees an old id handed out again.
    ASSERT_TRUE(
        store_.appendEvents({event(kT0 + 200, 1, 1, "alice_user", AuthOutcome::Success)}).ok());
    EXPECT_GT(query(forAccount(1)).front().id, newest);
}

TEST_F(SqliteAuditStoreTest, WritesWaitForAnotherWriterWithinTheBusyTimeout) {
    SQLite::Database other(options().path, SQLite::OPEN_READWRITE);
    other.exec("BEGIN IMMEDIATE");
    other.exec(
        "INSERT INTO usage_hourly (user_id, account_id, user_name, hour_start_ms) "
        "VALUES (1, 1, 'alice_user', 0)");
    auto pending = std::async(std::launch::async,
                              [&] { return store_.addUsage({delta(1, "alice_user", 0, 1, 2)}); });
    // Not a synchronisation sleep: it cannot complete while the lock is held.
    EXPECT_EQ(pending.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
    other.exec("COMMIT");
    auto r = pending.get();
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(must(store_.recipientsBetween(1, 0, 1)), 2);
}

TEST_F(SqliteAuditStoreTest, AWriteLockHeldBeyondTheBusyTimeoutIsUnavailableAndWritesNothing) {
    SqliteOptions o = options();
    o.busyTimeoutMs = 20;
    SqliteBackend impatient(o);

    SQLite::Database other(options().path, SQLite::OPEN_READWRITE);
    other.exec("BEGIN IMMEDIATE");
    auto events =
        impatient.audit().appendEvents({event(kT0, 1, 1, "alice_user", AuthOutcome::Success)});
    auto usage = impatient.audit().addUsage({delta(1, "alice_user", kT0, 1, 1)});
    other.exec("ROLLBACK");

    ASSERT_FALSE(events.ok());
    EXPECT_EQ(events.error().kind, StoreError::Kind::Unavailable);
    ASSERT_FALSE(usage.ok());
    EXPECT_EQ(usage.error().kind, StoreError::Kind::Unavailable);
    EXPECT_EQ(countRows(options().path, "auth_events"), 0);
    EXPECT_EQ(countRows(options().path, "usage_hourly"), 0);
    // The same connections work again once the lock is gone.
    ASSERT_TRUE(impatient.audit()
                    .appendEvents({event(kT0, 1, 1, "alice_user", AuthOutcome::Success)})
                    .ok());
}

TEST_F(SqliteAuditStoreTest, ConcurrentRecordersAndSendsAllCommit) {
    constexpr int kThreads = 4;
    constexpr int kBatches = 25;
    constexpr int kPerBatch = 8;
    std::vector<std::thread> threads;
    std::vector<int> failures(kThreads, 0);
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int b = 0; b < kBatches; ++b) {
                std::vector<AuthEvent> batch;
                for (int i = 0; i < kPerBatch; ++i) {
                    batch.push_back(event(kT0 + b, 1, t + 1, "user", AuthOutcome::Success));
                }
                if (!store_.appendEvents(batch).ok()) ++failures[t];
                if (!store_.addUsage({delta(t + 1, "user", kT0, 1, 1)}).ok()) ++failures[t];
            }
        });
    }
    for (int i = 0; i < 20; ++i) {
        NewMessage m;
        m.messageId = test_support::cat("m", std::to_string(i));
        m.contentJson = "{}";
        m.recipients.push_back(test_support::recipient(test_support::cat(m.messageId, "-r0"),
                                                       "a@example.com", RecipientRole::To));
        ASSERT_TRUE(test_support::enqueueAndWait(backend_.messages(), std::move(m)).ok());
    }
    for (auto& th : threads) th.join();
    for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], 0) << t;
    EXPECT_EQ(countRows(options().path, "auth_events"), kThreads * kBatches * kPerBatch);
    for (int t = 0; t < kThreads; ++t) {
        EXPECT_EQ(must(store_.recipientsBetween(t + 1, kT0, kT0 + kHour)), kBatches);
    }
}

}  // namespace
}  // namespace sc::store
