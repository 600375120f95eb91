// WriteTurn: the threads of one process hand SQLite's write lock to each other instead of polling
// for it in the busy handler, and a turn that does not come in time fails like SQLite's own
// busy timeout.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <thread>

#include "sqlite_test_support.h"
#include "store/sqlite/connection.h"
#include "store/sqlite/write_turn.h"

namespace sc::store::sqlite {
namespace {

using test_support::TempDir;

int64_t rows(Connection& c) {
    ScopedStatement s(c, "SELECT count(*) FROM t");
    s->executeStep();
    return s->getColumn(0).getInt64();
}

// A database with table t, and connections on it that take turns through turn_.
class WriteTurnTest : public ::testing::Test {
protected:
    std::unique_ptr<Connection> open(int busyTimeoutMs) {
        auto c = std::make_unique<Connection>(path_, busyTimeoutMs);
        c->exec("CREATE TABLE IF NOT EXISTS t (x INTEGER)");
        c->takeTurnsWith(turn_);
        return c;
    }

    TempDir dir_;
    const std::string path_ = dir_.file("turn.db");
    WriteTurn turn_;
};

TEST_F(WriteTurnTest, AWriterWaitingForItsTurnIsHandedTheLockWithoutPollingForIt) {
    auto holderConnection = open(60000);
    auto waiterConnection = open(60000);
    Connection& holder = *holderConnection;
    Connection& waiter = *waiterConnection;
    WriteTurn& turn = turn_;

    std::atomic<bool> inside{false};
    std::atomic<bool> release{false};
    std::thread first([&] {
        inWriteTransaction(holder, [&] {
            holder.exec("INSERT INTO t VALUES (1)");
            inside = true;
            while (!release) std::this_thread::yield();
            return true;
        });
    });
    while (!inside) std::this_thread::yield();
    std::thread second([&] {
        inWriteTransaction(waiter, [&] { return waiter.exec("INSERT INTO t VALUES (2)"); });
    });
    // Commit only once the second writer is demonstrably waiting: for its turn, or (were the
    // turn not taken) for SQLite's lock in the busy handler.
    while (turn.waiting() == 0 && waiter.busyWaits() == 0) std::this_thread::yield();
    release = true;
    first.join();
    second.join();

    EXPECT_EQ(rows(holder), 2);
    EXPECT_EQ(turn.waits(), 1u);
    // It waited on the turn, never in SQLite's busy handler (which sleeps between attempts).
    EXPECT_EQ(waiter.busyWaits(), 0u);
    EXPECT_EQ(holder.busyWaits(), 0u);
}

TEST_F(WriteTurnTest, ATurnThatDoesNotComeWithinTheBusyTimeoutFailsAsBusy) {
    auto waiterConnection = open(100);
    Connection& waiter = *waiterConnection;

    auto held = turn_.take(std::chrono::milliseconds(0));
    const auto start = std::chrono::steady_clock::now();
    try {
        inWriteTransaction(waiter, [&] { return waiter.exec("INSERT INTO t VALUES (1)"); });
        FAIL() << "the turn is held; the write must fail";
    } catch (const SQLite::Exception& e) {
        EXPECT_EQ(e.getErrorCode(), SQLITE_BUSY);
        EXPECT_EQ(toStoreError(e).kind, StoreError::Kind::Unavailable);
    }
    EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(100));
    EXPECT_FALSE(waiter.inTransaction());
    held.unlock();

    inWriteTransaction(waiter, [&] { return waiter.exec("INSERT INTO t VALUES (1)"); });
    EXPECT_EQ(rows(waiter), 1);
}

TEST_F(WriteTurnTest, TheTurnIsGivenBackAfterARolledBackTransaction) {
    auto connection = open(1000);
    Connection& c = *connection;

    EXPECT_THROW(inWriteTransaction(c,
                                    [&]() -> int {
                                        c.exec("INSERT INTO t VALUES (1)");
                                        throw std::runtime_error("the body failed");
                                    }),
                 std::runtime_error);
    EXPECT_FALSE(c.inTransaction());
    EXPECT_EQ(rows(c), 0);
    // Free at once: taking it does not wait.
    auto again = turn_.take(std::chrono::milliseconds(0));
    EXPECT_TRUE(again.owns_lock());
    EXPECT_EQ(turn_.waits(), 0u);
}

}  // namespace
}  // namespace sc::store::sqlite
