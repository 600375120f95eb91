#include "delivery/mime/mime_encoding.h"

#include <ctime>
#include <vector>

namespace sc::delivery::mime {

namespace {

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kHex[] = "0123456789ABCDEF";
// Where header folding aims (RFC 5322 2.1.1 "SHOULD" 78); 998 is the hard limit.
constexpr size_t kFoldAt = 78;
// The longest word folding may leave on a line before the value is encoded instead.
constexpr size_t kLongestFoldedWord = 900;

void appendBase64(std::string& out, const unsigned char* p, size_t n) {
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
        out += kBase64[(v >> 18) & 63];
        out += kBase64[(v >> 12) & 63];
        out += kBase64[(v >> 6) & 63];
        out += kBase64[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = uint32_t{p[i]} << 16;
        out += kBase64[(v >> 18) & 63];
        out += kBase64[(v >> 12) & 63];
        out += "==";
    } else if (n - i == 2) {
        uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8);
        out += kBase64[(v >> 18) & 63];
        out += kBase64[(v >> 12) & 63];
        out += kBase64[(v >> 6) & 63];
        out += '=';
    }
}

bool isUtf8Continuation(unsigned char c) {
    return (c & 0xC0) == 0x80;
}

// RFC 2047 B encoded-words of `text`, each whole UTF-8 sequences only (a decoder that meets a
// split sequence shows garbage), each at most 75 characters.
// The first word is shorter when it shares its line with a header name of `firstLineTaken`
// characters, so that every line stays within RFC 2047's 76.
std::vector<std::string> encodedWords(std::string_view text, size_t firstLineTaken = 0) {
    // 75 - len("=?UTF-8?B?") - len("?=") = 63 characters of base64: 45 bytes.
    constexpr size_t kBytesPerWord = 45;
    size_t firstRoom = firstLineTaken + 12 + 8 < 76 ? (76 - firstLineTaken - 12) / 4 * 3 : 6;
    std::vector<std::string> words;
    size_t i = 0;
    while (i < text.size()) {
        size_t n = std::min(words.empty() ? std::min(firstRoom, kBytesPerWord) : kBytesPerWord,
                            text.size() - i);
        if (i + n < text.size()) {
            size_t back = n;
            while (back > 0 && isUtf8Continuation(static_cast<unsigned char>(text[i + back]))) {
                --back;
            }
            if (back > 0) n = back;  // invalid UTF-8 (a run of continuations): cut anywhere
        }
        std::string w = "=?UTF-8?B?";
        appendBase64(w, reinterpret_cast<const unsigned char*>(text.data() + i), n);
        w += "?=";
        words.push_back(std::move(w));
        i += n;
    }
    return words;
}

// Writes "Name:" and the tokens, folding (CRLF before a token's leading white space) when a line
// would pass kFoldAt. Every token but the first starts with white space.
void appendFoldedTokens(std::string& out, std::string_view name,
                        const std::vector<std::string>& tokens) {
    out += name;
    out += ':';
    size_t lineLength = name.size() + 1;
    bool lineHasContent = false;
    for (size_t i = 0; i < tokens.size(); ++i) {
        const std::string& t = tokens[i];
        bool canFold = i > 0 && !t.empty() && (t[0] == ' ' || t[0] == '\t');
        if (canFold && lineHasContent && lineLength + t.size() > kFoldAt) {
            out += "\r\n";
            lineLength = 0;
        }
        if (i == 0) {
            out += ' ';
            ++lineLength;
        }
        out += t;
        lineLength += t.size();
        lineHasContent = true;
    }
    if (tokens.empty()) out += ' ';
    out += "\r\n";
}

bool isAtext(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

bool isAttributeChar(unsigned char c) {
    // RFC 2231 attribute-char: token characters except '*', '\'' and '%'.
    if (c <= 32 || c >= 127) return false;
    return std::string_view("*'%()<>@,;:\\\"/[]?=").find(static_cast<char>(c)) ==
           std::string_view::npos;
}

}  // namespace

void appendBase64Lines(std::string& out, std::string_view data) {
    constexpr size_t kBytesPerLine = 57;  // 76 characters
    out.reserve(out.size() + (data.size() + 2) / 3 * 4 + (data.size() / kBytesPerLine + 1) * 2);
    const auto* p = reinterpret_cast<const unsigned char*>(data.data());
    for (size_t i = 0; i < data.size(); i += kBytesPerLine) {
        appendBase64(out, p + i, std::min(kBytesPerLine, data.size() - i));
        out += "\r\n";
    }
}

namespace {

// Calls line(begin, end) for each line of `text`, whatever its breaks (CRLF, LF, CR).
template <class F>
void forEachLine(std::string_view text, F&& line) {
    size_t start = 0;
    size_t i = 0;
    while (i < text.size()) {
        char c = text[i];
        if (c == '\r' || c == '\n') {
            line(text.substr(start, i - start));
            i += (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ? 2 : 1;
            start = i;
        } else {
            ++i;
        }
    }
    line(text.substr(start));
}

}  // namespace

void appendQuotedPrintable(std::string& out, std::string_view text) {
    out.reserve(out.size() + text.size() + text.size() / 8 + 4);
    // RFC 2045 6.7: at most 76 characters, the soft break's '=' included.
    constexpr size_t kMaxLine = 76;
    bool first = true;
    forEachLine(text, [&](std::string_view line) {
        if (!first) out += "\r\n";
        first = false;
        size_t lineLength = 0;
        for (size_t i = 0; i < line.size(); ++i) {
            auto c = static_cast<unsigned char>(line[i]);
            bool last = i + 1 == line.size();
            char literal[1];
            char escaped[3];
            std::string_view piece;
            // White space is literal except at the end of a line, where transports strip it.
            if ((c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last)) {
                literal[0] = static_cast<char>(c);
                piece = std::string_view(literal, 1);
            } else {
                escaped[0] = '=';
                escaped[1] = kHex[c >> 4];
                escaped[2] = kHex[c & 15];
                piece = std::string_view(escaped, 3);
            }
            // Room for the piece and, unless it ends the line, a soft break's '='.
            size_t need = piece.size() + (last ? 0 : 1);
            if (lineLength + need > kMaxLine) {
                out += "=\r\n";
                lineLength = 0;
            }
            out += piece;
            lineLength += piece.size();
        }
    });
    out += "\r\n";
}

void appendCanonicalText(std::string& out, std::string_view text) {
    out.reserve(out.size() + text.size() + text.size() / 16 + 2);
    bool first = true;
    forEachLine(text, [&](std::string_view line) {
        if (!first) out += "\r\n";
        first = false;
        out += line;
    });
    out += "\r\n";
}

bool isPrintableAscii(std::string_view s) {
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        if ((c < 32 && c != '\t') || c >= 127) return false;
    }
    return true;
}

void appendUnstructuredHeader(std::string& out, std::string_view name, std::string_view value) {
    bool encode = !isPrintableAscii(value) || value.find("=?") != std::string_view::npos;
    std::vector<std::string> tokens;
    if (!encode) {
        // Tokens: leading white space + one word; folding goes before the white space, so
        // unfolding (removing the CRLF) gives the value back exactly.
        size_t i = 0;
        while (i < value.size()) {
            size_t start = i;
            while (i < value.size() && (value[i] == ' ' || value[i] == '\t')) ++i;
            while (i < value.size() && value[i] != ' ' && value[i] != '\t') ++i;
            if (i - start > kLongestFoldedWord) {
                encode = true;
                break;
            }
            tokens.emplace_back(value.substr(start, i - start));
        }
        // A value of white space only would fold into a line of white space: encode it.
        if (!encode && !value.empty() && value.find_first_not_of(" \t") == std::string::npos) {
            encode = true;
        }
        if (!encode && !tokens.empty() && (tokens[0][0] == ' ' || tokens[0][0] == '\t')) {
            encode = true;  // leading white space would be taken for the separator
        }
    }
    if (encode) {
        tokens = encodedWords(value, name.size() + 2);
        for (size_t i = 1; i < tokens.size(); ++i) tokens[i] = ' ' + tokens[i];
    }
    appendFoldedTokens(out, name, tokens);
}

std::string encodeDisplayName(std::string_view name) {
    if (name.empty()) return {};
    bool ascii = isPrintableAscii(name) && name.find("=?") == std::string_view::npos &&
                 name.find('\t') == std::string_view::npos;
    if (!ascii || name.size() > kLongestFoldedWord) {
        std::string out;
        for (const auto& w : encodedWords(name)) {
            if (!out.empty()) out += ' ';
            out += w;
        }
        return out;
    }
    bool atoms =
        name.front() != ' ' && name.back() != ' ' && name.find("  ") == std::string_view::npos;
    for (char c : name) {
        if (c != ' ' && !isAtext(c)) atoms = false;
    }
    if (atoms) return std::string(name);
    std::string out = "\"";
    for (char c : name) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    out += '"';
    return out;
}

void appendFilenameParameter(std::string& out, std::string_view parameter, std::string_view value) {
    bool plain = value.size() <= 60 && isPrintableAscii(value) &&
                 value.find_first_of("\"\\\t") == std::string_view::npos;
    if (plain) {
        out += ";\r\n ";
        out += parameter;
        out += "=\"";
        out += value;
        out += '"';
        return;
    }
    // RFC 2231: percent-encoded UTF-8, cut into continuations of at most 60 characters that
    // never split a %XX triple.
    std::vector<std::string> segments(1, "utf-8''");
    for (char ch : value) {
        auto c = static_cast<unsigned char>(ch);
        char piece[3];
        size_t n = 1;
        if (isAttributeChar(c)) {
            piece[0] = static_cast<char>(c);
        } else {
            piece[0] = '%';
            piece[1] = kHex[c >> 4];
            piece[2] = kHex[c & 15];
            n = 3;
        }
        if (segments.back().size() + n > 60) segments.emplace_back();
        segments.back().append(piece, n);
    }
    if (segments.size() == 1) {
        out += ";\r\n ";
        out += parameter;
        out += "*=";
        out += segments[0];
        return;
    }
    for (size_t i = 0; i < segments.size(); ++i) {
        out += ";\r\n ";
        out += parameter;
        out += '*';
        out += std::to_string(i);
        out += "*=";
        out += segments[i];
    }
}

std::string rfc5322Date(int64_t unixMillis) {
    static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    std::time_t seconds = static_cast<std::time_t>(unixMillis / 1000);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[tm.tm_wday % 7],
                  tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                  tm.tm_sec);
    return buf;
}

}  // namespace sc::delivery::mime
