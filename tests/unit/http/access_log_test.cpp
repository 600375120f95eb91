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

TEST(RedactTargetTest, AValuelessSecretNameIsMaskedToo) {
    EXPECT_EQ(redactTarget("/x?apiKey&a=1"), "/x?***&a=1");
}

}  // namespace
}  // namespace sc::http
