// The shaping rules parser (src/delivery/smtp/traffic_shaping.h) and the shipped rules.

#include "delivery/smtp/traffic_shaping.h"

#include <gtest/gtest.h>

#include <fstream>

#include "unit/delivery/smtp_peer.h"

namespace sc::delivery::smtp {
namespace {

SmtpReply reply(int code, const std::string& text) {
    SmtpReply r;
    r.code = code;
    r.lines = {text};
    return r;
}

TEST(TrafficShaping, ParsesSitesDefaultsAndReplyRules) {
    auto rules = parseShapingRules(R"(
[default]
connections = 3
messages_per_connection = 7

[[site]]
name = "big"
mx_suffixes = [".Big.example", "mx.other.example"]
messages_per_minute = 60

[[reply_rule]]
site = "big"
code = 421
text = "[TSS04]"
action = "suspend"
duration = "2h"

[[reply_rule]]
text = "slow down"
action = "throttle"
duration = 90
)",
                                   "rules.toml");
    ASSERT_TRUE(rules) << rules.error();
    EXPECT_EQ(rules->defaults.connections, 3);
    EXPECT_EQ(rules->defaults.messagesPerConnection, 7);
    ASSERT_EQ(rules->sites.size(), 1u);
    // A site starts from [default] and overrides what it names.
    EXPECT_EQ(rules->sites[0].limits.connections, 3);
    EXPECT_EQ(rules->sites[0].limits.messagesPerMinute, 60);

    EXPECT_EQ(rules->siteFor("MTA5.am0.big.example.").name, "big");
    EXPECT_EQ(rules->siteFor("mx.other.example").name, "big");
    // An exact name does not match its subdomains; a suffix does not match itself bare.
    EXPECT_EQ(rules->siteFor("a.mx.other.example").name, "a.mx.other.example");
    EXPECT_EQ(rules->siteFor("big.example").name, "big.example");
    EXPECT_EQ(rules->siteFor("notbig.example").limits.connections, 3);

    const ReplyRule* tss = rules->matchReply("big", reply(421, "4.7.0 [tss04] Messages deferred"));
    ASSERT_NE(tss, nullptr);
    EXPECT_EQ(tss->action, ReplyRule::Action::Suspend);
    EXPECT_EQ(tss->duration, std::chrono::hours(2));
    EXPECT_EQ(tss->line, 11);
    // The code must match too, and the site.
    EXPECT_EQ(rules->matchReply("big", reply(451, "[TSS04]")), nullptr);
    EXPECT_EQ(rules->matchReply("other", reply(421, "[TSS04]")), nullptr);
    const ReplyRule* any = rules->matchReply("anyone", reply(451, "please SLOW DOWN now"));
    ASSERT_NE(any, nullptr);
    EXPECT_EQ(any->action, ReplyRule::Action::Throttle);
    EXPECT_EQ(any->duration, std::chrono::seconds(90));
}

TEST(TrafficShaping, LongestSuffixWins) {
    auto rules = parseShapingRules(R"(
[[site]]
name = "wide"
mx_suffixes = [".example"]
[[site]]
name = "narrow"
mx_suffixes = [".mail.example"]
connections = 2
)",
                                   "x");
    ASSERT_TRUE(rules) << rules.error();
    EXPECT_EQ(rules->siteFor("mx.mail.example").name, "narrow");
    EXPECT_EQ(rules->siteFor("mx.other.example").name, "wide");
}

