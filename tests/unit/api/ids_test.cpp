#include "api/ids.h"

#include <gtest/gtest.h>

#include <set>

#include "fakes/fake_clock.h"
#include "fakes/fixed_random.h"

namespace sc::api {
namespace {

TEST(IdGeneratorTest, SendCloudShapeAndUnique) {
    testing::FakeClock clock(1795827000000);
    testing::FixedRandom random;
    IdGenerator ids(clock, random, "mx.acme.io");
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        auto id = ids.nextMessageId();
        EXPECT_EQ(id.rfind("1795827000000_", 0), 0u) << id;
        EXPECT_NE(id.find(".sc-mx-acme-io"), std::string::npos) << id;
        EXPECT_TRUE(seen.insert(id).second) << "duplicate " << id;
    }
    EXPECT_EQ(IdGenerator::recipientId("M", 2, "ben@x.io"), "M2$ben@x.io");
}

}  // namespace
}  // namespace sc::api
