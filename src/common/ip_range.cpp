#include "common/ip_range.h"

#include <arpa/inet.h>

#include <cstring>

namespace sc::common {

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
    if (text.empty() || text.size() > kMaxTextBytes) return std::nullopt;
    char buf[kMaxTextBytes + 1];
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    IpAddress ip;
    if (::inet_pton(AF_INET, buf, ip.bytes.data()) == 1) {
        ip.v4 = true;
        return ip;
    }
    if (::inet_pton(AF_INET6, buf, ip.bytes.data()) != 1) return std::nullopt;
    static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(ip.bytes.data(), kMapped, sizeof kMapped) == 0) {
        IpAddress v4;
        v4.v4 = true;
        std::memcpy(v4.bytes.data(), ip.bytes.data() + 12, 4);
        return v4;
    }
    return ip;
}

std::string IpAddress::toString() const {
    char buf[INET6_ADDRSTRLEN] = {};
    ::inet_ntop(v4 ? AF_INET : AF_INET6, bytes.data(), buf, sizeof buf);
    return buf;
}

Result<IpRange, std::string> IpRange::parse(std::string_view text) {
    const size_t slash = text.find('/');
    auto ip = IpAddress::parse(text.substr(0, slash));
    if (!ip) return fail(std::string("not an IPv4 or IPv6 address or CIDR"));
    const int maxPrefix = ip->v4 ? 32 : 128;
    int prefix = maxPrefix;
    if (slash != std::string_view::npos) {
        const std::string_view p = text.substr(slash + 1);
        if (p.empty() || p.size() > 3 ||
            p.find_first_not_of("0123456789") != std::string_view::npos) {
            return fail("the prefix length must be a number 0-" + std::to_string(maxPrefix));
        }
        prefix = 0;
        for (char c : p) prefix = prefix * 10 + (c - '0');
        if (prefix > maxPrefix) {
            return fail("the prefix length must be at most " + std::to_string(maxPrefix));
        }
    }
    for (int bit = prefix; bit < maxPrefix; ++bit) {
        ip->bytes[static_cast<size_t>(bit / 8)] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
    }
    return IpRange{*ip, prefix};
}

bool IpRange::contains(const IpAddress& ip) const {
    if (ip.v4 != network.v4) return false;
    const size_t full = static_cast<size_t>(prefix / 8);
    const int rest = prefix % 8;
    if (std::memcmp(ip.bytes.data(), network.bytes.data(), full) != 0) return false;
    if (rest == 0) return true;
    const auto mask = static_cast<uint8_t>(0xff << (8 - rest));
    return (ip.bytes[full] & mask) == network.bytes[full];
}

}  // namespace sc::common
