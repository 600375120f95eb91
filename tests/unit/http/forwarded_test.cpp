#include "http/forwarded.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace sc::http {
namespace {

using Fields = std::vector<std::string_view>;

TrustedProxies proxies(std::string_view text) {
    auto p = TrustedProxies::parse(text);
    EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error());
    return p.ok() ? std::move(p).value() : TrustedProxies{};
}

bool trusted(const TrustedProxies& p, std::string_view ip) {
    auto parsed = common::IpAddress::parse(ip);
    EXPECT_TRUE(parsed) << ip;
    return parsed && p.contains(*parsed);
}

TEST(HttpTrustedProxies, ParsesV4AndV6RangesAndBareAddresses) {
    auto p = proxies("10.0.0.0/8, 192.168.1.7 ,2001:db8::/32,::1");
    EXPECT_TRUE(trusted(p, "10.255.0.1"));
    EXPECT_FALSE(trusted(p, "11.0.0.1"));
    EXPECT_TRUE(trusted(p, "192.168.1.7"));
    EXPECT_FALSE(trusted(p, "192.168.1.8"));
    EXPECT_TRUE(trusted(p, "2001:db8:ffff::1"));
    EXPECT_FALSE(trusted(p, "2001:db9::1"));
    EXPECT_TRUE(trusted(p, "::1"));
    EXPECT_FALSE(trusted(p, "::2"));
    // A dual-stack listener reports IPv4 peers as v4-mapped IPv6.
    EXPECT_TRUE(trusted(p, "::ffff:10.1.2.3"));
}

TEST(HttpTrustedProxies, PrefixesOffByteBoundariesAndHostBitsCleared) {
    auto p = proxies("172.16.0.0/12,10.1.2.3/8,0.0.0.0/0");
    EXPECT_TRUE(trusted(p, "172.31.255.255"));
    EXPECT_TRUE(trusted(p, "10.200.0.1"));    // 10.1.2.3/8 means 10.0.0.0/8
    EXPECT_TRUE(trusted(p, "203.0.113.9"));   // /0 holds every IPv4 address...
    EXPECT_FALSE(trusted(p, "2001:db8::1"));  // ...and no IPv6 one
    auto q = proxies("172.16.0.0/12");
    EXPECT_FALSE(trusted(q, "172.32.0.0"));
    EXPECT_FALSE(trusted(q, "172.15.255.255"));
}

TEST(HttpTrustedProxies, EmptyTextTrustsNobody) {
    auto p = proxies("");
    EXPECT_TRUE(p.empty());
    EXPECT_FALSE(trusted(p, "127.0.0.1"));
}

TEST(HttpTrustedProxies, RefusesWhatIsNotARangeNamingTheEntry) {
    for (std::string_view bad :
         {"10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8x", "10.0.0",
          "example.com", "10.0.0.0/0008", "10.0.0.1,,10.0.0.2", "1.2.3.4/8/8", "fe80::1%eth0"}) {
        auto p = TrustedProxies::parse(bad);
        ASSERT_FALSE(p.ok()) << bad;
        EXPECT_FALSE(p.error().empty());
    }
    auto p = TrustedProxies::parse("10.0.0.0/8,not-an-ip");
    ASSERT_FALSE(p.ok());
    EXPECT_NE(p.error().find("'not-an-ip'"), std::string::npos) << p.error();
}

TEST(HttpTrustedProxies, LimitsTheNumberOfRangesAndTheText) {
    std::string many;
    for (size_t i = 0; i <= TrustedProxies::kMaxRanges; ++i) {
        many += "10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ",";
    }
    auto p = TrustedProxies::parse(many);
    ASSERT_FALSE(p.ok());
    EXPECT_NE(p.error().find("ranges"), std::string::npos) << p.error();
    auto q = TrustedProxies::parse(std::string(TrustedProxies::kMaxTextBytes + 1, ' '));
    ASSERT_FALSE(q.ok());
    // A long bad entry is quoted in part only.
    auto r = TrustedProxies::parse(std::string(5000, 'x'));
    ASSERT_FALSE(r.ok());
    EXPECT_LT(r.error().size(), 200u);
}

TEST(HttpForwarded, TakesTheRightmostUntrustedHop) {
    auto p = proxies("10.0.0.0/8");
    // client, spoofed by the client itself, then what our proxies appended.
    auto r = resolveForwarded(p, "10.0.0.1", Fields{"6.6.6.6, 203.0.113.7, 10.0.0.9"}, {});
    EXPECT_EQ(r.clientIp, "203.0.113.7");
    EXPECT_FALSE(r.malformed);
    EXPECT_FALSE(r.secure);
}

