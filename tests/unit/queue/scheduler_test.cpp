// The scheduler and outcome recorder against a real SQLite queue, on a fake clock: the retry
// schedule and expiry are checked by moving time, not by waiting.

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <span>

#include "fakes/fake_clock.h"
#include "queue/node_id.h"
#include "queue/scheduler.h"
#include "store/queue_store.h"
#include "store/sqlite_test_support.h"  // tests/unit/store

namespace sc::queue {
namespace {

using namespace store::test_support;
using namespace std::chrono_literals;
using Kind = DeliveryOutcome::Kind;

constexpr int64_t kT0 = 1795827000000;

// Records what it is given; answers each job with the next scripted kind, or holds the jobs
// until answer() when hold is set.
class ScriptedAgent final : public DeliveryAgent {
public:
    void deliver(std::vector<DeliveryJob> jobs, Report report) override {
        std::vector<std::pair<DeliveryJob, Report>> now;
        {
            std::lock_guard lock(mutex_);
            calls.push_back(jobs);
            for (auto& j : jobs) {
                if (hold) {
                    held.emplace_back(std::move(j), report);
                } else {
                    now.emplace_back(std::move(j), report);
                }
            }
        }
        for (auto& [j, r] : now) answer(j, r);
    }
    void stop() override { stopped = true; }

    void answer(const DeliveryJob& j, const Report& r) {
        DeliveryOutcome o;
        o.recipientId = j.recipientId;
        {
            std::lock_guard lock(mutex_);
            o.kind = script.empty() ? Kind::Delivered : script.front();
            if (!script.empty() && script.size() > 1) script.erase(script.begin());
        }
        o.atMs = clock->nowMillis();
        o.replyCode = o.kind == Kind::Deferred ? 451 : 250;
        o.retryAfter = retryAfter;
        r(std::move(o));
    }
    void releaseOne() {
        std::pair<DeliveryJob, Report> one;
        {
            std::lock_guard lock(mutex_);
            one = std::move(held.front());
            held.erase(held.begin());
        }
        answer(one.first, one.second);
    }
    size_t jobCount() {
        std::lock_guard lock(mutex_);
        size_t n = 0;
        for (auto& c : calls) n += c.size();
        return n;
    }
    size_t heldCount() {
        std::lock_guard lock(mutex_);
        return held.size();
    }

    Clock* clock = nullptr;
    std::mutex mutex_;
    std::vector<std::vector<DeliveryJob>> calls;
    std::vector<std::pair<DeliveryJob, Report>> held;
    std::vector<Kind> script;  // the last one repeats
    std::optional<std::chrono::milliseconds> retryAfter;
    bool hold = false;
    std::atomic<bool> stopped{false};
};

class SchedulerTest : public ::testing::Test {
protected:
    SchedulerTest() {
        store::SqliteOptions o;
        o.path = dir_.file("sc.db");
        backend_ = std::make_unique<store::SqliteBackend>(o);
        queue_ = store::openSqliteQueueStore(o.path);
        agent_.clock = &clock_;
        policy_.first = 60s;
        policy_.max = 3600s;
        policy_.queueLifetime = 432000s;
    }

    // On the real queue store, or on `store` (a wrapper of it).
    std::unique_ptr<Scheduler> makeScheduler(SchedulerOptions o = {},
                                             store::QueueStore* store = nullptr) {
        if (o.nodeId.empty()) o.nodeId = "node-a";
        o.pollInterval = 20ms;
        store::QueueStore& q = store != nullptr ? *store : *queue_;
        recorder_ = std::make_unique<OutcomeRecorder>(q, clock_, policy_);
        auto s = std::make_unique<Scheduler>(q, *recorder_, clock_, o);
        s->setAgent(store::UserKind::Email, agent_);
        return s;
    }

    void enqueue(const std::string& id, std::vector<std::string> addresses, bool testMode = false,
                 store::UserKind kind = store::UserKind::Email) {
        store::NewMessage m;
        m.messageId = id;
        m.kind = kind;
        m.accountId = 1;
        m.apiUserId = 1;
        m.apiUserName = "acme";
        m.createdAtMs = kT0;
        m.testMode = testMode;
        m.contentJson = R"({"subject":"hi"})";
        for (size_t i = 0; i < addresses.size(); ++i)
            m.recipients.push_back(recipient(recipientId(id, static_cast<int>(i)), addresses[i],
                                             store::RecipientRole::To));
        must(enqueueAndWait(backend_->messages(), std::move(m)));
    }

