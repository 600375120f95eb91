#include "common/log_throttle.h"

#include <gtest/gtest.h>

#include "fakes/fake_clock.h"

namespace sc {
namespace {

TEST(LogThrottleTest, WritesUpToTheCapPerSecondAndCountsTheRest) {
    testing::FakeClock clock;
    LogThrottle throttle(clock, 3);
    for (int i = 0; i < 3; ++i) {
        auto d = throttle.admit();
        EXPECT_TRUE(d.write);
        EXPECT_EQ(d.omitted, 0u);
    }
    for (int i = 0; i < 5; ++i) EXPECT_FALSE(throttle.admit().write);
    clock.advance(std::chrono::milliseconds(999));
    EXPECT_FALSE(throttle.admit().write);  // still the same second
    clock.advance(std::chrono::milliseconds(1));
    auto next = throttle.admit();
    EXPECT_TRUE(next.write);
    EXPECT_EQ(next.omitted, 6u);  // the next line written tells how many were left out
    EXPECT_EQ(throttle.admit().omitted, 0u);
}

TEST(LogThrottleTest, ZeroTurnsTheCapOff) {
    testing::FakeClock clock;
    LogThrottle throttle(clock, 0);
    for (int i = 0; i < 1000; ++i) EXPECT_TRUE(throttle.admit().write);
}

TEST(LogThrottleTest, AClockThatMovesBackStartsANewWindow) {
    testing::FakeClock clock;
    clock.advance(std::chrono::seconds(10));
    LogThrottle throttle(clock, 1);
    EXPECT_TRUE(throttle.admit().write);
    EXPECT_FALSE(throttle.admit().write);
    clock.advance(std::chrono::seconds(-5));
    auto d = throttle.admit();
    EXPECT_TRUE(d.write);
    EXPECT_EQ(d.omitted, 1u);
}

}  // namespace
}  // namespace sc
