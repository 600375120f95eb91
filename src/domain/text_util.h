#pragma once
// Text helpers shared by the domain parsers. Internal to sc_domain: not part of its interface.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace sc::domain {

// Decodes the code point at `pos` and advances `pos` past it; nullopt (and `pos` unchanged) on
// malformed input, overlong forms, surrogates or values above U+10FFFF.
std::optional<char32_t> decodeUtf8(std::string_view s, size_t& pos);

// Appends `cp` (a valid code point: at most U+10FFFF, not a surrogate) as UTF-8.
void appendUtf8(std::string& out, char32_t cp);

// The first index at or after `pos` whose byte is not ASCII, or s.size(): validation skips
// ASCII eight bytes at a time, since nearly all text sent to us is ASCII.
inline size_t skipAscii(std::string_view s, size_t pos) {
    constexpr uint64_t kHighBits = 0x8080808080808080ull;
    while (pos + 8 <= s.size()) {
        uint64_t word;
        std::memcpy(&word, s.data() + pos, sizeof word);
        if ((word & kHighBits) != 0) break;
        pos += 8;
    }
    while (pos < s.size() && static_cast<unsigned char>(s[pos]) < 0x80) ++pos;
    return pos;
}

bool isAsciiSpace(char c);
bool isAsciiDigit(char c);
std::string_view trimAsciiSpace(std::string_view s);

// Untrusted text made safe to put in a hint: single-quoted, cut to at most `maxBytes` of input
// at a character boundary ("..." marks the cut), control characters and bytes that are not
// UTF-8 written as escapes. Hints are logged and serialised to JSON, which needs valid UTF-8
// and must not let a client forge log lines.
std::string quoteForHint(std::string_view s, size_t maxBytes = 100);

// Joins the pieces with one allocation. Hints are built with this rather than operator+, whose
// `"literal" + std::string&&` form trips a false -Wrestrict in g++ 12 at -O2 and above
// (GCC bug 105329).
template <class... Parts>
std::string concat(const Parts&... parts) {
    const std::string_view views[] = {std::string_view(parts)...};
    size_t size = 0;
    for (const auto v : views) size += v.size();
    std::string out;
    out.reserve(size);
    for (const auto v : views) out.append(v);
    return out;
}

}  // namespace sc::domain
