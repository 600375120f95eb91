// IntakeFirst: the delivery queue's writes give way to the intake writer's group commit, on
// which send requests wait (src/store/sqlite/intake_first.h). The class alone, then each side's
// wiring: the message store announces its batches, the queue store yields before its writes.

#include <gtest/gtest.h>

#include <SQLiteCpp/SQLiteCpp.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "sqlite_test_support.h"
#include "store/sqlite/connection.h"
#include "store/sqlite/intake_first.h"
#include "store/sqlite/sqlite_message_store.h"
#include "store/sqlite/sqlite_queue_store.h"
#include "store/sqlite/sqlite_store.h"

namespace sc::store::sqlite {
namespace {

using namespace test_support;
using namespace std::chrono_literals;

// Long enough never to end a wait in these tests: a yield that returns did so because the intake
// finished, not because the bound ran out.
constexpr auto kForever = std::chrono::hours(1);

TEST(IntakeFirstTest, TheQueueGoesAtOnceWhileTheIntakeWantsNothing) {
    IntakeFirst gate(kForever);
    gate.yieldToIntake();
    gate.intakeWants();
    gate.intakeDone();
    gate.yieldToIntake();
    EXPECT_EQ(gate.yields(), 0u);
}

TEST(IntakeFirstTest, TheQueueWaitsUntilTheIntakeBatchIsDone) {
    IntakeFirst gate(kForever);
    gate.intakeWants();
    std::atomic<int> step{0};
    int queueWentAt = 0;
    std::thread queue([&] {
        gate.yieldToIntake();
        queueWentAt = ++step;
    });
    ASSERT_TRUE(eventually([&] { return gate.yields() == 1u; }));  // the queue is waiting
    const int intakeDoneAt = ++step;
    gate.intakeDone();
    queue.join();
    EXPECT_EQ(intakeDoneAt, 1);
    EXPECT_EQ(queueWentAt, 2) << "the queue went before the intake's batch was done";
}

// Both busy: the intake wants the lock again right after its batch; the queue still goes (it
// waits for one intake transaction, not for an idle intake), so delivery is slowed, never stopped.
TEST(IntakeFirstTest, ABusyIntakeAndTheQueueTakeTurns) {
    IntakeFirst gate(kForever);
    gate.intakeWants();
    std::thread queue([&] { gate.yieldToIntake(); });
    ASSERT_TRUE(eventually([&] { return gate.yields() == 1u; }));
    gate.intakeDone();
    gate.intakeWants();  // the next batch, before the queue thread has woken up
    queue.join();        // hangs (the test times out) if the queue waited for an idle intake
    EXPECT_TRUE(gate.intakeWaiting());
}

TEST(IntakeFirstTest, AStuckIntakeHoldsTheQueueUpOnlyForMaxYield) {
    IntakeFirst gate(1ms);
    gate.intakeWants();
    gate.yieldToIntake();  // returns after 1 ms although the intake never finishes
    EXPECT_EQ(gate.yields(), 1u);
}

class IntakeFirstWiringTest : public ::testing::Test {
protected:
    IntakeFirstWiringTest() {
        SqliteOptions o;
        o.path = path();
        backend_ = std::make_unique<SqliteBackend>(o);  // creates and migrates the file
    }
    std::string path() const { return dir_.file("sc.db"); }

    TempDir dir_;
    std::unique_ptr<SqliteBackend> backend_;
};

// The message writer announces its batch before it waits for the write lock, and is done only
// once the batch is committed: a queue write that yields finds the message already there.
TEST_F(IntakeFirstWiringTest, TheMessageWriterMakesTheQueueWaitForItsCommit) {
    IntakeFirst gate(kForever);
    ConnectionPool readers(path(), 5000, 2);
    // A busy timeout no slow machine reaches: the writer must still be waiting when the lock goes.
    SqliteMessageStore messages(path(), 600000, 16, readers, nullptr, CheckpointPolicy{}, &gate);

    // Another process holds the write lock, so the writer's batch stays under way.
    SQLite::Database other(path(), SQLite::OPEN_READWRITE);
    other.exec("BEGIN IMMEDIATE");
    std::atomic<bool> answered{false};
    messages.enqueue(makeMessage("m1", 1), [&](Result<Ok, StoreError>) { answered = true; });
    ASSERT_TRUE(eventually([&] { return gate.intakeWaiting(); }));

    int64_t messagesSeenByTheQueue = -1;
    std::thread queue([&] {
        gate.yieldToIntake();
        messagesSeenByTheQueue = countRows(path(), "messages");
    });
    ASSERT_TRUE(eventually([&] { return gate.yields() == 1u; }));
    other.exec("COMMIT");
    queue.join();
    EXPECT_EQ(messagesSeenByTheQueue, 1);
    EXPECT_TRUE(eventually([&] { return answered.load(); }));
    messages.stop();
}

// Every write transaction of the queue store yields first; its reads never do.
TEST_F(IntakeFirstWiringTest, TheQueueStoreYieldsBeforeEachWrite) {
    IntakeFirst gate(kForever);
    auto queue = openSqliteQueueStore(path(), 5000, gate);
    (void)must(queue->stats(0));  // a read: no yield
    EXPECT_EQ(gate.yields(), 0u);

    gate.intakeWants();
    std::atomic<bool> claimed{false};
    std::thread scheduler([&] {
        ClaimRequest req;
        req.owner = "node-a";
        (void)must(queue->claimDue(req));
        claimed = true;
    });
    ASSERT_TRUE(eventually([&] { return gate.yields() == 1u; }));
    EXPECT_FALSE(claimed.load());
    gate.intakeDone();
    scheduler.join();
    EXPECT_TRUE(claimed.load());

    gate.intakeWants();
    std::thread releaser([&] { (void)must(queue->releaseLeases("node-a", 0)); });
    ASSERT_TRUE(eventually([&] { return gate.yields() == 2u; }));
    gate.intakeDone();
    releaser.join();
}

}  // namespace
}  // namespace sc::store::sqlite
