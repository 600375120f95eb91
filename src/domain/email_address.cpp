#include "domain/email_address.h"

#include <array>
#include <optional>

#include "domain/text_util.h"

namespace sc::domain {
namespace {

constexpr size_t kMaxLocalBytes = 64;     // RFC 5321 §4.5.3.1.1
constexpr size_t kMaxDomainBytes = 253;   // RFC 1035, without the trailing dot
constexpr size_t kMaxLabelBytes = 63;     // RFC 1035
constexpr size_t kMaxAddressBytes = 254;  // RFC 5321 path (256) less the angle brackets

// A reason is the tail of a hint, phrased to follow the quoted entry: "'bob@' has no domain...".
using Problem = std::optional<std::string>;

AddressError malformed(std::string_view entry, std::string_view reason) {
    return {"address.malformed", concat(quoteForHint(entry), " ", reason)};
}

constexpr bool isAsciiAlnum(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// RFC 5322 atext, widened by RFC 6532 to any non-ASCII UTF-8 (validated before we get here).
// A table, since every byte of every local part is looked up.
constexpr std::array<bool, 256> kAtext = [] {
    std::array<bool, 256> t{};
    for (int c = 0; c < 256; ++c) t[c] = c >= 0x80 || isAsciiAlnum(static_cast<unsigned char>(c));
    for (const char c : std::string_view("!#$%&'*+-/=?^_`{|}~"))
        t[static_cast<unsigned char>(c)] = true;
    return t;
}();

bool isAtext(unsigned char c) {
    return kAtext[c];
}

std::string describeChar(unsigned char c) {
    if (c == ' ') return "a space";
    if (c == '\t') return "a tab";
    if (c < 0x20 || c == 0x7F) return "a control character";
    const char ch = static_cast<char>(c);
    return concat("'", std::string_view(&ch, 1), "'");
}

// Index one past the closing quote of the quoted string that opens at s[open], or npos when it
// is never closed. Backslash escapes the next byte (RFC 5322 quoted-pair).
size_t skipQuoted(std::string_view s, size_t open) {
    for (size_t i = open + 1; i < s.size(); ++i) {
        if (s[i] == '\\') {
            ++i;
        } else if (s[i] == '"') {
            return i + 1;
        }
    }
    return std::string_view::npos;
}

// First index of a character `wanted` accepts outside quoted strings; npos if none.
// `unterminated` is set when a quote opens and never closes. (A predicate rather than a set of
// characters: a set's find() per byte was a third of parseMailbox.)
template <class Wanted>
size_t findOutsideQuotes(std::string_view s, Wanted wanted, bool& unterminated) {
    unterminated = false;
    for (size_t i = 0; i < s.size();) {
        if (s[i] == '"') {
            i = skipQuoted(s, i);
            if (i == std::string_view::npos) {
                unterminated = true;
                return std::string_view::npos;
            }
            continue;
        }
        if (wanted(s[i])) return i;
        ++i;
    }
    return std::string_view::npos;
}

bool isAngle(char c) {
    return c == '<' || c == '>';
}

bool isBlank(char c) {
    return c == ' ' || c == '\t';
}

Problem checkQuotedLocal(std::string_view local) {
    // `local` is a whole quoted string: skipQuoted found its end at local.size().
    if (local.size() == 2) return "has empty quotes before '@'";
    for (size_t i = 1; i + 1 < local.size(); ++i) {
        const auto c = static_cast<unsigned char>(local[i]);
        if (c == '\\') {
            const auto next = static_cast<unsigned char>(local[++i]);
            if (next < 0x20 && next != '\t') return "has a control character before '@'";
            continue;
        }
        if ((c < 0x20 && c != '\t') || c == 0x7F) return "has a control character before '@'";
    }
    return std::nullopt;
}

Problem checkDotAtomLocal(std::string_view local) {
    if (local.empty()) return "has nothing before '@'";
    if (local.front() == '.') return "starts with a dot";
    if (local.back() == '.') return "has a dot just before '@'";
    if (local.find("..") != std::string_view::npos) return "has two dots in a row before '@'";
    for (const char ch : local) {
        const auto c = static_cast<unsigned char>(ch);
        if (c != '.' && !isAtext(c)) {
            return concat("has ", describeChar(c),
                          " before '@', which is allowed there only inside double quotes");
        }
    }
    return std::nullopt;
}

bool isIpv4(std::string_view s) {
    int parts = 0;
    while (true) {
        size_t len = 0;
        int value = 0;
        while (len < s.size() && isAsciiDigit(s[len])) {
            value = value * 10 + (s[len] - '0');
            if (++len > 3) return false;
        }
        // A leading zero reads as octal to some resolvers; refuse it rather than guess.
        if (len == 0 || value > 255 || (len > 1 && s[0] == '0')) return false;
        ++parts;
        s.remove_prefix(len);
        if (s.empty()) return parts == 4;
        if (s.front() != '.' || parts == 4) return false;
        s.remove_prefix(1);
    }
}

Problem checkDomain(std::string_view domain) {
    if (domain.empty()) return "has no domain after '@'";
    if (domain.size() > kMaxDomainBytes) {
        return concat("has a domain longer than ", std::to_string(kMaxDomainBytes), " bytes");
    }
    if (domain.front() == '[') {
        if (domain.back() != ']') return "has '[' in the domain without a closing ']'";
        const auto literal = domain.substr(1, domain.size() - 2);
        if (literal.size() >= 5 &&
            (literal.substr(0, 5) == "IPv6:" || literal.substr(0, 5) == "ipv6:")) {
            return "has an IPv6 address literal, which is not supported; use a domain name";
        }
        if (!isIpv4(literal)) {
            return concat("has ", quoteForHint(domain),
                          " after '@', which is not an IPv4 address like [192.0.2.1]");
        }
        return std::nullopt;
    }
    if (domain.front() == '.') return "has a dot right after '@'";
    if (domain.back() == '.') return "ends with a dot";
    if (domain.find("..") != std::string_view::npos) return "has two dots in a row after '@'";
    size_t labels = 0;
    std::string_view lastLabel;
    for (std::string_view rest = domain; !rest.empty();) {
        const size_t dot = rest.find('.');
        const auto label = rest.substr(0, dot);
        rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
        ++labels;
        lastLabel = label;
        // Measured in bytes as written: a UTF-8 label's A-label (punycode) form has a different
        // length, which the MTA checks when it converts.
        if (label.size() > kMaxLabelBytes) {
            return concat("has a domain label longer than ", std::to_string(kMaxLabelBytes),
                          " bytes: ", quoteForHint(label));
        }
        for (const char ch : label) {
            const auto c = static_cast<unsigned char>(ch);
            if (c != '-' && c < 0x80 && !isAsciiAlnum(c)) {
                return concat("has ", describeChar(c),
                              " after '@'; a domain has only letters, digits, hyphens and dots");
            }
        }
        if (label.front() == '-' || label.back() == '-') {
            return concat("has a domain label that starts or ends with a hyphen: ",
                          quoteForHint(label));
        }
    }
    if (labels < 2) {
        return "has no dot in the domain; use a full domain name like example.com";
    }
    bool numeric = true;
    for (const char c : lastLabel) numeric = numeric && isAsciiDigit(c);
    if (numeric) {
        return "has a domain that ends in a number; write an IP address in brackets, like "
               "user@[192.0.2.1]";
    }
    return std::nullopt;
}

// `addr` is an addr-spec without angle brackets. On success returns it with the domain
// lower-cased (local parts are case-sensitive in principle, so they stay as written).
Result<std::string, std::string> parseAddrSpec(std::string_view addr) {
    size_t at = 0;
    Problem problem;
    if (!addr.empty() && addr.front() == '"') {
        const size_t end = skipQuoted(addr, 0);
        if (end == std::string_view::npos) return fail(std::string("has an unterminated quote"));
        if (end == addr.size()) return fail(std::string("has no '@'"));
        if (addr[end] != '@')
            return fail(std::string("has text between the closing quote and '@'"));
        at = end;
        problem = checkQuotedLocal(addr.substr(0, end));
    } else {
        at = addr.find('@');
        if (at == std::string_view::npos) return fail(std::string("has no '@'"));
        problem = checkDotAtomLocal(addr.substr(0, at));
    }
    if (problem) return fail(std::move(*problem));
    const auto local = addr.substr(0, at);
    const auto domain = addr.substr(at + 1);
    if (domain.find('@') != std::string_view::npos)
        return fail(std::string("has more than one '@'"));
    if (local.size() > kMaxLocalBytes) {
        return fail(concat("has more than ", std::to_string(kMaxLocalBytes), " bytes before '@'"));
    }
    if (auto p = checkDomain(domain)) return fail(std::move(*p));
    if (addr.size() > kMaxAddressBytes) {
        return fail(concat("is longer than ", std::to_string(kMaxAddressBytes), " bytes"));
    }
    std::string out(addr);
    for (size_t i = at + 1; i < out.size(); ++i) {
        if (out[i] >= 'A' && out[i] <= 'Z') out[i] = static_cast<char>(out[i] - 'A' + 'a');
    }
    return out;
}

// RFC 5322 phrase, leniently: quoted strings are unquoted, anything else is kept as written.
// Specials such as ',' or '@' are accepted unquoted because the MIME writer re-encodes the name.
Result<std::string, std::string> parseDisplayName(std::string_view text) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == '"') {
            const size_t end = skipQuoted(text, i);
            if (end == std::string_view::npos)
                return fail(std::string("has an unterminated quote"));
            for (size_t j = i + 1; j + 1 < end; ++j) {
                if (text[j] == '\\') ++j;
                const auto q = static_cast<unsigned char>(text[j]);
                if ((q < 0x20 && q != '\t') || q == 0x7F) {
                    return fail(std::string("has a control character in the name"));
                }
                out += text[j];
            }
            i = end - 1;
            continue;
        }
        if ((c < 0x20 && c != '\t') || c == 0x7F) {
            return fail(std::string("has a control character in the name"));
        }
        if (c == '>')
            return fail(std::string("has '>' in the name; put the name in double quotes"));
        out += static_cast<char>(c);
    }
    return out;
}

