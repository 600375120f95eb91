#pragma once
// Who a request really comes from when it passed through our own reverse proxies or load
// balancers (--trusted-proxies, docs/operations.md "Trusted proxies"). Only a socket peer inside
// one of those ranges is believed: its X-Forwarded-For is walked from the right, trusted hops
// skipped, and the first untrusted address is the client (nginx's real_ip_recursive); its
// X-Forwarded-Proto: https counts as TLS for cookies and HSTS. Anyone else's headers are ignored,
// since a client can write any X-Forwarded-For it likes. No I/O: unit-tested and fuzzed.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip_range.h"
#include "common/result.h"

namespace sc::http {

// "--trusted-proxies 10.0.0.0/8,2001:db8::/32,127.0.0.1": CIDRs or bare addresses.
class TrustedProxies {
public:
    // Limits on what the setting may hold, so a typo cannot make every lookup slow.
    static constexpr size_t kMaxRanges = 256;
    static constexpr size_t kMaxTextBytes = 16 * 1024;

    // Empty text: no proxy is trusted. Errors name the entry at fault.
    static Result<TrustedProxies, std::string> parse(std::string_view text);

    bool empty() const { return ranges_.empty(); }
    bool contains(const common::IpAddress& ip) const;

private:
    std::vector<common::IpRange> ranges_;
};

struct ForwardedClient {
    std::string clientIp;    // the address to account the request to
    bool secure = false;     // a trusted proxy said X-Forwarded-Proto: https
    bool malformed = false;  // X-Forwarded-For could not be read; clientIp is the peer's
};

// The X-Forwarded-For hops walked at most; past them the header counts as malformed.
constexpr size_t kMaxForwardedHops = 32;

// `forwardedFor`: every X-Forwarded-For field of the request in order (repeated fields form one
// list, RFC 9110 §5.3); `forwardedProto`: X-Forwarded-Proto's fields. Only called when the socket
// peer itself is trusted: `peerIp` is then the answer whenever the headers say nothing usable.
ForwardedClient resolveForwarded(const TrustedProxies& proxies, std::string_view peerIp,
                                 const std::vector<std::string_view>& forwardedFor,
                                 const std::vector<std::string_view>& forwardedProto);

}  // namespace sc::http
