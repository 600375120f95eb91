#include "http/forwarded.h"

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
        auto range = common::IpRange::parse(entry);
        if (!range) return fail("'" + shown + "': " + range.error());
        out.ranges_.push_back(*range);
    }
    return out;
}

bool TrustedProxies::contains(const common::IpAddress& ip) const {
    for (const auto& r : ranges_) {
        if (r.contains(ip)) return true;
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

    std::optional<common::IpAddress> chosen;
    size_t hops = 0;
    forEachFromRight(forwardedFor, [&](std::string_view element) {
        if (++hops > kMaxForwardedHops) {
            out.malformed = true;
            return false;
        }
        auto ip = common::IpAddress::parse(element);
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