    // Pokes and waits until the scheduler has looked at the queue after the poke (a round counts
    // itself before it reads the clock, so a round counted after `before` saw the current time).
    static void pokeAndWait(Scheduler& s) {
        const auto before = s.claimRounds();
        s.poke();
        ASSERT_TRUE(eventually([&] { return s.claimRounds() > before; }));
    }

    std::string stateOf(const std::string& id) {
        return std::string(
            store::recipientStateName(backend_->messages().findRecipient(id).value()->state));
    }

    TempDir dir_;
    testing::FakeClock clock_{kT0};
    RetryPolicy policy_;
    std::unique_ptr<store::SqliteBackend> backend_;
    std::unique_ptr<store::QueueStore> queue_;
    std::unique_ptr<OutcomeRecorder> recorder_;
    ScriptedAgent agent_;
};

TEST_F(SchedulerTest, TestModeGoesToTheSandboxWhateverTheChannel) {
    enqueue("t1", {"a@x.io"}, /*testMode=*/true);
    enqueue("t2", {"+14155550100"}, /*testMode=*/true, store::UserKind::Sms);  // no SMS agent
    auto s = makeScheduler();
    s->start();
    ASSERT_TRUE(eventually([&] {
        return stateOf(recipientId("t1", 0)) == "sandbox" &&
               stateOf(recipientId("t2", 0)) == "sandbox";
    }));
    EXPECT_EQ(agent_.jobCount(), 0u);
    auto st = must(queue_->statusOf({recipientId("t1", 0)}));
    ASSERT_EQ(st[0].attempts.size(), 1u);
    EXPECT_EQ(st[0].attempts[0].outcome, "sandbox");
}

TEST_F(SchedulerTest, EmailJobsAreGroupedByRecipientDomain) {
    enqueue("m1", {"a@x.io", "b@X.IO", "c@y.io"});
    auto s = makeScheduler();
    s->start();
    ASSERT_TRUE(eventually([&] { return stateOf(recipientId("m1", 2)) == "delivered"; }));
    ASSERT_TRUE(eventually([&] { return stateOf(recipientId("m1", 1)) == "delivered"; }));
    std::lock_guard lock(agent_.mutex_);
    ASSERT_EQ(agent_.calls.size(), 2u);
    std::map<std::string, size_t> sizes;
    for (auto& c : agent_.calls) sizes[c.front().destination] = c.size();
    EXPECT_EQ(sizes["x.io"], 2u);
    EXPECT_EQ(sizes["y.io"], 1u);
    EXPECT_EQ(agent_.calls[0][0].message->apiUserName, "acme");
    EXPECT_EQ(agent_.calls[0][0].content(), R"({"subject":"hi"})");
}

TEST_F(SchedulerTest, RetriesDoubleFromFirstToMaxAndExpireAfterTheQueueLifetime) {
    agent_.script = {Kind::Deferred};
    enqueue("m1", {"a@x.io"});
    const auto id = recipientId("m1", 0);
    auto s = makeScheduler();
    s->start();
    ASSERT_TRUE(eventually([&] { return stateOf(id) == "deferred"; }));
    EXPECT_EQ(agent_.jobCount(), 1u);
    // Due 60 s after the first attempt, then 120 s after the second.
    clock_.advance(59s);
    pokeAndWait(*s);
    EXPECT_EQ(agent_.jobCount(), 1u);
    clock_.advance(1s);
    s->poke();
    ASSERT_TRUE(eventually([&] { return agent_.jobCount() == 2u; }));
    EXPECT_EQ(agent_.calls[1][0].attempt, 2);
    ASSERT_TRUE(eventually([&] { return stateOf(id) == "deferred"; }));
    clock_.advance(119s);
    pokeAndWait(*s);
    EXPECT_EQ(agent_.jobCount(), 2u);
    clock_.advance(1s);
    s->poke();
    ASSERT_TRUE(eventually([&] { return agent_.jobCount() == 3u; }));
    ASSERT_TRUE(eventually([&] { return stateOf(id) == "deferred"; }));
    // Past the lifetime, the next deferral is final.
    clock_.set(kT0 + 432000 * 1000);
    s->poke();
    ASSERT_TRUE(eventually([&] { return stateOf(id) == "expired"; }));
    auto st = must(queue_->statusOf({id}));
    ASSERT_EQ(st[0].attempts.size(), 4u);
    EXPECT_EQ(st[0].attempts[3].outcome, "expired");
}

TEST(RetryPolicyTest, DoublesAndCaps) {
    RetryPolicy p;
    EXPECT_EQ(p.delayAfter(1), 60s);
    EXPECT_EQ(p.delayAfter(2), 120s);
    EXPECT_EQ(p.delayAfter(6), 1920s);
    EXPECT_EQ(p.delayAfter(7), 3600s);
    EXPECT_EQ(p.delayAfter(50), 3600s);
}

TEST_F(SchedulerTest, AnAgentsRetryAfterReplacesTheBackoff) {
    agent_.script = {Kind::Deferred, Kind::Delivered};
    agent_.retryAfter = 7200s;
    enqueue("m1", {"a@x.io"});
    auto s = makeScheduler();
    s->start();
    ASSERT_TRUE(eventually([&] { return stateOf(recipientId("m1", 0)) == "deferred"; }));
    clock_.advance(3600s);
    pokeAndWait(*s);
    EXPECT_EQ(agent_.jobCount(), 1u);
    clock_.advance(3600s);
    s->poke();
    ASSERT_TRUE(eventually([&] { return stateOf(recipientId("m1", 0)) == "delivered"; }));
}

TEST_F(SchedulerTest, InFlightIsBoundedAndStopReleasesWhatDidNotFinish) {
    agent_.hold = true;
    enqueue("m1", {"a@x.io", "b@x.io", "c@x.io", "d@x.io", "e@x.io"});
    SchedulerOptions o;
    o.maxInFlight = 2;
    auto s = makeScheduler(o);
    s->start();
    ASSERT_TRUE(eventually([&] { return agent_.heldCount() == 2u; }));
    pokeAndWait(*s);
    EXPECT_EQ(agent_.jobCount(), 2u);
    agent_.releaseOne();
    ASSERT_TRUE(eventually([&] { return agent_.jobCount() == 3u; }));
    s->stop(50ms);
    EXPECT_TRUE(agent_.stopped);
    int delivered = 0, queued = 0;
    for (int i = 0; i < 5; ++i) {
        const auto st = stateOf(recipientId("m1", i));
        delivered += st == "delivered";
        queued += st == "queued";
    }
    EXPECT_EQ(delivered, 1);
    EXPECT_EQ(queued, 4);  // the two still held and the two never claimed
}

TEST_F(SchedulerTest, ARestartedNodeTakesBackItsPreviousLeasesAtOnce) {
    enqueue("m1", {"a@x.io"});
    // A previous life of node-a claimed it (lease live for ten more minutes) and died.
    store::ClaimRequest r;
    r.owner = "node-a";
    r.nowMs = kT0;
    r.leaseUntilMs = kT0 + 600000;
    ASSERT_EQ(must(queue_->claimDue(r)).size(), 1u);
    {
        SchedulerOptions other;
        other.nodeId = "node-b";
        auto b = makeScheduler(other);
        b->start();
        pokeAndWait(*b);
        EXPECT_EQ(agent_.jobCount(), 0u);  // another node waits for the lease to run out
        b->stop(0ms);
    }
    auto a = makeScheduler();
    a->start();
    ASSERT_TRUE(eventually([&] { return stateOf(recipientId("m1", 0)) == "delivered"; }));
}

// Forwards to the real queue store; its outcome writes can be held at a gate (to let reports
// pile up behind a write in progress) or failed (the store away), and are counted per call.
class GatedQueueStore final : public store::QueueStore {
public:
    explicit GatedQueueStore(store::QueueStore& inner) : inner_(inner) {}

