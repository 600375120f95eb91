#include "common/ip_range.h"

#include <gtest/gtest.h>

#include <string>

namespace sc::common {
namespace {

IpAddress ip(const std::string& text) {
    auto parsed = IpAddress::parse(text);
    EXPECT_TRUE(parsed.has_value()) << text;
    return parsed.value_or(IpAddress{});
}

TEST(IpAddressTest, ReadsV4AndV6AndTakesMappedAddressesAsV4) {
    EXPECT_TRUE(ip("10.1.2.3").v4);
    EXPECT_FALSE(ip("2001:db8::1").v4);
    EXPECT_EQ(ip("::ffff:10.1.2.3"), ip("10.1.2.3"));
    EXPECT_EQ(ip("::ffff:10.1.2.3").toString(), "10.1.2.3");
    EXPECT_EQ(ip("2001:DB8::1").toString(), "2001:db8::1");
}

TEST(IpAddressTest, RefusesWhatIsNotOneAddress) {
    for (const char* text : {"", "10.1.2", "10.1.2.3/8", " 10.1.2.3", "example.com", "1.2.3.256",
                             "::ffff:10.1.2.3::"}) {
        EXPECT_FALSE(IpAddress::parse(text).has_value()) << text;
    }
    EXPECT_FALSE(IpAddress::parse(std::string(IpAddress::kMaxTextBytes + 1, '1')).has_value());
}

TEST(IpRangeTest, PrefixesBareAddressesAndClearedHostBits) {
    auto r = IpRange::parse("10.1.2.3/8");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->network, ip("10.0.0.0"));
    EXPECT_TRUE(r->contains(ip("10.255.0.1")));
    EXPECT_FALSE(r->contains(ip("11.0.0.1")));
    auto bare = IpRange::parse("192.0.2.7");
    ASSERT_TRUE(bare.ok());
    EXPECT_TRUE(bare->contains(ip("192.0.2.7")));
    EXPECT_FALSE(bare->contains(ip("192.0.2.8")));
    auto odd = IpRange::parse("2001:db8::/33");
    ASSERT_TRUE(odd.ok());
    EXPECT_TRUE(odd->contains(ip("2001:db8:7fff::1")));
    EXPECT_FALSE(odd->contains(ip("2001:db8:8000::1")));
    // A v4 range never holds a v6 address, nor the reverse; ::/0 holds every v6 address.
    EXPECT_FALSE(r->contains(ip("::a01:203")));
    auto all6 = IpRange::parse("::/0");
    ASSERT_TRUE(all6.ok());
    EXPECT_TRUE(all6->contains(ip("2001:db8::1")));
    EXPECT_FALSE(all6->contains(ip("10.0.0.1")));
}

TEST(IpRangeTest, PrefixLengthErrorsSayWhatIsWrong) {
    for (const char* text : {"10.0.0.0/", "10.0.0.0/x", "10.0.0.0/0008", "10.0.0.0/-1"}) {
        auto r = IpRange::parse(text);
        ASSERT_FALSE(r.ok()) << text;
        EXPECT_NE(r.error().find("a number 0-32"), std::string::npos) << r.error();
    }
    auto big = IpRange::parse("::/129");
    ASSERT_FALSE(big.ok());
    EXPECT_NE(big.error().find("at most 128"), std::string::npos) << big.error();
    auto notIp = IpRange::parse("example.com/8");
    ASSERT_FALSE(notIp.ok());
    EXPECT_NE(notIp.error().find("not an IPv4 or IPv6"), std::string::npos);
    // A long run of digits is refused, not summed into an overflow.
    EXPECT_FALSE(IpRange::parse("10.0.0.0/" + std::string(40, '9')).ok());
}

}  // namespace
}  // namespace sc::common
