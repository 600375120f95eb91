#pragma once
// IP addresses and CIDR ranges, the one reading of both for the whole service: the trusted
// proxies of the HTTP server (http/forwarded.h) and API users' IP allowlists (policy/cidr.h).
// IPv4 and IPv6; an IPv4-mapped IPv6 address (::ffff:a.b.c.d, as a dual-stack listener reports an
// IPv4 peer) is read as the IPv4 address, so it matches IPv4 ranges. No I/O: unit-tested and
// fuzzed through its users.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace sc::common {

// An address in network order.
struct IpAddress {
    bool v4 = false;
    std::array<uint8_t, 16> bytes{};  // v4 uses the first 4

    // The longest text an address can be written in (INET6_ADDRSTRLEN - 1, a v4-mapped one);
    // longer text is not an address.
    static constexpr size_t kMaxTextBytes = 45;
    static std::optional<IpAddress> parse(std::string_view text);
    std::string toString() const;
    bool operator==(const IpAddress&) const = default;
};

// "10.0.0.0/8", "2001:db8::/32", or a bare address (that address alone). Bits past the prefix
// are cleared, so "10.1.2.3/8" means 10.0.0.0/8 as written.
struct IpRange {
    IpAddress network;
    int prefix = 0;

    // Errors say what is wrong without quoting the text (the caller names the entry).
    static Result<IpRange, std::string> parse(std::string_view text);
    bool contains(const IpAddress& ip) const;
};

}  // namespace sc::common
