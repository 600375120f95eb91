#include "http/response_head.h"

#include <ostream>  // status.hpp declares operator<< without including it

#include <boost/beast/http/status.hpp>

#include <charconv>
#include <string_view>

namespace sc::http {

namespace {

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

// Beast trims optional whitespace around every field value it stores.
std::string_view trimOws(std::string_view v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    return v;
}

void appendField(std::string& out, std::string_view name, std::string_view value) {
    out.append(name).append(": ").append(trimOws(value)).append("\r\n");
}

}  // namespace

bool appendResponseHead(std::string& out, const Response& response, unsigned version,
                        bool keepAlive) {
    const int status = response.status;
    if (version != 10 && version != 11) return false;
    // Beast refuses a body on these and writes no Content-Length for some of them.
    if (status < 200 || status > 999 || status == 204 || status == 304) return false;
    const auto& extra = response.headers;
    for (const auto& h : extra) {
        if (iequals(h.name, "connection") || iequals(h.name, "content-length") ||
            iequals(h.name, "transfer-encoding")) {
            return false;
        }
    }
    // basic_fields::set() replaces every earlier field of the same name and appends the new one,
    // so a field is written iff no later one has its name, in the order it was set.
    auto overriddenFrom = [&](size_t first, std::string_view name) {
        for (size_t i = first; i < extra.size(); ++i) {
            if (iequals(extra[i].name, name)) return true;
        }
        return false;
    };

    out.append("HTTP/1.").push_back(static_cast<char>('0' + version % 10));
    out.push_back(' ');
    out.push_back(static_cast<char>('0' + status / 100));
    out.push_back(static_cast<char>('0' + status / 10 % 10));
    out.push_back(static_cast<char>('0' + status % 10));
    out.push_back(' ');
    const auto reason = boost::beast::http::obsolete_reason(
        static_cast<boost::beast::http::status>(static_cast<unsigned>(status)));
    out.append(reason.data(), reason.size());
    out.append("\r\n");
    if (!overriddenFrom(0, "server")) appendField(out, "Server", "sendcloudd");
    if (!overriddenFrom(0, "content-type")) appendField(out, "Content-Type", response.contentType);
    if (!overriddenFrom(0, "cache-control")) appendField(out, "Cache-Control", "no-store");
    for (size_t i = 0; i < extra.size(); ++i) {
        if (!overriddenFrom(i + 1, extra[i].name)) appendField(out, extra[i].name, extra[i].value);
    }
    if (version == 11 && !keepAlive) out.append("Connection: close\r\n");
    if (version == 10 && keepAlive) out.append("Connection: keep-alive\r\n");
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, response.body.size());
    (void)ec;  // 24 digits hold any size_t
    out.append("Content-Length: ").append(digits, end).append("\r\n\r\n");
    return true;
}

}  // namespace sc::http