    Result<std::vector<store::ClaimedRecipient>, store::StoreError> claimDue(
        const store::ClaimRequest& req) override {
        return inner_.claimDue(req);
    }
    Result<std::optional<store::QueuedMessageContent>, store::StoreError> messageContent(
        std::string_view id) override {
        return inner_.messageContent(id);
    }
    Result<int64_t, store::StoreError> releaseLeases(std::string_view owner,
                                                     int64_t nowMs) override {
        return inner_.releaseLeases(owner, nowMs);
    }
    Result<std::vector<bool>, store::StoreError> recordOutcomes(
        std::span<const store::OutcomeWrite> writes) override {
        std::unique_lock lock(mutex_);
        ++entered_;
        entry_.notify_all();
        gate_.wait(lock, [&] { return open_; });
        if (failuresLeft_ > 0) {
            --failuresLeft_;
            return fail(store::StoreError(store::StoreError::Kind::Unavailable, "disk away"));
        }
        batchSizes_.push_back(writes.size());
        return inner_.recordOutcomes(writes);
    }
    Result<store::ReceiptResult, store::StoreError> recordReceipt(
        const store::ReceiptWrite& w) override {
        return inner_.recordReceipt(w);
    }
    Result<Ok, store::StoreError> recordInbound(const store::InboundRecord& r) override {
        return inner_.recordInbound(r);
    }
    Result<std::optional<int64_t>, store::StoreError> nextDueAtMs() override {
        return inner_.nextDueAtMs();
    }
    Result<std::vector<store::RecipientStatus>, store::StoreError> statusOf(
        const std::vector<std::string>& ids) override {
        return inner_.statusOf(ids);
    }
    Result<store::QueueStats, store::StoreError> stats(int64_t nowMs) override {
        return inner_.stats(nowMs);
    }

