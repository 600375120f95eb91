#include "auth/lockout.h"

#include <gtest/gtest.h>

#include "fakes/fake_clock.h"

namespace sc::auth {
namespace {

LockoutOptions options() {
    LockoutOptions o;
    o.ipFailures = 5;
    o.userFailures = 3;
    o.window = std::chrono::seconds(60);
    o.lockFor = std::chrono::seconds(300);
    return o;
}

TEST(LockoutTest, EngagesAtTheThresholdAndExpires) {
    testing::FakeClock clock;
    LockoutTracker t(clock, options());
    for (int i = 0; i < 2; ++i) t.recordFailure("1.1.1.1", "acme_api");
    EXPECT_FALSE(t.userLockedUntil("acme_api"));
    t.recordFailure("1.1.1.1", "acme_api");
    auto until = t.userLockedUntil("acme_api");
    ASSERT_TRUE(until);
    EXPECT_EQ(*until, clock.nowMillis() + 300000);
    EXPECT_FALSE(t.ipLockedUntil("1.1.1.1"));  // 3 of 5
    clock.advance(std::chrono::seconds(299));
    EXPECT_TRUE(t.userLockedUntil("acme_api"));
    clock.advance(std::chrono::seconds(1));
    EXPECT_FALSE(t.userLockedUntil("acme_api"));
}

TEST(LockoutTest, FailuresOutsideTheWindowDoNotAddUp) {
    testing::FakeClock clock;
    LockoutTracker t(clock, options());
    t.recordFailure("1.1.1.1", "acme_api");
    t.recordFailure("1.1.1.1", "acme_api");
    clock.advance(std::chrono::seconds(61));
    t.recordFailure("1.1.1.1", "acme_api");
    EXPECT_FALSE(t.userLockedUntil("acme_api"));
}

TEST(LockoutTest, IpAndNameAreCountedApart) {
    testing::FakeClock clock;
    LockoutTracker t(clock, options());
    for (int i = 0; i < 5; ++i) t.recordFailure("6.6.6.6", "name" + std::to_string(i));
    EXPECT_TRUE(t.ipLockedUntil("6.6.6.6"));
    EXPECT_FALSE(t.ipLockedUntil("7.7.7.7"));
    EXPECT_FALSE(t.userLockedUntil("name0"));
}

TEST(LockoutTest, StaysBoundedUnderManyNames) {
    testing::FakeClock clock;
    auto o = options();
    o.maxTracked = 100;
    LockoutTracker t(clock, o);
    for (int i = 0; i < 10000; ++i)
        t.recordFailure("ip" + std::to_string(i), "n" + std::to_string(i));
    // Still answers correctly for a fresh lock after heavy churn.
    for (int i = 0; i < 3; ++i) t.recordFailure("9.9.9.9", "victim_user");
    EXPECT_TRUE(t.userLockedUntil("victim_user"));
}

}  // namespace
}  // namespace sc::auth
