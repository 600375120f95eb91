#include "api/json_text.h"

#include <nlohmann/json.hpp>

#include <charconv>

namespace sc::api::json_text {

namespace {

// The length of the well-formed UTF-8 sequence (RFC 3629, the same automaton nlohmann
// validates with) starting at s[i], or 0 when it is not one.
size_t utf8SequenceLength(std::string_view s, size_t i) {
    const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char b0 = byte(i);
    const size_t left = s.size() - i;
    auto cont = [&](size_t k, unsigned char lo, unsigned char hi) {
        return k < s.size() && byte(k) >= lo && byte(k) <= hi;
    };
    if (b0 >= 0xC2 && b0 <= 0xDF) return left >= 2 && cont(i + 1, 0x80, 0xBF) ? 2 : 0;
    if (b0 >= 0xE0 && b0 <= 0xEF) {
        const unsigned char lo = b0 == 0xE0 ? 0xA0 : 0x80;
        const unsigned char hi = b0 == 0xED ? 0x9F : 0xBF;
        return left >= 3 && cont(i + 1, lo, hi) && cont(i + 2, 0x80, 0xBF) ? 3 : 0;
    }
    if (b0 >= 0xF0 && b0 <= 0xF4) {
        const unsigned char lo = b0 == 0xF0 ? 0x90 : 0x80;
        const unsigned char hi = b0 == 0xF4 ? 0x8F : 0xBF;
        return left >= 4 && cont(i + 1, lo, hi) && cont(i + 2, 0x80, 0xBF) &&
                       cont(i + 3, 0x80, 0xBF)
                   ? 4
                   : 0;
    }
    return 0;
}

// Whether nlohmann writes this ASCII byte as it is.
bool isPlainAscii(unsigned char c) {
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

}  // namespace

void appendString(std::string& out, std::string_view s) {
    const size_t start = out.size();
    out.reserve(start + s.size() + 2);
    out.push_back('"');
    size_t i = 0;
    while (i < s.size()) {
        size_t run = i;
        while (run < s.size() && isPlainAscii(static_cast<unsigned char>(s[run]))) ++run;
        out.append(s.data() + i, run - i);
        i = run;
        if (i == s.size()) break;
        const unsigned char c = static_cast<unsigned char>(s[i]);
        if (c >= 0x80) {
            const size_t n = utf8SequenceLength(s, i);
            if (n == 0) {
                // Invalid UTF-8 is rare (every send field is checked before it gets here), and
                // how the replacement proceeds is nlohmann's own: let it write the whole string.
                out.resize(start);
                out += nlohmann::json(s).dump(-1, ' ', false,
                                              nlohmann::json::error_handler_t::replace);
                return;
            }
            out.append(s.data() + i, n);
            i += n;
            continue;
        }
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default: {
                static constexpr char kHex[] = "0123456789abcdef";
                const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
                out.append(esc, sizeof esc);
            }
        }
        ++i;
    }
    out.push_back('"');
}

void appendInt(std::string& out, int64_t value) {
    char buf[24];
    out.append(buf, std::to_chars(buf, buf + sizeof buf, value).ptr);
}

void appendUint(std::string& out, uint64_t value) {
    char buf[24];
    out.append(buf, std::to_chars(buf, buf + sizeof buf, value).ptr);
}

}  // namespace sc::api::json_text
