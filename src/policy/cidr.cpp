#include "policy/cidr.h"

#include <arpa/inet.h>

#include <cstring>

namespace sc::policy {

std::optional<IpAddress> parseIp(std::string_view text) {
    if (text.empty() || text.size() > 45) return std::nullopt;
    std::string s(text);
    IpAddress ip;
    if (inet_pton(AF_INET, s.c_str(), ip.bytes.data()) == 1) {
        ip.v4 = true;
        return ip;
    }
    if (inet_pton(AF_INET6, s.c_str(), ip.bytes.data()) == 1) {
        static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (std::memcmp(ip.bytes.data(), kMapped, 12) == 0) {
            IpAddress v4;
            v4.v4 = true;
            std::memcpy(v4.bytes.data(), ip.bytes.data() + 12, 4);
            return v4;
        }
        return ip;
    }
    return std::nullopt;
}

std::optional<Cidr> Cidr::parse(std::string_view text) {
    auto slash = text.find('/');
    auto ip = parseIp(text.substr(0, slash));
    if (!ip) return std::nullopt;
    const int maxPrefix = ip->v4 ? 32 : 128;
    int prefix = maxPrefix;
    if (slash != std::string_view::npos) {
        auto p = text.substr(slash + 1);
        if (p.empty() || p.size() > 3) return std::nullopt;
        prefix = 0;
        for (char c : p) {
            if (c < '0' || c > '9') return std::nullopt;
            prefix = prefix * 10 + (c - '0');
        }
        if (prefix > maxPrefix) return std::nullopt;
    }
    return Cidr{*ip, prefix};
}

bool Cidr::contains(const IpAddress& ip) const {
    if (ip.v4 != network.v4) return false;
    int full = prefix / 8, rest = prefix % 8;
    if (std::memcmp(ip.bytes.data(), network.bytes.data(), static_cast<size_t>(full)) != 0)
        return false;
    if (rest == 0) return true;
    uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
    return (ip.bytes[full] & mask) == (network.bytes[full] & mask);
}

bool ipAllowed(const std::vector<std::string>& allowlist, std::string_view clientIp) {
    if (allowlist.empty()) return true;
    auto ip = parseIp(clientIp);
    if (!ip) return false;
    for (const auto& entry : allowlist) {
        auto cidr = Cidr::parse(entry);
        if (cidr && cidr->contains(*ip)) return true;
    }
    return false;
}

}  // namespace sc::policy
