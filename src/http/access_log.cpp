#include "http/access_log.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "http/request_params.h"

namespace sc::http {

namespace {

bool looksSecret(std::string_view rawName) {
    auto decoded = percentDecode(rawName, true);
    std::string name = decoded ? decoded.value() : std::string(rawName);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    static constexpr std::array<std::string_view, 7> kMarkers = {
        "key", "password", "passwd", "secret", "token", "signature", "session"};
    return std::any_of(kMarkers.begin(), kMarkers.end(),
                       [&](std::string_view m) { return name.find(m) != std::string::npos; });
}

// A value shaped like one of our keys (32 characters of [A-Za-z0-9]) is masked whatever its
// parameter is called: a caller who swapped apiUser and apiKey, or pasted a key into the wrong
// field, must not get it written to our logs.
bool looksLikeKey(std::string_view rawValue) {
    auto decoded = percentDecode(rawValue, true);
    std::string_view v = decoded ? std::string_view(decoded.value()) : rawValue;
    auto isKeyChar = [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    };
    // Trimmed, because a key sent with stray whitespace is still a key.
    while (!v.empty() && !isKeyChar(v.front())) v.remove_prefix(1);
    while (!v.empty() && !isKeyChar(v.back())) v.remove_suffix(1);
    return v.size() >= 32 && v.size() <= 64 && std::all_of(v.begin(), v.end(), isKeyChar) &&
           std::any_of(v.begin(), v.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

}  // namespace

std::string redactTarget(std::string_view target) {
    auto q = target.find('?');
    if (q == std::string_view::npos) return std::string(target);
    std::string out(target.substr(0, q + 1));
    std::string_view query = target.substr(q + 1);
    bool first = true;
    while (true) {
        auto amp = query.find('&');
        std::string_view piece = query.substr(0, amp);
        if (!first) out.push_back('&');
        first = false;
        auto eq = piece.find('=');
        std::string_view name = piece.substr(0, eq);
        if (eq != std::string_view::npos &&
            (looksSecret(name) || looksLikeKey(piece.substr(eq + 1)))) {
            out.append(name).append("=***");
        } else if (eq == std::string_view::npos && looksSecret(name)) {
            out.append("***");
        } else {
            out.append(piece);
        }
        if (amp == std::string_view::npos) break;
        query = query.substr(amp + 1);
    }
    return out;
}

void AccessLog::record(std::string_view method, std::string_view target, int status,
                       std::chrono::microseconds latency, std::string_view clientIp,
                       std::string_view user) const {
    if (!enabled_) return;
    spdlog::info("access method={} path={} status={} latency_us={} ip={} user={}", method,
                 redactTarget(target), status, latency.count(), clientIp,
                 user.empty() ? std::string_view("-") : user);
}

}  // namespace sc::http
