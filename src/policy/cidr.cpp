#include "policy/cidr.h"

#include "common/ip_range.h"

namespace sc::policy {

bool validAllowlistEntry(std::string_view entry) {
    return static_cast<bool>(common::IpRange::parse(entry));
}

bool ipAllowed(const std::vector<std::string>& allowlist, std::string_view clientIp) {
    if (allowlist.empty()) return true;
    auto ip = common::IpAddress::parse(clientIp);
    if (!ip) return false;
    for (const auto& entry : allowlist) {
        auto range = common::IpRange::parse(entry);
        if (range && range->contains(*ip)) return true;
    }
    return false;
}

}  // namespace sc::policy
