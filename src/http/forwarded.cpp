#include "http/forwarded.h"

#include <arpa/inet.h>

#include <cstring>

namespace sc::http {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

// Calls f(element) for the comma-separated elements of the fields, rightmost first, until f
// returns false.
template <class F>
void forEachFromRight(const std::vector<std::string_view>& fields, F&& f) {
    for (auto field = fields.rbegin(); field != fields.rend(); ++field) {
        std::string_view rest = *field;
        for (;;) {
            const size_t comma = rest.rfind(',');
            const std::string_view element =
                comma == std::string_view::npos ? rest : rest.substr(comma + 1);
            if (!f(trim(element))) return;
            if (comma == std::string_view::npos) break;
            rest = rest.substr(0, comma);
        }
    }
}

}  // namespace

std::optional<IpBytes> IpBytes::parse(std::string_view text) {
    // INET6_ADDRSTRLEN - 1: the longest an address can be written (a v4-mapped one).
    if (text.empty() || text.size() > 45) return std::nullopt;
    char buf[46];
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    IpBytes ip;
    if (::inet_pton(AF_INET, buf, ip.bytes.data()) == 1) {
        ip.v4 = true;
        return ip;
    }
    if (::inet_pton(AF_INET6, buf, ip.bytes.data()) != 1) return std::nullopt;
    static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(ip.bytes.data(), kMapped, sizeof kMapped) == 0) {
        IpBytes v4;
        v4.v4 = true;
        std::memcpy(v4.bytes.data(), ip.bytes.data() + 12, 4);
        return v4;
    }
    return ip;
}

std::string IpBytes::toString() const {
    char buf[INET6_ADDRSTRLEN] = {};
    ::inet_ntop(v4 ? AF_INET : AF_INET6, bytes.data(), buf, sizeof buf);
    return buf;
}

Result<TrustedProxies, std::string> TrustedProxies::parse(std::string_view text) {
    if (text.size() > kMaxTextBytes) {
        return fail("the list is longer than " + std::to_string(kMaxTextBytes) + " bytes");
    }
    TrustedProxies out;
    std::string_view rest = text;
    while (!trim(rest).empty()) {
        const size_t comma = rest.find(',');
        const std::string_view entry =
            trim(comma == std::string_view::npos ? rest : rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
        // Entries are echoed in errors: bound what is quoted.
        const std::string shown(entry.substr(0, 64));
        if (entry.empty()) return fail(std::string("an empty entry (two commas in a row?)"));
        if (out.ranges_.size() == kMaxRanges) {
            return fail("more than " + std::to_string(kMaxRanges) + " ranges");
        }
        const size_t slash = entry.find('/');
        auto ip = IpBytes::parse(entry.substr(0, slash));
        if (!ip) return fail("'" + shown + "' is not an IPv4 or IPv6 address or CIDR");
        const int maxPrefix = ip->v4 ? 32 : 128;
        int prefix = maxPrefix;
        if (slash != std::string_view::npos) {
            const std::string_view p = entry.substr(slash + 1);
            if (p.empty() || p.size() > 3) {
                return fail("'" + shown + "': the prefix length must be a number 0-" +
                            std::to_string(maxPrefix));
            }
            prefix = 0;
            for (char c : p) {
                if (c < '0' || c > '9') {
                    return fail("'" + shown + "': the prefix length must be a number 0-" +
                                std::to_string(maxPrefix));
                }
                prefix = prefix * 10 + (c - '0');
            }
            if (prefix > maxPrefix) {
                return fail("'" + shown + "': the prefix length must be at most " +
                            std::to_string(maxPrefix));
            }
        }
        // Bits past the prefix are cleared, so "10.1.2.3/8" means 10.0.0.0/8 as written.
        for (int bit = prefix; bit < maxPrefix; ++bit) {
            ip->bytes[static_cast<size_t>(bit / 8)] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
        }
        out.ranges_.push_back({*ip, prefix});
    }
    return out;
}

bool TrustedProxies::contains(const IpBytes& ip) const {
    for (const auto& r : ranges_) {
        if (r.network.v4 != ip.v4) continue;
        const size_t full = static_cast<size_t>(r.prefix / 8);
        const int rest = r.prefix % 8;
        if (std::memcmp(ip.bytes.data(), r.network.bytes.data(), full) != 0) continue;
        if (rest == 0) return true;
        const auto mask = static_cast<uint8_t>(0xff << (8 - rest));
        if ((ip.bytes[full] & mask) == r.network.bytes[full]) return true;
    }
    return false;
}

ForwardedClient resolveForwarded(const TrustedProxies& proxies, std::string_view peerIp,
                                 const std::vector<std::string_view>& forwardedFor,
                                 const std::vector<std::string_view>& forwardedProto) {
    ForwardedClient out;
    out.clientIp = std::string(peerIp);

    // The proxy nearest to us wrote the rightmost element.
    forEachFromRight(forwardedProto, [&](std::string_view proto) {
        out.secure = equalsIgnoreCase(proto, "https");
        return false;
    });

    std::optional<IpBytes> chosen;
    size_t hops = 0;
    forEachFromRight(forwardedFor, [&](std::string_view element) {
        if (++hops > kMaxForwardedHops) {
            out.malformed = true;
            return false;
        }
        auto ip = IpBytes::parse(element);
        if (!ip) {
            out.malformed = true;
            return false;
        }
        chosen = ip;
        // A trusted hop only relayed the request: the client is further left. When every hop
        // is trusted, the leftmost one is the client.
        return proxies.contains(*ip);
    });
    if (out.malformed) {
        out.clientIp = std::string(peerIp);
    } else if (chosen) {
        out.clientIp = chosen->toString();
    }
    return out;
}

}  // namespace sc::http
