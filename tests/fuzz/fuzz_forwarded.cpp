// Fuzzes the --trusted-proxies parser and the X-Forwarded-For walk. Beyond "no crash": a parsed
// list is bounded, and the walk's answer is always the peer or an address written in the header,
// in canonical form.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "http/forwarded.h"

namespace {

void check(bool condition) {
    if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    // First line: the trusted list; the rest: X-Forwarded-For fields, one per line.
    const size_t nl = input.find('\n');
    const std::string_view listText = input.substr(0, nl);
    auto proxies = sc::http::TrustedProxies::parse(listText);
    if (!proxies) {
        check(!proxies.error().empty() && proxies.error().size() < 256);
        proxies = sc::http::TrustedProxies::parse("10.0.0.0/8,::1");
        check(proxies.ok());
    }
    std::vector<std::string_view> fields;
    std::string_view rest =
        nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);
    while (!rest.empty()) {
        const size_t end = rest.find('\n');
        fields.push_back(rest.substr(0, end));
        rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    }
    const std::string peer = "10.0.0.1";
    auto r = sc::http::resolveForwarded(*proxies, peer, fields, fields);
    if (r.malformed || r.clientIp == peer) return 0;
    auto ip = sc::common::IpAddress::parse(r.clientIp);
    check(ip.has_value() && ip->toString() == r.clientIp);
    return 0;
}
