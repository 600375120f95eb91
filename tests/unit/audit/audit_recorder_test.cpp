#include "audit/audit_recorder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "fakes/fake_clock.h"

namespace sc::audit {
namespace {

class RecordingAuditStore final : public store::AuditStore {
public:
    Result<Ok, store::StoreError> appendEvents(const std::vector<store::AuthEvent>& e) override {
        std::lock_guard lk(mu);
        if (down || appendCalls == failCall) {
            failCall = -1;
            return fail(store::StoreError{store::StoreError::Kind::Unavailable, "down"});
        }
        ++appendCalls;
        largestAppend = std::max(largestAppend, e.size());
        events.insert(events.end(), e.begin(), e.end());
        return Ok{};
    }
    Result<Ok, store::StoreError> addUsage(const std::vector<store::UsageDelta>& d) override {
        std::lock_guard lk(mu);
        if (down) return fail(store::StoreError{store::StoreError::Kind::Unavailable, "down"});
        usage.insert(usage.end(), d.begin(), d.end());
        return Ok{};
    }
    Result<std::vector<store::StoredAuthEvent>, store::StoreError> queryEvents(
        const store::AuthEventQuery&) override {
        return std::vector<store::StoredAuthEvent>{};
    }
    Result<std::vector<store::UsageRow>, store::StoreError> queryUsage(
        const store::UsageQuery&) override {
        return std::vector<store::UsageRow>{};
    }
    Result<int64_t, store::StoreError> countKeyUses(int64_t, std::string_view, int64_t) override {
        return int64_t{0};
    }
    Result<std::optional<int64_t>, store::StoreError> lastUseOf(int64_t) override {
        return std::optional<int64_t>();
    }
    Result<int64_t, store::StoreError> recipientsBetween(int64_t, int64_t, int64_t) override {
        return int64_t{0};
    }
    Result<int64_t, store::StoreError> pruneEvents(int64_t olderThanMs) override {
        std::lock_guard lk(mu);
        prunedBefore = olderThanMs;
        return int64_t{0};
    }

