#include "common/clock.h"

#include <gtest/gtest.h>

#include "fakes/fake_clock.h"
#include "fakes/fixed_random.h"

namespace sc {
namespace {

TEST(ClockFormatTest, Iso8601AndHttpDate) {
    Clock::TimePoint t{Clock::Duration(1795860000000)};  // 2026-11-28T10:00:00Z
    EXPECT_EQ(formatIso8601(t), "2026-11-28T10:00:00Z");
    EXPECT_EQ(formatHttpDate(t), "Sat, 28 Nov 2026 10:00:00 GMT");
}

TEST(FakeClockTest, MovesOnlyWhenTold) {
    testing::FakeClock clock(1000);
    EXPECT_EQ(clock.nowMillis(), 1000);
    clock.advance(std::chrono::minutes(15));
    EXPECT_EQ(clock.nowMillis(), 1000 + 15 * 60 * 1000);
}

TEST(RandomTest, UniformStaysInRangeAndCoversIt) {
    testing::FixedRandom r;
    bool seen[7] = {};
    for (int i = 0; i < 1000; ++i) {
        auto v = r.uniform(7);
        ASSERT_LT(v, 7u);
        seen[v] = true;
    }
    for (bool s : seen) EXPECT_TRUE(s);
    EXPECT_EQ(r.hex(4).size(), 8u);
}

}  // namespace
}  // namespace sc
