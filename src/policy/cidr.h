#pragma once
// IP address ranges for API users' allowlists: IPv4 and IPv6 CIDRs ("10.0.0.0/8",
// "2001:db8::/32"); a bare address means exactly that address. IPv4-mapped IPv6 client
// addresses (::ffff:10.1.2.3) match IPv4 ranges, since a dual-stack listener reports them so.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sc::policy {

struct IpAddress {
    bool v4 = false;
    std::array<uint8_t, 16> bytes{};  // v4 uses the first 4
};

std::optional<IpAddress> parseIp(std::string_view text);

struct Cidr {
    IpAddress network;
    int prefix = 0;

    static std::optional<Cidr> parse(std::string_view text);
    bool contains(const IpAddress& ip) const;
};

// True when the allowlist is empty (no restriction) or one of its ranges holds `clientIp`.
// Entries that do not parse never match (the management API refuses them on the way in).
bool ipAllowed(const std::vector<std::string>& allowlist, std::string_view clientIp);

}  // namespace sc::policy