    std::mutex mu;
    bool down = false;
    int appendCalls = 0;
    int failCall = -1;  // refuse the append after this many successful ones (once)
    size_t largestAppend = 0;
    int64_t prunedBefore = 0;
    std::vector<store::AuthEvent> events;
    std::vector<store::UsageDelta> usage;
};

store::AuthEvent event(const std::string& user) {
    store::AuthEvent e;
    e.userName = user;
    e.outcome = store::AuthOutcome::Success;
    return e;
}

TEST(AuditRecorderTest, BatchesEventsIntoOneWrite) {
    testing::FakeClock clock;
    RecordingAuditStore store;
    AuditRecorder recorder(store, clock, {});
    for (int i = 0; i < 100; ++i) recorder.record(event("user_" + std::to_string(i)));
    EXPECT_TRUE(store.events.empty());  // nothing on the caller's path
    ASSERT_TRUE(recorder.flush());
    EXPECT_EQ(store.events.size(), 100u);
    EXPECT_EQ(store.appendCalls, 1);
}

store::AuthEvent attempt(int64_t atMs) {
    store::AuthEvent e = event("acme_api");
    e.atMs = atMs;
    e.api = store::AuthApi::Email;
    e.accountId = 7;
    e.userId = 9;
    e.keyFingerprint = "0a1b2c3d";
    e.clientIp = "192.0.2.10";
    e.userAgent = "curl/8.0";
    return e;
}

// A busy integration: 1000 alike attempts in one second are one record that counts them all,
// with the first and the last attempt's times.
TEST(AuditRecorderTest, CoalescesAlikeAttemptsWithinASecond) {
    testing::FakeClock clock;
    RecordingAuditStore store;
    AuditRecorder recorder(store, clock, {});
    for (int i = 0; i < 1000; ++i) recorder.record(attempt(1795827600000 + 250 + (i % 700)));
    ASSERT_TRUE(recorder.flush());
    ASSERT_EQ(store.events.size(), 1u);
    EXPECT_EQ(store.events[0].attempts, 1000);
    EXPECT_EQ(store.events[0].atMs, 1795827600250);
    EXPECT_EQ(store.events[0].lastAtMs, 1795827600949);
}

// Any field but the time that differs, or another second, makes another record; every attempt
// is counted exactly once.
TEST(AuditRecorderTest, KeepsApartWhatDiffersInAnythingButTheTimeWithinTheSecond) {
    testing::FakeClock clock;
    RecordingAuditStore store;
    AuditRecorder recorder(store, clock, {});
    const int64_t t = 1795827600000;
    std::vector<store::AuthEvent> variants;
    variants.push_back(attempt(t));
    variants.push_back(attempt(t + 1000));  // the next second
    variants.push_back(attempt(t - 1));     // the second before
    auto vary = [&](auto change) {
        store::AuthEvent e = attempt(t);
        change(e);
        variants.push_back(e);
    };
    vary([](store::AuthEvent& e) { e.api = store::AuthApi::Sms; });
    vary([](store::AuthEvent& e) { e.userName = "other_api"; });
    vary([](store::AuthEvent& e) { e.accountId = 8; });
    vary([](store::AuthEvent& e) { e.userId = 10; });
    vary([](store::AuthEvent& e) { e.outcome = store::AuthOutcome::Failure; });
    vary([](store::AuthEvent& e) { e.reason = "auth.failed"; });
    vary([](store::AuthEvent& e) { e.keyFingerprint = "ffffffff"; });
    vary([](store::AuthEvent& e) { e.clientIp = "192.0.2.11"; });
    for (int round = 0; round < 3; ++round) {
        for (const auto& v : variants) recorder.record(v);
    }
    ASSERT_TRUE(recorder.flush());
    ASSERT_EQ(store.events.size(), variants.size());
    for (size_t i = 0; i < variants.size(); ++i) {
        EXPECT_EQ(store.events[i].attempts, 3) << i;
        EXPECT_EQ(store.events[i].atMs, variants[i].atMs) << i;
    }
}

// The User-Agent is the client's to choose: were it part of what makes a record, a client
// varying it would get a row per request. The record keeps the latest one.
TEST(AuditRecorderTest, AttemptsDifferingOnlyInUserAgentAreOneRecordWithTheLatest) {
    testing::FakeClock clock;
    RecordingAuditStore store;
    AuditRecorder recorder(store, clock, {});
    const int64_t t = 1795827600000;
    for (int i = 0; i < 300; ++i) {
        store::AuthEvent e = attempt(t + i);
        e.userAgent = "probe/" + std::to_string(i);
        recorder.record(e);
    }
    ASSERT_TRUE(recorder.flush());
    ASSERT_EQ(store.events.size(), 1u);
    EXPECT_EQ(store.events[0].attempts, 300);
    EXPECT_EQ(store.events[0].userAgent, "probe/299");
}

// Coalescing only happens among events still waiting: after a flush, alike attempts start a new
// record, and a record refused by the store is retried with its count intact.
TEST(AuditRecorderTest, CoalescedCountsSurviveAFlushAndARefusal) {
    testing::FakeClock clock;
    RecordingAuditStore store;
    AuditRecorder recorder(store, clock, {});
    const int64_t t = 1795827600000;
    for (int i = 0; i < 5; ++i) recorder.record(attempt(t + i));
    ASSERT_TRUE(recorder.flush());
    store.down = true;
    for (int i = 0; i < 7; ++i) recorder.record(attempt(t + 10 + i));
    EXPECT_FALSE(recorder.flush());
    store.down = false;
    for (int i = 0; i < 2; ++i) recorder.record(attempt(t + 20 + i));
    ASSERT_TRUE(recorder.flush());
    int64_t total = 0;
    for (const auto& e : store.events) total += e.attempts;
    EXPECT_EQ(total, 5 + 7 + 2);
    ASSERT_EQ(store.events.size(), 3u);
    EXPECT_EQ(store.events[0].attempts, 5);
    EXPECT_EQ(store.events[1].attempts, 7);
    EXPECT_EQ(store.events[2].attempts, 2);
}

// I/O threads record at once: no attempt is lost or counted twice.
TEST(AuditRecorderTest, ConcurrentAlikeAttemptsAreAllCounted) {
    testing::FakeClock clock;
    RecordingAuditStore store;
    AuditRecorder recorder(store, clock, {});
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&recorder] {
            for (int i = 0; i < 5000; ++i) recorder.record(attempt(1795827600000 + i % 3000));
        });
    }
    for (auto& th : threads) th.join();
    ASSERT_TRUE(recorder.flush());
    int64_t total = 0;
    for (const auto& e : store.events) total += e.attempts;
    EXPECT_EQ(total, 4 * 5000);
    EXPECT_EQ(store.events.size(), 3u);  // one record per second
}

