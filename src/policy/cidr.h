#pragma once
// API users' IP allowlists: IPv4 and IPv6 CIDRs ("10.0.0.0/8", "2001:db8::/32"); a bare address
// means exactly that address. Addresses and ranges are read by common/ip_range.h, the same reading
// the HTTP server gives its trusted proxies, so an IPv4-mapped IPv6 client address
// (::ffff:10.1.2.3) matches IPv4 ranges.

#include <string>
#include <string_view>
#include <vector>

namespace sc::policy {

// True when `entry` is a range an allowlist may hold.
bool validAllowlistEntry(std::string_view entry);

// True when the allowlist is empty (no restriction) or one of its ranges holds `clientIp`.
// Entries that do not parse never match (the management API refuses them on the way in).
bool ipAllowed(const std::vector<std::string>& allowlist, std::string_view clientIp);

}  // namespace sc::policy
