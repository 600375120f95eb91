#include "http/access_log.h"

#include <gtest/gtest.h>

namespace sc::http {
namespace {

TEST(RedactTargetTest, MasksSecretParametersWhereverTheyAppear) {
    EXPECT_EQ(redactTarget("/email/send?apiUser=acme_api&apiKey=SECRET1&to=a@b.io"),
              "/email/send?apiUser=acme_api&apiKey=***&to=a@b.io");
    EXPECT_EQ(redactTarget("/smsapi/send?smsKey=SECRET2&smsUser=u"),
              "/smsapi/send?smsKey=***&smsUser=u");
    EXPECT_EQ(redactTarget("/x?api_key=S3&password=S4&new_password=S5&signature=S6"),
              "/x?api_key=***&password=***&new_password=***&signature=***");
}

TEST(RedactTargetTest, DecodesNamesBeforeJudgingThem) {
    std::string out = redactTarget("/email/send?api%4Bey=SECRET&api%4bey=SECRET2");
    EXPECT_EQ(out.find("SECRET"), std::string::npos) << out;
}

TEST(RedactTargetTest, LeavesOrdinaryTargetsAlone) {
    EXPECT_EQ(redactTarget("/healthz"), "/healthz");
    EXPECT_EQ(redactTarget("/email/send?to=a@b.io&subject=Hi"), "/email/send?to=a@b.io&subject=Hi");
    EXPECT_EQ(redactTarget("/email/send?"), "/email/send?");
}

TEST(RedactTargetTest, KeyShapedValuesAreMaskedUnderAnyName) {
    std::string out = redactTarget(
        "/email/"
        "send?apiUser=DmEYMo40rlUzJ3HFKqp2Py9JyCuQejtg&apiKey=acme_api&to=%"
        "20Q3tGdI67xSxedvC76zUs9q4nBqptUwuz");
    EXPECT_EQ(out.find("DmEYMo40"), std::string::npos) << out;
    EXPECT_EQ(out.find("Q3tGdI67"), std::string::npos) << out;
    EXPECT_NE(out.find("apiUser=***"), std::string::npos) << out;
    // Ordinary long values stay readable.
    EXPECT_EQ(redactTarget("/x?subject=averyveryverylongsubjectwithoutcapitals12"),
              "/x?subject=averyveryverylongsubjectwithoutcapitals12");
}

TEST(RedactTargetTest, AValuelessSecretNameIsMaskedToo) {
    EXPECT_EQ(redactTarget("/x?apiKey&a=1"), "/x?***&a=1");
}

}  // namespace
}  // namespace sc::http