TEST(AuditRecorderTest, AggregatesUsagePerUserAndHour) {
    testing::FakeClock clock(1795827600000);  // on an hour boundary
    RecordingAuditStore store;
    AuditRecorder recorder(store, clock, {});
    recorder.countUsage(1, 9, "acme_api", {1, 3, 0, 0});
    recorder.countUsage(1, 9, "acme_api", {1, 2, 0, 0});
    recorder.countUsage(2, 9, "acme_sms", {1, 0, 1, 0});
    clock.advance(std::chrono::hours(1));
    recorder.countUsage(1, 9, "acme_api", {1, 1, 0, 0});
    recorder.countUsage(0, 0, "-", {1, 0, 1, 0});  // unknown users have no usage row
    ASSERT_TRUE(recorder.flush());
    ASSERT_EQ(store.usage.size(), 3u);
    int64_t firstHourRecipients = 0;
    for (const auto& d : store.usage) {
        if (d.userId == 1 && d.hourStartMs == 1795827600000) firstHourRecipients = d.recipients;
    }
    EXPECT_EQ(firstHourRecipients, 5);
}

TEST(AuditRecorderTest, KeepsWhatTheStoreRefusedForTheNextFlush) {
    testing::FakeClock clock;
    RecordingAuditStore store;
    AuditRecorder recorder(store, clock, {});
    recorder.record(event("a_user_1"));
    store.down = true;
    EXPECT_FALSE(recorder.flush());
    store.down = false;
    recorder.record(event("a_user_2"));
    ASSERT_TRUE(recorder.flush());
    ASSERT_EQ(store.events.size(), 2u);
    EXPECT_EQ(store.events[0].userName, "a_user_1");
}

TEST(AuditRecorderTest, PrunesByClockTime) {
    testing::FakeClock clock(1795827600000);
    RecordingAuditStore store;
    AuditOptions o;
    o.retention = std::chrono::hours(24 * 90);
    AuditRecorder recorder(store, clock, o);
    recorder.flush();
    EXPECT_EQ(store.prunedBefore, 0);  // not yet an hour since start
    clock.advance(std::chrono::minutes(61));
    recorder.flush();
    EXPECT_EQ(store.prunedBefore, clock.nowMillis() - int64_t{90} * 24 * 3600 * 1000);
}

TEST(AuditRecorderTest, WritesABurstInBoundedPiecesInOrder) {
    testing::FakeClock clock;
    RecordingAuditStore store;
    AuditOptions o;
    o.eventsPerWrite = 256;
    AuditRecorder recorder(store, clock, o);
    for (int i = 0; i < 600; ++i) recorder.record(event("u" + std::to_string(i)));
    ASSERT_TRUE(recorder.flush());
    EXPECT_EQ(store.appendCalls, 3);
    EXPECT_EQ(store.largestAppend, 256u);
    ASSERT_EQ(store.events.size(), 600u);
    for (int i = 0; i < 600; ++i) EXPECT_EQ(store.events[i].userName, "u" + std::to_string(i));
}

TEST(AuditRecorderTest, APieceRefusedMidBurstIsRetriedWithoutRewritingTheRest) {
    testing::FakeClock clock;
    RecordingAuditStore store;
    AuditOptions o;
    o.eventsPerWrite = 100;
    AuditRecorder recorder(store, clock, o);
    for (int i = 0; i < 250; ++i) recorder.record(event("u" + std::to_string(i)));
    store.failCall = 1;  // the second piece fails
    EXPECT_FALSE(recorder.flush());
    EXPECT_EQ(store.events.size(), 100u);
    recorder.record(event("late"));
    ASSERT_TRUE(recorder.flush());
    ASSERT_EQ(store.events.size(), 251u);  // nothing written twice, nothing lost
    for (int i = 0; i < 250; ++i) EXPECT_EQ(store.events[i].userName, "u" + std::to_string(i));
    EXPECT_EQ(store.events[250].userName, "late");
}

