// WriteTurn: the threads of one process hand SQLite's write lock to each other instead of polling
// for it in the busy handler, and a turn that does not come in time fails like SQLite's own
// busy timeout.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
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

TEST(WriteTurnTest, AWriterWaitingForItsTurnIsHandedTheLockWithoutPollingForIt) {
    TempDir dir;
    const std::string path = dir.file("turn.db");
    WriteTurn turn;
    Connection holder(path, 60000);
    Connection waiter(path, 60000);
    holder.exec("CREATE TABLE t (x INTEGER)");
    holder.takeTurnsWith(turn);
    waiter.takeTurnsWith(turn);

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

TEST(WriteTurnTest, ATurnThatDoesNotComeWithinTheBusyTimeoutFailsAsBusy) {
    TempDir dir;
    const std::string path = dir.file("turn.db");
    WriteTurn turn;
    Connection waiter(path, 100);
    waiter.exec("CREATE TABLE t (x INTEGER)");
    waiter.takeTurnsWith(turn);

    auto held = turn.take(std::chrono::milliseconds(0));
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

TEST(WriteTurnTest, TheTurnIsGivenBackAfterARolledBackTransaction) {
    TempDir dir;
    const std::string path = dir.file("turn.db");
    WriteTurn turn;
    Connection c(path, 1000);
    c.exec("CREATE TABLE t (x INTEGER)");
    c.takeTurnsWith(turn);

    EXPECT_THROW(inWriteTransaction(c,
                                    [&]() -> int {
                                        c.exec("INSERT INTO t VALUES (1)");
                                        throw std::runtime_error("the body failed");
                                    }),
                 std::runtime_error);
    EXPECT_FALSE(c.inTransaction());
    EXPECT_EQ(rows(c), 0);
    // Free at once: taking it does not wait.
    auto again = turn.take(std::chrono::milliseconds(0));
    EXPECT_TRUE(again.owns_lock());
    EXPECT_EQ(turn.waits(), 0u);
}

}  // namespace
}  // namespace sc::store::sqlite