// Calls `onEntry` with each entry of a ';'/','-separated list (commas inside quotes or angle
// brackets do not split) that is not blank, until it returns false.
template <class OnEntry>
void forEachListEntry(std::string_view text, OnEntry onEntry) {
    bool inQuote = false;
    int angle = 0;
    size_t start = 0;
    const auto take = [&](size_t end) {
        const auto entry = text.substr(start, end - start);
        start = end + 1;
        // A line break in an otherwise blank entry still fails: the rule is "anywhere".
        if (!trimAsciiSpace(entry).empty() || hasLineBreak(entry)) return onEntry(entry);
        return true;
    };
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (inQuote) {
            if (c == '\\') {
                ++i;
            } else if (c == '"') {
                inQuote = false;
            }
        } else if (c == '"') {
            inQuote = true;
        } else if (c == '<') {
            ++angle;
        } else if (c == '>') {
            if (angle > 0) --angle;
        } else if ((c == ';' || c == ',') && angle == 0) {
            if (!take(i)) return;
        }
    }
    take(text.size());
}

}  // namespace

std::string_view EmailAddress::domain() const {
    const size_t at = address.rfind('@');
    return at == std::string::npos ? std::string_view() : std::string_view(address).substr(at + 1);
}

bool hasLineBreak(std::string_view s) {
    // One pass with three compares per byte; find_first_of searched the set for every byte.
    for (const char c : s) {
        if (c == '\r' || c == '\n' || c == '\0') return true;
    }
    return false;
}