TEST(AuditRecorderTest, UsageCountedAtAnInstantLandsInThatHour) {
    testing::FakeClock clock(1795827600000);  // on an hour boundary
    RecordingAuditStore store;
    AuditRecorder recorder(store, clock, {});
    const int64_t sentAt = clock.nowMillis() + 3599999;  // the last millisecond of the hour
    recorder.countUsage(1, 9, "acme_api", {1, 4, 0, 0}, sentAt);
    clock.advance(std::chrono::hours(1));
    // The correction of a refused enqueue, made after the hour turned.
    recorder.countUsage(1, 9, "acme_api", {0, -4, 0, 0}, sentAt);
    ASSERT_TRUE(recorder.flush());
    ASSERT_EQ(store.usage.size(), 1u);
    EXPECT_EQ(store.usage[0].hourStartMs, 1795827600000);
    EXPECT_EQ(store.usage[0].requests, 1);
    EXPECT_EQ(store.usage[0].recipients, 0);
    EXPECT_EQ(store.usage[0].userName, "acme_api");
}

// The last use a flush writes for a user and hour, 0 when that delta brings none.
int64_t lastUseIn(const std::vector<store::UsageDelta>& usage, int64_t userId, int64_t hour) {
    int64_t last = 0;
    for (const auto& d : usage) {
        if (d.userId == userId && d.hourStartMs == hour) last = std::max(last, d.lastUsedMs);
    }
    return last;
}

TEST(AuditRecorderTest, ASuccessfulAuthenticationIsTheUsersLastUseInTheUsageWrite) {
    constexpr int64_t kHourStart = 1795827600000;
    testing::FakeClock clock(kHourStart + 1000);
    RecordingAuditStore store;
    AuditRecorder recorder(store, clock, {});
    auto attempt = [&](int64_t userId, store::AuthOutcome outcome) {
        store::AuthEvent e = event("acme_api");
        e.userId = userId;
        e.accountId = 9;
        e.outcome = outcome;
        e.atMs = clock.nowMillis();
        recorder.record(e);
    };
    attempt(1, store::AuthOutcome::Success);
    clock.advance(std::chrono::milliseconds(1500));
    attempt(1, store::AuthOutcome::Success);  // the later one wins
    clock.advance(std::chrono::milliseconds(200));
    for (store::AuthOutcome refused :
         {store::AuthOutcome::Failure, store::AuthOutcome::Locked, store::AuthOutcome::Forbidden,
          store::AuthOutcome::RateLimited}) {
        attempt(1, refused);  // not uses: the last use stays where it was
    }
    attempt(0, store::AuthOutcome::Success);  // a console login: no user, no usage row
    ASSERT_TRUE(recorder.flush());
    EXPECT_EQ(lastUseIn(store.usage, 1, kHourStart), kHourStart + 2500);
    ASSERT_EQ(store.usage.size(), 1u);
    // A use alone counts nothing.
    EXPECT_EQ(store.usage[0].requests, 0);
    EXPECT_EQ(store.usage[0].accountId, 9);

    // In the hour it happened, beside what countUsage counts there; kept across a refused write.
    clock.advance(std::chrono::hours(1));
    recorder.countUsage(1, 9, "acme_api", {.requests = 1, .recipients = 2});
    attempt(1, store::AuthOutcome::Success);
    const int64_t secondUse = clock.nowMillis();
    store.down = true;
    EXPECT_FALSE(recorder.flush());
    store.down = false;
    ASSERT_TRUE(recorder.flush());
    EXPECT_EQ(lastUseIn(store.usage, 1, kHourStart + 3600000), secondUse);
    EXPECT_EQ(store.usage.back().requests, 1);
    EXPECT_EQ(store.usage.back().recipients, 2);
}

TEST(AuditRecorderTest, StopFlushesWhatIsPending) {
    testing::FakeClock clock;
    RecordingAuditStore store;
    {
        AuditRecorder recorder(store, clock, {});
        recorder.start();
        recorder.record(event("acme_api"));
        recorder.stop();
    }
    EXPECT_EQ(store.events.size(), 1u);
}

}  // namespace
}  // namespace sc::audit
