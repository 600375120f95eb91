#include "delivery/sms/kannel_dlr.h"

#include <sodium.h>

#include <optional>

#include "delivery/sms/kannel_connector.h"

namespace sc::delivery::sms {
namespace {

int hexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::optional<std::string> percentDecode(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+') {
            out += ' ';
        } else if (s[i] == '%') {
            const int hi = i + 1 < s.size() ? hexValue(s[i + 1]) : -1;
            const int lo = i + 2 < s.size() ? hexValue(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) return std::nullopt;
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

// The first value of `name`, decoded.
std::optional<std::string> param(std::string_view query, std::string_view name) {
    while (!query.empty()) {
        const size_t amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        const size_t eq = pair.find('=');
        if (pair.substr(0, eq) == name) {
            return eq == std::string_view::npos ? std::string()
                                                : percentDecode(pair.substr(eq + 1));
        }
        if (amp == std::string_view::npos) break;
        query.remove_prefix(amp + 1);
    }
    return std::nullopt;
}

}  // namespace

Result<queue::SmsReceipt, DlrError> parseKannelDlr(std::string_view route, std::string_view query,
                                                   std::string_view expectedToken, int64_t atMs) {
    if (query.size() > 4096) return fail(DlrError::Malformed);
    const auto token = param(query, "token");
    if (!token || expectedToken.empty() || token->size() != expectedToken.size() ||
        sodium_memcmp(token->data(), expectedToken.data(), expectedToken.size()) != 0) {
        return fail(DlrError::BadToken);
    }
    const auto id = param(query, "id");
    const auto type = param(query, "type");
    if (!id || id->empty() || id->size() > 128 || !type || type->empty() || type->size() > 3) {
        return fail(DlrError::Malformed);
    }
    int t = 0;
    for (const char c : *type) {
        if (c < '0' || c > '9') return fail(DlrError::Malformed);
        t = t * 10 + (c - '0');
    }
    queue::SmsReceipt r;
    r.route = std::string(route);
    r.smscMessageId = *id;
    r.stat = kannelDlrStat(t);
    r.errorCode = t == 1 ? "" : std::to_string(t);
    r.atMs = atMs;
    return r;
}

}  // namespace sc::delivery::sms
