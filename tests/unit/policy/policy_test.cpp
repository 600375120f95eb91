#include <gtest/gtest.h>

#include "fakes/fake_clock.h"
#include "policy/cidr.h"
#include "policy/daily_quota.h"
#include "policy/rate_limiter.h"

namespace sc::policy {
namespace {

TEST(CidrTest, Ipv4RangesAndBareAddresses) {
    EXPECT_TRUE(ipAllowed({"10.0.0.0/8"}, "10.200.3.4"));
    EXPECT_FALSE(ipAllowed({"10.0.0.0/8"}, "11.0.0.1"));
    EXPECT_TRUE(ipAllowed({"192.168.1.7"}, "192.168.1.7"));
    EXPECT_FALSE(ipAllowed({"192.168.1.7"}, "192.168.1.8"));
    EXPECT_TRUE(ipAllowed({"172.16.0.0/12"}, "172.31.255.255"));
    EXPECT_FALSE(ipAllowed({"172.16.0.0/12"}, "172.32.0.0"));
    EXPECT_TRUE(ipAllowed({"0.0.0.0/0"}, "8.8.8.8"));
}

TEST(CidrTest, Ipv6AndMappedAddresses) {
    EXPECT_TRUE(ipAllowed({"2001:db8::/32"}, "2001:db8:1::5"));
    EXPECT_FALSE(ipAllowed({"2001:db8::/32"}, "2001:db9::1"));
    EXPECT_TRUE(ipAllowed({"::1"}, "::1"));
    EXPECT_TRUE(ipAllowed({"127.0.0.0/8"}, "::ffff:127.0.0.1"));
    EXPECT_FALSE(ipAllowed({"2001:db8::/32"}, "10.0.0.1"));
}

TEST(CidrTest, EmptyListAllowsAndGarbageNeverMatches) {
    EXPECT_TRUE(ipAllowed({}, "1.2.3.4"));
    EXPECT_FALSE(ipAllowed({"not-a-cidr"}, "1.2.3.4"));
    EXPECT_FALSE(validAllowlistEntry("10.0.0.0/33"));
    EXPECT_FALSE(validAllowlistEntry("10.0.0.0/"));
    EXPECT_FALSE(validAllowlistEntry("::/129"));
    EXPECT_TRUE(validAllowlistEntry("::/0"));
    EXPECT_FALSE(ipAllowed({"10.0.0.0/8"}, "garbage"));
}

TEST(RateLimiterTest, BurstsToTheMinuteBudgetThenRefills) {
    testing::FakeClock clock;
    RateLimiter limiter(clock);
    for (int i = 0; i < 60; ++i) ASSERT_EQ(limiter.tryAcquire(1, 60), 0) << i;
    int64_t wait = limiter.tryAcquire(1, 60);
    EXPECT_GT(wait, 0);
    EXPECT_LE(wait, 1000);
    EXPECT_EQ(limiter.tryAcquire(2, 60), 0);  // other users are not affected
    clock.advance(std::chrono::milliseconds(wait));
    EXPECT_EQ(limiter.tryAcquire(1, 60), 0);
    EXPECT_GT(limiter.tryAcquire(1, 60), 0);
    EXPECT_EQ(limiter.tryAcquire(1, 0), 0);  // unlimited
}

TEST(DailyQuotaTest, CountsPerUtcDaySeededFromTheStore) {
    testing::FakeClock clock(1795824000000);  // 2026-11-28T00:00:00Z
    int seeds = 0;
    DailyQuota quota(clock, [&](int64_t, int64_t dayStart, int64_t) {
        ++seeds;
        EXPECT_EQ(dayStart, 1795824000000);
        return int64_t{7};
    });
    EXPECT_TRUE(quota.tryReserve(1, 10, 3));
    EXPECT_FALSE(quota.tryReserve(1, 10, 1));
    quota.release(1, 2);
    EXPECT_TRUE(quota.tryReserve(1, 10, 2));
    EXPECT_EQ(seeds, 1);
    EXPECT_TRUE(quota.tryReserve(1, 0, 1000));  // unlimited
    clock.advance(std::chrono::hours(24));
    DailyQuota fresh(clock, nullptr);
    EXPECT_TRUE(fresh.tryReserve(1, 10, 10));
    EXPECT_FALSE(fresh.tryReserve(1, 10, 1));
}

}  // namespace
}  // namespace sc::policy