TEST(TrafficShaping, ErrorsNameTheFileLineAndKey) {
    auto expectError = [](const std::string& text, const std::string& wanted) {
        auto r = parseShapingRules(text, "shaping.toml");
        ASSERT_FALSE(r) << text;
        EXPECT_NE(r.error().find(wanted), std::string::npos) << r.error();
    };
    expectError("[[site]]\nname = \"a\"\nmx_suffixes = [\".a\"]\nconections = 3\n",
                "shaping.toml:4: [[site]]: unknown key 'conections'");
    expectError("\n[default]\nconnections = 0\n",
                "shaping.toml:3: [default]: connections must be an integer in 1..10000");
    expectError("[[site]]\nname = \"a\"\nmx_suffixes = []\n", "shaping.toml:3:");
    expectError(
        "[[site]]\nname = \"a\"\nmx_suffixes = [\".a\"]\n[[site]]\nname = \"b\"\n"
        "mx_suffixes = [\".A\"]\n",
        "shaping.toml:6: [[site]] b: suffix '.a' belongs to two sites");
    expectError("[[reply_rule]]\ntext = \"x\"\naction = \"pause\"\nduration = \"1h\"\n",
                "shaping.toml:1: [[reply_rule]]: action must be");
    expectError("[[reply_rule]]\ntext = \"x\"\naction = \"throttle\"\nduration = \"2w\"\n",
                "shaping.toml:4: [[reply_rule]]: duration: unknown unit 'w'");
    expectError("[[reply_rule]]\ntext = \"x\"\naction = \"throttle\"\nduration = \"30d\"\n",
                "at most 7d");
    expectError(
        "[[reply_rule]]\nsite = \"nobody\"\ncode = 421\naction = \"throttle\"\n"
        "duration = 60\n",
        "site 'nobody' is not a [[site]]");
    expectError("[[reply_rule]]\naction = \"throttle\"\nduration = 60\n", "needs a code, a text");
    expectError("a = [\n", "shaping.toml:");
    expectError("[sites]\n", "unknown key 'sites'");
    expectError(std::string(kMaxShapingFileBytes + 1, '#'), "larger than");
}

TEST(TrafficShaping, LoadsAFileAndRefusesAnOversizedOne) {
    sc::testing::TempDir d;
    auto path = (d.path() / "rules.toml").string();
    std::ofstream(path) << "[default]\nconnections = 4\n";
    auto ok = loadShapingRules(path);
    ASSERT_TRUE(ok) << ok.error();
    EXPECT_EQ(ok->defaults.connections, 4);
    std::ofstream(path) << std::string(kMaxShapingFileBytes + 10, ' ');
    auto big = loadShapingRules(path);
    ASSERT_FALSE(big);
    EXPECT_NE(big.error().find(path), std::string::npos);
    auto missing = loadShapingRules((d.path() / "none.toml").string());
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().find("none.toml"), std::string::npos);
}

TEST(TrafficShaping, ParsesDurations) {
    EXPECT_EQ(*parseShapingDuration("45"), std::chrono::seconds(45));
    EXPECT_EQ(*parseShapingDuration("45s"), std::chrono::seconds(45));
    EXPECT_EQ(*parseShapingDuration("30m"), std::chrono::minutes(30));
    EXPECT_EQ(*parseShapingDuration("1d"), std::chrono::hours(24));
    EXPECT_FALSE(parseShapingDuration(""));
    EXPECT_FALSE(parseShapingDuration("0s"));
    EXPECT_FALSE(parseShapingDuration("h"));
    EXPECT_FALSE(parseShapingDuration("99999999999d"));
}

TEST(TrafficShaping, TheShippedRulesCoverTheBigProviders) {
    auto rules = builtInShapingRules();
    ASSERT_TRUE(rules) << rules.error();
    EXPECT_EQ(rules->defaults.connections, 10);
    EXPECT_EQ(rules->defaults.messagesPerConnection, 100);
    EXPECT_EQ(rules->siteFor("gmail-smtp-in.l.google.com").name, "google");
    EXPECT_EQ(rules->siteFor("acme-com.mail.protection.outlook.com").name, "microsoft");
    EXPECT_EQ(rules->siteFor("hotmail-com.olc.protection.outlook.com").name, "microsoft");
    EXPECT_EQ(rules->siteFor("mta5.am0.yahoodns.net").name, "yahoo");
    EXPECT_EQ(rules->siteFor("mx01.mail.icloud.com").name, "apple");
    EXPECT_EQ(rules->siteFor("mx3.qq.com").name, "qq");
    EXPECT_EQ(rules->siteFor("mail.example.org").name, "mail.example.org");

    const ReplyRule* tss = rules->matchReply(
        "yahoo", reply(421, "4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred"));
    ASSERT_NE(tss, nullptr);
    EXPECT_EQ(tss->action, ReplyRule::Action::Suspend);
    EXPECT_EQ(tss->duration, std::chrono::hours(2));
    const ReplyRule* qq = rules->matchReply("qq", reply(550, "Ip frequency limited [192.0.2.1]"));
    ASSERT_NE(qq, nullptr);
    EXPECT_EQ(qq->action, ReplyRule::Action::Throttle);
    // QQ's real rejections still bounce.
    EXPECT_EQ(rules->matchReply("qq", reply(550, "Mailbox not found")), nullptr);
}

}  // namespace
}  // namespace sc::delivery::smtp
