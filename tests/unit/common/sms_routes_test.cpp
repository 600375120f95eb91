#include "common/sms_routes.h"

#include <gtest/gtest.h>

namespace sc {
namespace {

TEST(SmsRoutes, ParsesEveryConnector) {
    auto routes = parseSmsRoutesToml(R"(
listen = "127.0.0.1:1"
[[sms_route]]
name = "carrier-a"
connector = "smpp"
host = "127.0.0.1"
port = 2775
system_id = "acme"
password_file = "/etc/p"
window = 5
rate = 100
prefixes = ["+1", "+44"]
[[sms_route]]
name = "kannel"
connector = "kannel"
url = "http://127.0.0.1:13013/cgi-bin/sendsms"
username = "u"
password_file = "/etc/k"
default = true
[[sms_route]]
name = "web"
connector = "http"
url = "https://sms.example/send"
auth_header_file = "/etc/h"
)");
    ASSERT_TRUE(routes) << routes.error();
    ASSERT_EQ(routes->size(), 3u);
    const auto& a = (*routes)[0];
    EXPECT_EQ(a.connector, SmsRouteConfig::Connector::Smpp);
    EXPECT_EQ(a.port, 2775);
    EXPECT_EQ(a.window, 5);
    EXPECT_EQ(a.rate, 100);
    EXPECT_EQ(a.prefixes, (std::vector<std::string>{"+1", "+44"}));
    EXPECT_FALSE(a.isDefault);
    EXPECT_TRUE((*routes)[1].isDefault);
    EXPECT_EQ((*routes)[2].connector, SmsRouteConfig::Connector::Http);
    EXPECT_EQ((*routes)[0].window, 5);
}

TEST(SmsRoutes, DefaultsAndNoRoutes) {
    auto none = parseSmsRoutesToml("listen = \"x\"\n");
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->empty());
    auto r = parseSmsRoutesToml(
        "[[sms_route]]\nname=\"a\"\nconnector=\"smpp\"\nhost=\"h\"\nsystem_id=\"s\"\n");
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ((*r)[0].window, 10);
    EXPECT_EQ((*r)[0].port, 2775);
    EXPECT_EQ((*r)[0].rate, 0);
    EXPECT_FALSE((*r)[0].reconnectDelay);  // the agent's 10 s and 5 min apply
    EXPECT_FALSE((*r)[0].reconnectMax);
}

TEST(SmsRoutes, ReconnectDelayAndCeilingAreDurations) {
    auto r = parseSmsRoutesToml(
        "[[sms_route]]\nname=\"a\"\nconnector=\"smpp\"\nhost=\"h\"\nsystem_id=\"s\"\n"
        "reconnect_delay = \"1s\"\nreconnect_max = \"2m\"\n");
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ((*r)[0].reconnectDelay, std::chrono::milliseconds(1000));
    EXPECT_EQ((*r)[0].reconnectMax, std::chrono::milliseconds(120000));
    EXPECT_EQ(parseRouteDuration("250ms"), std::chrono::milliseconds(250));
    EXPECT_EQ(parseRouteDuration("1h"), std::chrono::milliseconds(3600000));
    for (const char* bad : {"", "s", "10", "10 s", "-1s", "1.5s", "10sec", "1d", "1234567890s"}) {
        EXPECT_FALSE(parseRouteDuration(bad)) << bad;
    }
}

TEST(SmsRoutes, ClearErrors) {
    const std::string head =
        "[[sms_route]]\nname=\"a\"\nconnector=\"smpp\"\nhost=\"h\"\n"
        "system_id=\"s\"\n";
    struct Case {
        std::string extra;
        std::string expected;
    };
    for (const Case& c : std::vector<Case>{
             {"window = 0\n", "window must be an integer in 1..1000"},
             {"port = 70000\n", "port must be an integer"},
             {"prefixes = [\"1\"]\n", "prefix #1 must be '+'"},
             {"passwd = \"x\"\n", "unknown key 'passwd'"},
             {"rate = -1\n", "rate must be a number"},
             {"system_type = \"0123456789abc\"\n", "system_type must be a string"},
             {"reconnect_delay = \"50ms\"\n",
              "reconnect_delay must be a duration such as \"10s\" (ms, s, m or h) in 100ms..1h"},
             {"reconnect_delay = \"2h\"\n", "reconnect_delay must be a duration"},
             {"reconnect_delay = 10\n", "reconnect_delay must be a duration"},
             {"reconnect_max = \"25h\"\n", "in 100ms..24h"},
             {"reconnect_delay = \"1m\"\nreconnect_max = \"30s\"\n",
              "reconnect_max must be at least reconnect_delay"},
         }) {
        auto r = parseSmsRoutesToml(head + c.extra);
        ASSERT_FALSE(r) << c.extra;
        EXPECT_NE(r.error().find(c.expected), std::string::npos) << r.error();
        EXPECT_NE(r.error().find("sms_route"), std::string::npos) << r.error();
    }
    auto dup = parseSmsRoutesToml(head + head);
    ASSERT_FALSE(dup);
    EXPECT_NE(dup.error().find("second route"), std::string::npos);
    auto noHost = parseSmsRoutesToml("[[sms_route]]\nname=\"a\"\nconnector=\"smpp\"\n");
    ASSERT_FALSE(noHost);
    EXPECT_NE(noHost.error().find("needs host"), std::string::npos);
    auto badName = parseSmsRoutesToml("[[sms_route]]\nname=\"A b\"\nconnector=\"sandbox\"\n");
    ASSERT_FALSE(badName);
    EXPECT_NE(badName.error().find("name must be"), std::string::npos);
    auto notArray = parseSmsRoutesToml("sms_route = 3\n");
    ASSERT_FALSE(notArray);
}

}  // namespace
}  // namespace sc
