#include "auth/sms_signature.h"

#include <gtest/gtest.h>

namespace sc::auth {
namespace {

std::vector<std::pair<std::string, std::string>> vectorParams() {
    return {{"smsUser", "smsu"},
            {"msgType", "0"},
            {"phone", "+6512345678"},
            {"templateId", "7"},
            {"timestamp", "1795827100296"},
            {"vars", R"({"%code%": "1234"})"}};
}

TEST(SmsSignatureTest, MatchesTheCheckedSendCloudVector) {
    EXPECT_EQ(computeSmsSignature("smskey", vectorParams(), SignatureAlgorithm::Sha256),
              "35d81d964da1b3581eddf1878f4db79c474c9398a11650cb9b2e940d30cdbcf3");
}

TEST(SmsSignatureTest, IgnoresSmsKeyAndSignatureAndOrder) {
    auto p = vectorParams();
    std::reverse(p.begin(), p.end());
    p.push_back({"signature", "whatever"});
    p.push_back({"smsKey", "smskey"});
    EXPECT_EQ(computeSmsSignature("smskey", p, SignatureAlgorithm::Sha256),
              "35d81d964da1b3581eddf1878f4db79c474c9398a11650cb9b2e940d30cdbcf3");
}

TEST(SmsSignatureTest, Md5IsThirtyTwoHexAndDiffersByKey) {
    auto md5 = computeSmsSignature("smskey", vectorParams(), SignatureAlgorithm::Md5);
    EXPECT_EQ(md5.size(), 32u);
    EXPECT_NE(md5, computeSmsSignature("otherkey", vectorParams(), SignatureAlgorithm::Md5));
    EXPECT_EQ(signatureAlgorithmFor(md5), SignatureAlgorithm::Md5);
    EXPECT_EQ(signatureAlgorithmFor(std::string(64, 'a')), SignatureAlgorithm::Sha256);
    EXPECT_FALSE(signatureAlgorithmFor("abc"));
}

TEST(SmsSignatureTest, TimestampsInSecondsOrMilliseconds) {
    EXPECT_EQ(timestampMillis("1795827100296").value_or(0), 1795827100296);
    EXPECT_EQ(timestampMillis("1795827100").value_or(0), 1795827100000);
    EXPECT_FALSE(timestampMillis("17958x7100"));
    EXPECT_FALSE(timestampMillis(""));
}

}  // namespace
}  // namespace sc::auth
