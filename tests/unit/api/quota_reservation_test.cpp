// QuotaReservation: what a send holds of its user's daily quota and usage until the store has
// its message, and gives back when it never gets there.

#include "api/quota_reservation.h"

#include <gtest/gtest.h>

#include "api_store_fixture.h"

namespace sc::api {
namespace {

class QuotaReservationTest : public testing::ApiStoreFixture {
protected:
    QuotaReservationTest() : quota_(clock_, nullptr) {}

    std::optional<QuotaReservation> reserve(int64_t count) {
        return QuotaReservation::reserve(quota_, recorder_, {emailUserId_, accountId_, "acme_api"},
                                         kDailyQuota, count, clock_.nowMillis());
    }

    // A send that reserves and then stops early (a refusal after the reservation).
    bool sendThatStopsEarly(int64_t count) {
        auto reservation = reserve(count);
        if (!reservation) return false;
        return true;  // not committed: the destructor gives the recipients back
    }

    static constexpr int64_t kDailyQuota = 5;
    policy::DailyQuota quota_;
};

TEST_F(QuotaReservationTest, AnEarlyReturnGivesTheRecipientsBack) {
    ASSERT_TRUE(sendThatStopsEarly(5));
    auto again = reserve(5);
    ASSERT_TRUE(again) << "the quota was not released";
    const store::UsageRow counted = usage("acme_api");
    EXPECT_EQ(counted.requests, 2);
    EXPECT_EQ(counted.recipients, 5);  // the first send's 5 taken back, the second's still held
}

TEST_F(QuotaReservationTest, ACommittedReservationKeepsItsRecipients) {
    {
        auto reservation = reserve(3);
        ASSERT_TRUE(reservation);
        reservation->commit();
    }
    EXPECT_FALSE(reserve(3)) << "3 + 3 recipients passed a quota of 5";
    auto rest = reserve(2);
    EXPECT_TRUE(rest);
    const store::UsageRow counted = usage("acme_api");
    EXPECT_EQ(counted.recipients, 5);
}

TEST_F(QuotaReservationTest, ARefusedReservationCountsNothing) {
    EXPECT_FALSE(reserve(6));
    const store::UsageRow counted = usage("acme_api");
    EXPECT_EQ(counted.requests, 0);
    EXPECT_EQ(counted.recipients, 0);
}

// A reservation moved along (into the store's callback) gives its recipients back once, from
// wherever it ends, and an explicit refund is not repeated by the destructor.
TEST_F(QuotaReservationTest, TheRefundHappensOnceWhereverTheReservationEnds) {
    auto kept = reserve(2);
    ASSERT_TRUE(kept);
    kept->commit();
    {
        auto moved = reserve(3);
        ASSERT_TRUE(moved);
        QuotaReservation last = std::move(*moved);
        last.refund();
        EXPECT_EQ(last.count(), 3);
    }
    auto third = reserve(3);
    EXPECT_TRUE(third);        // 2 + 3: the refund made room once
    EXPECT_FALSE(reserve(1));  // twice would have left room for this one
    EXPECT_EQ(usage("acme_api").recipients, 5);
}

}  // namespace
}  // namespace sc::api
