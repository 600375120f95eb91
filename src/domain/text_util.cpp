#include "domain/text_util.h"

#include <cstdio>

namespace sc::domain {

void appendUtf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

std::optional<char32_t> decodeUtf8(std::string_view s, size_t& pos) {
    const size_t n = s.size() - pos;
    if (n == 0) return std::nullopt;
    const auto byte = [&](size_t i) { return static_cast<unsigned char>(s[pos + i]); };
    const unsigned char b0 = byte(0);
    if (b0 < 0x80) {
        pos += 1;
        return static_cast<char32_t>(b0);
    }
    size_t len = 0;
    // The second byte's range is narrowed per lead byte (RFC 3629 table): that is what rules out
    // overlong forms (E0, F0), surrogates (ED) and code points past U+10FFFF (F4).
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    char32_t cp = 0;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        len = 2;
        cp = b0 & 0x1F;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        len = 3;
        cp = b0 & 0x0F;
        if (b0 == 0xE0) lo = 0xA0;
        if (b0 == 0xED) hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        len = 4;
        cp = b0 & 0x07;
        if (b0 == 0xF0) lo = 0x90;
        if (b0 == 0xF4) hi = 0x8F;
    } else {
        return std::nullopt;
    }
    if (n < len) return std::nullopt;
    for (size_t i = 1; i < len; ++i) {
        const unsigned char b = byte(i);
        const unsigned char min = i == 1 ? lo : 0x80;
        const unsigned char max = i == 1 ? hi : 0xBF;
        if (b < min || b > max) return std::nullopt;
        cp = (cp << 6) | (b & 0x3F);
    }
    pos += len;
    return cp;
}

bool isAsciiSpace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool isAsciiDigit(char c) {
    return c >= '0' && c <= '9';
}

std::string_view trimAsciiSpace(std::string_view s) {
    while (!s.empty() && isAsciiSpace(s.front())) s.remove_prefix(1);
    while (!s.empty() && isAsciiSpace(s.back())) s.remove_suffix(1);
    return s;
}

std::string quoteForHint(std::string_view s, size_t maxBytes) {
    std::string out = "'";
    size_t pos = 0;
    while (pos < s.size()) {
        size_t next = pos;
        const auto cp = decodeUtf8(s, next);
        const size_t width = cp ? next - pos : 1;
        if (pos + width > maxBytes) break;
        const auto c = static_cast<unsigned char>(s[pos]);
        if (!cp || c < 0x20 || c == 0x7F) {
            switch (c) {
                case '\r':
                    out += "\\r";
                    break;
                case '\n':
                    out += "\\n";
                    break;
                case '\t':
                    out += "\\t";
                    break;
                case '\0':
                    out += "\\0";
                    break;
                default: {
                    char buf[5];
                    std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned>(c));
                    out += buf;
                }
            }
        } else {
            out.append(s.substr(pos, width));
        }
        pos += width;
    }
    if (pos < s.size()) out += "...";
    out += '\'';
    return out;
}

}  // namespace sc::domain
