#include "http/access_log.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace sc::http {
namespace {

constexpr std::string_view kKey = "Q3tGdI67xSxedvC76zUs9q4nBqptUwuz";

// The key as it may reach us percent-encoded, whole or character by character.
std::string percentEncodeAll(std::string_view s) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        out.push_back('%');
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
    }
    return out;
}

void expectNoKey(std::string_view target, std::string_view key = kKey) {
    std::string out = redactTarget(target);
    EXPECT_EQ(out.find(key), std::string::npos) << target << " -> " << out;
    EXPECT_EQ(out.find(percentEncodeAll(key)), std::string::npos) << target << " -> " << out;
    // Any 12 characters of the key in a row would be a leak too.
    for (size_t i = 0; i + 12 <= key.size(); ++i) {
        ASSERT_EQ(out.find(key.substr(i, 12)), std::string::npos) << target << " -> " << out;
    }
}

TEST(RedactTargetTest, MasksSecretParametersWhereverTheyAppear) {
    EXPECT_EQ(redactTarget("/email/send?apiUser=acme_api&apiKey=SECRET1&to=a@b.io"),
              "/email/send?apiUser=***&apiKey=***&to=***");
    EXPECT_EQ(redactTarget("/smsapi/send?smsKey=SECRET2&smsUser=u"),
              "/smsapi/send?smsKey=***&smsUser=***");
    std::string out = redactTarget("/x?api_key=S3&password=S4&new_password=S5&signature=S6");
    for (const char* s : {"S3", "S4", "S5", "S6"}) EXPECT_EQ(out.find(s), std::string::npos) << out;
}

TEST(RedactTargetTest, DecodesNamesBeforeJudgingThem) {
    std::string out = redactTarget("/email/send?api%4Bey=SECRET&api%4bey=SECRET2");
    EXPECT_EQ(out.find("SECRET"), std::string::npos) << out;
}

TEST(RedactTargetTest, KeepsKnownRoutesAndParameterNames) {
    EXPECT_EQ(redactTarget("/healthz"), "/healthz");
    EXPECT_EQ(redactTarget("/email/send?to=a@b.io&subject=Hi"), "/email/send?to=***&subject=***");
    EXPECT_EQ(redactTarget("/email/send?"), "/email/send?");
    EXPECT_EQ(redactTarget("/console/api/sms-templates/12"), "/console/api/sms-templates/12");
    EXPECT_EQ(
        redactTarget("/sms/dlr/kannel/eu_1?token=Q3tGdI67xSxedvC76zUs9q4nBqptUwuz&id=m1&type=1"),
        "/sms/dlr/kannel/eu_1?token=***&id=***&type=***");
    EXPECT_EQ(redactTarget("/webapi/mail.send.json?respEmailId=&x_smtpapi"),
              "/webapi/mail.send.json?respEmailId=&x_smtpapi");
}

TEST(RedactTargetTest, KeyShapedValuesAreMaskedUnderAnyName) {
    std::string out = redactTarget(
        "/email/"
        "send?apiUser=DmEYMo40rlUzJ3HFKqp2Py9JyCuQejtg&apiKey=acme_api&to=%"
        "20Q3tGdI67xSxedvC76zUs9q4nBqptUwuz");
    EXPECT_EQ(out.find("DmEYMo40"), std::string::npos) << out;
    EXPECT_EQ(out.find("Q3tGdI67"), std::string::npos) << out;
    EXPECT_NE(out.find("apiUser=***"), std::string::npos) << out;
}

TEST(RedactTargetTest, AValuelessSecretNameIsKeptAsAName) {
    EXPECT_EQ(redactTarget("/x?apiKey&a=1"), "/x?apiKey&*=***");
}

// The shapes that leaked before (issue #11).
TEST(RedactTargetTest, TheShapesThatLeakedKeys) {
    const std::string key(kKey);
    expectNoKey("/email/send?apiUser=acme_mail:" + key + "&to=a@b.io");
    expectNoKey("/email/send?x=1?apiKey=" + key);
    expectNoKey("/email/send?x=1;apiKey=" + key);
    expectNoKey("/email/send;apiKey=" + key);
    expectNoKey("/email/send/" + key);
    expectNoKey("/email/send?to=me%40x%3FapiKey%3D" + key);
    expectNoKey("/email/send?subject=Bearer%20" + key);
    expectNoKey("/email/send?" + key + "=1");
    expectNoKey("/email/send?" + percentEncodeAll(key));
    expectNoKey("/" + percentEncodeAll(key) + "/send");
}

TEST(RedactTargetTest, UnknownPathSegmentsAreReplaced) {
    EXPECT_EQ(redactTarget("/email/send/Q3tGdI67xSxedvC76zUs9q4nBqptUwuz"), "/email/send/*");
    EXPECT_EQ(redactTarget("/a%20b/send"), "/*/send");
    EXPECT_EQ(redactTarget("/email/send;apiKey=x"), "/email/*");
}

// Property: whatever the shape of the request, a key placed anywhere in it never reaches the
// log, neither as it is nor percent-encoded nor in any 12-character piece.
TEST(RedactTargetTest, RandomShapesNeverLogTheKey) {
    std::mt19937_64 rng(20261205);
    auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
    const std::string alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    const std::vector<std::string> seps = {"?",   "&",   ";",   ":",   "/",   "=",   "#", ",", " ",
                                           "%20", "%3F", "%26", "%3D", "%2F", "%3B", "+", ""};
    const std::vector<std::string> words = {
        "email",  "send", "smsapi",   "apiUser", "apiKey", "smsKey",  "to",  "subject",
        "x",      "1",    "acme_api", "Bearer",  "token",  "console", "api", "mail.send.json",
        "me%40x", "%2B1", "password", "v"};
    auto randomKey = [&] {
        std::string k;
        for (int i = 0; i < 32; ++i) k.push_back(alnum[pick(alnum.size())]);
        return k;
    };
    for (int round = 0; round < 5000; ++round) {
        const std::string key = randomKey();
        // How the key is written into the target.
        std::string written;
        switch (pick(4)) {
            case 0:
                written = key;
                break;
            case 1:
                written = percentEncodeAll(key);
                break;
            case 2:  // partly encoded
                for (char c : key) {
                    if (pick(2) == 0) {
                        written.push_back(c);
                    } else {
                        written += percentEncodeAll(std::string_view(&c, 1));
                    }
                }
                break;
            default:
                written = "Bearer%20" + key;
                break;
        }
        std::vector<std::string> parts;
        const size_t n = 1 + pick(8);
        for (size_t i = 0; i < n; ++i) parts.push_back(words[pick(words.size())]);
        parts.insert(parts.begin() + static_cast<std::ptrdiff_t>(pick(parts.size() + 1)), written);
        std::string target = "/";
        for (const auto& p : parts) target += p + seps[pick(seps.size())];
        expectNoKey(target, key);
        if (::testing::Test::HasFailure()) break;
    }
}

TEST(AccessLogMethodTest, UnknownMethodsAreNotLoggedVerbatim) {
    EXPECT_EQ(loggedMethod("GET"), "GET");
    EXPECT_EQ(loggedMethod("PATCH"), "PATCH");
    EXPECT_EQ(loggedMethod(kKey), "OTHER");
}

}  // namespace
}  // namespace sc::http