    void close() {
        std::lock_guard lock(mutex_);
        open_ = false;
    }
    void open() {
        {
            std::lock_guard lock(mutex_);
            open_ = true;
        }
        gate_.notify_all();
    }
    void failNext(int n) {
        std::lock_guard lock(mutex_);
        failuresLeft_ = n;
    }
    // Waits until a write has reached the gate (`n` writes in all).
    bool waitEntered(int n) {
        std::unique_lock lock(mutex_);
        return entry_.wait_for(lock, 10s, [&] { return entered_ >= n; });
    }
    std::vector<size_t> batchSizes() {
        std::lock_guard lock(mutex_);
        return batchSizes_;
    }

private:
    store::QueueStore& inner_;
    std::mutex mutex_;
    std::condition_variable gate_, entry_;
    bool open_ = true;
    int entered_ = 0;
    int failuresLeft_ = 0;
    std::vector<size_t> batchSizes_;
};

// Group commit: reports that arrive while a write is in progress are written together in the
// next transaction, not one transaction each (one per outcome could not keep pace with a fast
// SMTP peer, and every outcome waiting to be written is delivered again after a kill -9).
TEST_F(SchedulerTest, OutcomesThatArriveTogetherAreRecordedInOneTransaction) {
    std::vector<std::string> addresses;
    for (int i = 0; i < 40; ++i) addresses.push_back("r" + std::to_string(i) + "@x.io");
    enqueue("m1", addresses);
    agent_.hold = true;
    GatedQueueStore gated(*queue_);
    auto s = makeScheduler({}, &gated);
    s->start();
    ASSERT_TRUE(eventually([&] { return agent_.heldCount() == 40u; }));

    gated.close();
    agent_.releaseOne();                // its write starts and waits at the gate
    ASSERT_TRUE(gated.waitEntered(1));  // the scheduler's thread is inside that write
    while (agent_.heldCount() > 0) agent_.releaseOne();  // 39 reports queue up behind it
    gated.open();

    ASSERT_TRUE(eventually([&] { return s->inFlight() == 0u; }));
    EXPECT_EQ(gated.batchSizes(), (std::vector<size_t>{1, 39}));
    for (int i = 0; i < 40; ++i) EXPECT_EQ(stateOf(recipientId("m1", i)), "delivered");
    s->stop(0ms);
}

// Reports that trickle in, one at a time, are still written in groups of recordBatch: one
// transaction (one fsync, one turn of the database's write lock) per report is what made a
// draining queue slow the send path down.
TEST_F(SchedulerTest, TricklingReportsAreRecordedInGroupsOfRecordBatch) {
    std::vector<std::string> addresses;
    for (int i = 0; i < 20; ++i) addresses.push_back("r" + std::to_string(i) + "@x.io");
    enqueue("m1", addresses);
    agent_.hold = true;
    GatedQueueStore gated(*queue_);
    SchedulerOptions o;
    o.recordBatch = 10;
    o.recordDelay = std::chrono::hours(1);  // never reached here: only full groups are written
    auto s = makeScheduler(o, &gated);
    s->start();
    ASSERT_TRUE(eventually([&] { return agent_.heldCount() == 20u; }));
    auto written = [&] {
        size_t n = 0;
        for (size_t b : gated.batchSizes()) n += b;
        return n;
    };
    for (int i = 0; i < 10; ++i) agent_.releaseOne();
    ASSERT_TRUE(eventually([&] { return written() == 10u; }));
    for (int i = 0; i < 10; ++i) agent_.releaseOne();
    ASSERT_TRUE(eventually([&] { return s->inFlight() == 0u; }));
    EXPECT_EQ(gated.batchSizes(), (std::vector<size_t>{10, 10}));
    s->stop(0ms);
}

// Fewer reports than a group are written recordDelay after the first of them.
TEST_F(SchedulerTest, ReportsShortOfAGroupAreRecordedAfterTheDelay) {
    enqueue("m1", {"a@x.io", "b@x.io", "c@x.io"});
    agent_.hold = true;
    GatedQueueStore gated(*queue_);
    SchedulerOptions o;
    o.recordBatch = 1000;
    o.recordDelay = 20ms;
    auto s = makeScheduler(o, &gated);
    s->start();
    ASSERT_TRUE(eventually([&] { return agent_.heldCount() == 3u; }));
    while (agent_.heldCount() > 0) agent_.releaseOne();
    ASSERT_TRUE(eventually([&] { return s->inFlight() == 0u; }));
    size_t written = 0;
    for (size_t n : gated.batchSizes()) written += n;
    EXPECT_EQ(written, 3u);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(stateOf(recipientId("m1", i)), "delivered");
    s->stop(0ms);
}

// A write that fails (the store busy or away) loses nothing: its outcomes stay in flight and are
// written with the next one.
TEST_F(SchedulerTest, OutcomesWhoseWriteFailedAreWrittenLater) {
    enqueue("m1", {"a@x.io", "b@x.io"});
    GatedQueueStore gated(*queue_);
    gated.failNext(1);
    auto s = makeScheduler({}, &gated);
    s->start();
    ASSERT_TRUE(eventually([&] {
        return stateOf(recipientId("m1", 0)) == "delivered" &&
               stateOf(recipientId("m1", 1)) == "delivered";
    }));
    EXPECT_EQ(agent_.jobCount(), 2u);  // recorded late, never delivered twice
    s->stop(0ms);
}

// While outcomes cannot be written (the store away, a full disk), nothing new is claimed: its
// outcome could not be written either, and once the leases of the waiting ones ran out they
// would be claimed again and delivered twice. Claiming resumes once they are written.
TEST_F(SchedulerTest, NothingIsClaimedWhileOutcomesWaitToBeWritten) {
    enqueue("m1", {"a@x.io"});
    GatedQueueStore gated(*queue_);
    gated.failNext(1000000);
    std::vector<std::string> errors;
    std::mutex errorsMutex;
    recorder_ = std::make_unique<OutcomeRecorder>(gated, clock_, policy_);
    recorder_->setErrorSink([&](std::string_view e) {
        std::lock_guard lock(errorsMutex);
        errors.emplace_back(e);
    });
    SchedulerOptions o;
    o.nodeId = "node-a";
    o.pollInterval = 20ms;
    o.lease = 60s;
    Scheduler s(gated, *recorder_, clock_, o);
    s.setAgent(store::UserKind::Email, agent_);
    s.start();
    ASSERT_TRUE(gated.waitEntered(2));  // written, failed, and tried again
    EXPECT_EQ(agent_.jobCount(), 1u);

    enqueue("m2", {"b@x.io"});
    clock_.advance(120s);  // m1's lease has run out
    pokeAndWait(s);
    pokeAndWait(s);
    EXPECT_EQ(agent_.jobCount(), 1u) << "claimed while an outcome waited to be written";
    EXPECT_EQ(stateOf(recipientId("m1", 0)), "sending");  // claimed, its outcome unwritten
    // Every poll tries the write again; the log hears of it once a second (of the fake clock,
    // which moved once).
    ASSERT_TRUE(gated.waitEntered(6));
    {
        std::lock_guard lock(errorsMutex);
        ASSERT_FALSE(errors.empty());
        EXPECT_NE(errors.front().find("disk away"), std::string::npos) << errors.front();
        EXPECT_LE(errors.size(), 2u);
    }

    gated.failNext(0);
    s.poke();
    ASSERT_TRUE(eventually([&] {
        return stateOf(recipientId("m1", 0)) == "delivered" &&
               stateOf(recipientId("m2", 0)) == "delivered";
    }));
    EXPECT_EQ(agent_.jobCount(), 2u);  // each once
    s.stop(0ms);
}

TEST(NodeIdTest, CreatedOnceThenReadBack) {
    TempDir dir;
    SystemRandom random;
    auto first = loadOrCreateNodeId(dir.file("node-id"), random);
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(first.value().size(), 32u);
    auto again = loadOrCreateNodeId(dir.file("node-id"), random);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again.value(), first.value());
}

}  // namespace
}  // namespace sc::queue