bool isValidUtf8(std::string_view s) {
    size_t pos = 0;
    while (pos < s.size()) {
        pos = skipAscii(s, pos);
        if (pos < s.size() && !decodeUtf8(s, pos)) return false;
    }
    return true;
}

Result<EmailAddress, AddressError> parseMailbox(std::string_view text) {
    if (hasLineBreak(text)) {
        return fail(malformed(text,
                              "contains a line break or NUL byte; line breaks are not "
                              "allowed in an address"));
    }
    if (!isValidUtf8(text)) return fail(malformed(text, "is not valid UTF-8"));
    const auto t = trimAsciiSpace(text);
    if (t.empty()) return fail(AddressError{"address.empty", "no address given"});

    bool unterminated = false;
    const size_t lt = findOutsideQuotes(t, isAngle, unterminated);
    if (unterminated) return fail(malformed(t, "has an unterminated quote"));

    EmailAddress result;
    std::string_view spec = t;
    if (lt != std::string_view::npos) {
        if (t[lt] == '>') return fail(malformed(t, "has '>' without '<'"));
        const auto rest = t.substr(lt + 1);
        const size_t gt = findOutsideQuotes(rest, isAngle, unterminated);
        if (unterminated) return fail(malformed(t, "has an unterminated quote"));
        if (gt == std::string_view::npos)
            return fail(malformed(t, "has '<' without a closing '>'"));
        if (rest[gt] == '<') return fail(malformed(t, "has more than one '<'"));
        if (gt + 1 != rest.size()) return fail(malformed(t, "has text after '>'"));
        spec = trimAsciiSpace(rest.substr(0, gt));
        if (spec.empty()) return fail(malformed(t, "has no address between '<' and '>'"));
        auto name = parseDisplayName(trimAsciiSpace(t.substr(0, lt)));
        if (!name) return fail(malformed(t, name.error()));
        result.displayName = std::move(name).value();
    } else {
        const size_t space = findOutsideQuotes(t, isBlank, unterminated);
        if (space != std::string_view::npos) {
            return fail(malformed(t, "has a space; to add a name write it as Name <address>"));
        }
    }
    auto address = parseAddrSpec(spec);
    if (!address) return fail(malformed(t, address.error()));
    result.address = std::move(address).value();
    return result;
}

Result<std::vector<EmailAddress>, AddressError> parseAddressList(std::string_view text,
                                                                 size_t maxCount) {
    // Counted first, cheaply, so that an oversized list is refused before any entry is parsed;
    // then split again and parsed, with no list of entries in between.
    size_t count = 0;
    forEachListEntry(text, [&](std::string_view) {
        ++count;
        return true;
    });
    if (count == 0) return fail(AddressError{"address.empty", "no address given"});
    if (count > maxCount) {
        return fail(AddressError{"address.too_many",
                                 concat(std::to_string(count), " addresses given; at most ",
                                        std::to_string(maxCount), " recipients are allowed")});
    }
    std::vector<EmailAddress> out;
    out.reserve(count);
    std::optional<AddressError> error;
    forEachListEntry(text, [&](std::string_view entry) {
        auto mailbox = parseMailbox(entry);
        if (!mailbox) {
            error = std::move(mailbox).error();
            return false;
        }
        out.push_back(std::move(mailbox).value());
        return true;
    });
    if (error) return fail(std::move(*error));
    return out;
}

}  // namespace sc::domain
