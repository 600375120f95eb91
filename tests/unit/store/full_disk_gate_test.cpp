// FullDiskGate on its own: what a writer meets while the gate is closed, how often it asks for a
// checkpoint, and what the log hears. sqlite_io_error_test.cpp shows it between real connections.

#include "store/sqlite/full_disk_gate.h"

#include <SQLiteCpp/Exception.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "fakes/fake_clock.h"

namespace sc::store::sqlite {
namespace {

using namespace std::chrono_literals;

class FullDiskGateTest : public ::testing::Test {
protected:
    FullDiskGateTest() {
        gate_.onCheckpointDue([this] {
            ++checkpoints_;
            if (spaceIsBack_) gate_.reopen();
        });
    }

    // Whether admitWrite() let the writer through; a refusal must be SQLite's full disk.
    bool admitted() {
        try {
            gate_.admitWrite();
            return true;
        } catch (const SQLite::Exception& e) {
            EXPECT_EQ(e.getErrorCode(), SQLITE_FULL);
            EXPECT_TRUE(isDiskFull(e));
            EXPECT_NE(std::string(e.what()).find("database or disk is full"), std::string::npos)
                << e.what();
            return false;
        }
    }

    sc::testing::FakeClock clock_;
    std::vector<std::string> closedLog_;
    std::vector<std::string> openedLog_;
    FullDiskGate gate_{clock_, [this](std::string_view m) { closedLog_.emplace_back(m); },
                       [this](std::string_view m) { openedLog_.emplace_back(m); }};
    int checkpoints_ = 0;
    bool spaceIsBack_ = false;
};

TEST_F(FullDiskGateTest, AnOpenGateAdmitsEveryWriteAndAsksForNoCheckpoint) {
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(admitted());
    EXPECT_FALSE(gate_.closed());
    EXPECT_EQ(checkpoints_, 0);
    EXPECT_EQ(gate_.refusals(), 0u);
}

TEST_F(FullDiskGateTest, AClosedGateRefusesAndAsksForACheckpointOncePerInterval) {
    ASSERT_TRUE(gate_.close());
    EXPECT_FALSE(admitted());  // the first writer after the close asks at once
    EXPECT_EQ(checkpoints_, 1);
    EXPECT_FALSE(admitted());
    clock_.advance(FullDiskGate::kDefaultRetryEvery - 1ms);
    EXPECT_FALSE(admitted());
    EXPECT_EQ(checkpoints_, 1);
    clock_.advance(1ms);
    EXPECT_FALSE(admitted());
    EXPECT_EQ(checkpoints_, 2);
    EXPECT_EQ(gate_.refusals(), 4u);
    EXPECT_TRUE(gate_.closed());
}

TEST_F(FullDiskGateTest, TheWriterWhoseCheckpointOpensTheGateGoesAhead) {
    gate_.close();
    EXPECT_FALSE(admitted());
    spaceIsBack_ = true;
    EXPECT_FALSE(admitted());  // not due yet: refused without a checkpoint
    EXPECT_EQ(checkpoints_, 1);
    clock_.advance(FullDiskGate::kDefaultRetryEvery);
    EXPECT_TRUE(admitted());
    EXPECT_EQ(checkpoints_, 2);
    EXPECT_FALSE(gate_.closed());
    EXPECT_TRUE(admitted());
    EXPECT_EQ(checkpoints_, 2);
    EXPECT_EQ(gate_.refusals(), 2u);
}

TEST_F(FullDiskGateTest, EachChangeIsLoggedOnceAndANewClosingAsksAtOnce) {
    EXPECT_FALSE(gate_.reopen());
    EXPECT_TRUE(gate_.close());
    EXPECT_FALSE(gate_.close());  // a second writer's full disk changes nothing
    ASSERT_EQ(closedLog_.size(), 1u);
    EXPECT_NE(closedLog_[0].find("disk is full"), std::string::npos) << closedLog_[0];
    EXPECT_TRUE(openedLog_.empty());
    EXPECT_FALSE(admitted());
    EXPECT_TRUE(gate_.reopen());
    EXPECT_FALSE(gate_.reopen());
    ASSERT_EQ(openedLog_.size(), 1u);
    EXPECT_NE(openedLog_[0].find("writes resume"), std::string::npos) << openedLog_[0];
    // Closed again within the interval: the first writer asks anyway, the space may be back.
    EXPECT_TRUE(gate_.close());
    EXPECT_FALSE(admitted());
    EXPECT_EQ(checkpoints_, 2);
    EXPECT_EQ(closedLog_.size(), 2u);
}

TEST_F(FullDiskGateTest, OnlySqlitesFullDiskCountsAsOne) {
    EXPECT_TRUE(isDiskFull(SQLite::Exception("full", SQLITE_FULL)));
    EXPECT_FALSE(isDiskFull(SQLite::Exception("io", SQLITE_IOERR_WRITE)));
    EXPECT_FALSE(isDiskFull(SQLite::Exception("busy", SQLITE_BUSY)));
    EXPECT_FALSE(isDiskFull(std::runtime_error("database or disk is full")));
}

}  // namespace
}  // namespace sc::store::sqlite