TEST(HttpForwarded, RepeatedFieldsAreOneList) {
    auto p = proxies("10.0.0.0/8");
    auto r = resolveForwarded(p, "10.0.0.1", Fields{"198.51.100.1", "203.0.113.7,10.0.0.2"}, {});
    EXPECT_EQ(r.clientIp, "203.0.113.7");
    auto s = resolveForwarded(p, "10.0.0.1", Fields{"198.51.100.1", "10.0.0.2"}, {});
    EXPECT_EQ(s.clientIp, "198.51.100.1");
}

TEST(HttpForwarded, EveryHopTrustedGivesTheLeftmost) {
    auto p = proxies("10.0.0.0/8");
    auto r = resolveForwarded(p, "10.0.0.1", Fields{"10.0.0.3, 10.0.0.2"}, {});
    EXPECT_EQ(r.clientIp, "10.0.0.3");
}

TEST(HttpForwarded, NoHeaderKeepsThePeer) {
    auto p = proxies("10.0.0.0/8");
    auto r = resolveForwarded(p, "10.0.0.1", {}, {});
    EXPECT_EQ(r.clientIp, "10.0.0.1");
    EXPECT_FALSE(r.malformed);
}

TEST(HttpForwarded, IPv6AndMappedAddresses) {
    auto p = proxies("2001:db8::/32");
    auto r = resolveForwarded(p, "2001:db8::1", Fields{"2001:DB8:0:0::5, ::ffff:203.0.113.7"}, {});
    EXPECT_EQ(r.clientIp, "203.0.113.7");
    auto s = resolveForwarded(p, "2001:db8::1", Fields{"2a00:1450::1"}, {});
    EXPECT_EQ(s.clientIp, "2a00:1450::1");
}

TEST(HttpForwarded, MalformedHopBeforeTheClientGivesThePeer) {
    auto p = proxies("10.0.0.0/8");
    for (std::string_view bad : {"203.0.113.7:443", "unknown", "", "203.0.113.7,", "[::1]",
                                 "1.2.3.4 5.6.7.8", "203.0.113.7\r\nX: y"}) {
        auto r = resolveForwarded(p, "10.0.0.1", Fields{bad}, {});
        EXPECT_TRUE(r.malformed) << bad;
        EXPECT_EQ(r.clientIp, "10.0.0.1") << bad;
    }
    // Left of the client, the header is the client's to write: not even read.
    auto r = resolveForwarded(p, "10.0.0.1", Fields{"garbage!, 203.0.113.7"}, {});
    EXPECT_FALSE(r.malformed);
    EXPECT_EQ(r.clientIp, "203.0.113.7");
}

TEST(HttpForwarded, TooManyTrustedHopsIsMalformed) {
    auto p = proxies("10.0.0.0/8");
    std::string chain = "203.0.113.7";
    for (size_t i = 0; i < kMaxForwardedHops; ++i) chain += ", 10.0.0.2";
    auto r = resolveForwarded(p, "10.0.0.1", Fields{chain}, {});
    EXPECT_TRUE(r.malformed);
    EXPECT_EQ(r.clientIp, "10.0.0.1");
    std::string fits = "203.0.113.7";
    for (size_t i = 0; i + 1 < kMaxForwardedHops; ++i) fits += ", 10.0.0.2";
    EXPECT_EQ(resolveForwarded(p, "10.0.0.1", Fields{fits}, {}).clientIp, "203.0.113.7");
}

TEST(HttpForwarded, ProtoHttpsFromTheNearestProxy) {
    auto p = proxies("10.0.0.0/8");
    EXPECT_TRUE(resolveForwarded(p, "10.0.0.1", {}, Fields{"https"}).secure);
    EXPECT_TRUE(resolveForwarded(p, "10.0.0.1", {}, Fields{" HTTPS "}).secure);
    EXPECT_FALSE(resolveForwarded(p, "10.0.0.1", {}, Fields{"http"}).secure);
    EXPECT_FALSE(resolveForwarded(p, "10.0.0.1", {}, Fields{"https, http"}).secure);
    EXPECT_TRUE(resolveForwarded(p, "10.0.0.1", {}, Fields{"http", "https"}).secure);
    EXPECT_FALSE(resolveForwarded(p, "10.0.0.1", {}, Fields{"httpsx"}).secure);
}

}  // namespace
}  // namespace sc::http
