// Connection's busy handler: a lock held by another connection (the audit writer, an operator
// command in another process) is waited for, and given up on after the busy timeout.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "sqlite_test_support.h"
#include "store/sqlite/connection.h"

namespace sc::store::sqlite {
namespace {

using test_support::TempDir;

// SQLite's memory statistics cost a process-wide mutex per allocation; the first Connection
// turns them off (sqlite3_memory_used() then stays 0 however much SQLite allocates).
TEST(SqliteConnectionTest, TurnsOffSqliteMemoryStatistics) {
    TempDir dir;
    Connection c(dir.file("memstatus.db"), 1000);
    c.exec("CREATE TABLE t (x TEXT)");
    for (int i = 0; i < 100; ++i) c.exec("INSERT INTO t VALUES (hex(randomblob(500)))");
    EXPECT_EQ(sqlite3_memory_used(), 0);
}

TEST(SqliteConnectionTest, WaitsForAWriteLockAndGetsItWhenReleased) {
    TempDir dir;
    const std::string path = dir.file("busy.db");
    Connection holder(path, 1000);
    holder.exec("CREATE TABLE t (x INTEGER)");
    Connection waiter(path, 60000);

    holder.exec("BEGIN IMMEDIATE");
    std::atomic<bool> began{false};
    std::thread t([&] {
        waiter.exec("BEGIN IMMEDIATE");  // blocks in the busy handler until holder commits
        began = true;
        waiter.exec("INSERT INTO t VALUES (2)");
        waiter.exec("COMMIT");
    });
    // Release the lock only once the other connection is demonstrably waiting for it.
    while (waiter.busyWaits() == 0) std::this_thread::yield();
    EXPECT_FALSE(began.load());
    holder.exec("INSERT INTO t VALUES (1)");
    holder.exec("COMMIT");
    t.join();
    EXPECT_TRUE(began.load());
    ScopedStatement count(holder, "SELECT count(*) FROM t");
    ASSERT_TRUE(count->executeStep());
    EXPECT_EQ(count->getColumn(0).getInt(), 2);
}

TEST(SqliteConnectionTest, GivesUpWithBusyAfterItsTimeoutAndWaitsAfreshNextTime) {
    TempDir dir;
    const std::string path = dir.file("busy.db");
    Connection holder(path, 1000);
    holder.exec("CREATE TABLE t (x INTEGER)");
    Connection waiter(path, 100);
    holder.exec("BEGIN IMMEDIATE");
    for (int attempt = 0; attempt < 2; ++attempt) {
        const auto start = std::chrono::steady_clock::now();
        try {
            waiter.exec("BEGIN IMMEDIATE");
            FAIL() << "the lock is held; BEGIN IMMEDIATE must fail";
        } catch (const SQLite::Exception& e) {
            EXPECT_EQ(e.getErrorCode(), SQLITE_BUSY);
        }
        // The timeout is the time spent waiting for this lock, counted afresh per attempt.
        EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(100));
    }
    EXPECT_GT(waiter.busyWaits(), 2u);
    holder.exec("COMMIT");
}

}  // namespace
}  // namespace sc::store::sqlite
