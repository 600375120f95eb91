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
    EXPECT_EQ(IdGenerator::recipientId("1795827000000_7_99.sc-h", 12, "a@b.io"),
              "1795827000000_7_99.sc-h12$a@b.io");
}

TEST(IdGeneratorTest, EachPartInItsPlace) {
    testing::FakeClock clock(1795827000123);
    testing::FixedRandom idRandom(7), sameRandom(7);
    IdGenerator ids(clock, idRandom, "mx_1.acme.io");
    for (uint64_t seq = 0; seq < 3; ++seq) {
        const uint32_t rnd = sameRandom.uniform(100000000);
        EXPECT_EQ(ids.nextMessageId(), "1795827000123_" + std::to_string(seq) + "_" +
                                           std::to_string(rnd) + ".sc-mx-1-acme-io");
    }
}

}  // namespace
}  // namespace sc::api

#include "api/api_error.h"

namespace sc::api {
namespace {

TEST(EnvelopeTest, SuccessBodyIsTheDocumentedEnvelope) {
    auto r = successResponse(nlohmann::json{{"emailIdList", {"a", "b"}}});
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, R"({"result":true,"statusCode":200,"message":"request was successful",)"
                      R"("info":{"emailIdList":["a","b"]}})");
    auto parsed = nlohmann::json::parse(r.body);
    EXPECT_EQ(parsed["info"]["emailIdList"][1], "b");
    auto v1 = successResponse(nlohmann::json{{"emailIdList", {"a"}}}, ResponseShape::V1);
    EXPECT_EQ(v1.body, R"({"message":"success","email_id_list":["a"]})");
}

}  // namespace
}  // namespace sc::api
