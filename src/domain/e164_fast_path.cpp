#include "domain/e164_fast_path.h"

#include <phonenumbers/phonemetadata.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <list>
#include <map>
#include <utility>

// libphonenumber's compiled-in metadata, the bytes PhoneNumberUtil itself parses at start-up
// (exported by libphonenumber.so, declared in its uninstalled phonenumbers/metadata.h). The
// util keeps its copy private, and Parse's national-prefix step depends on a field of it.
namespace i18n::phonenumbers {
int metadata_size();
const void* metadata_get();
}  // namespace i18n::phonenumbers

namespace sc::domain {
namespace {

using i18n::phonenumbers::PhoneMetadata;
using i18n::phonenumbers::PhoneMetadataCollection;
using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

constexpr size_t kMinStrictDigits = 8;
constexpr size_t kMaxStrictDigits = 15;
constexpr size_t kMaxCallingCodeDigits = 3;  // PhoneNumberUtil::kMaxLengthCountryCode
const std::string kNonGeoRegion = "001";     // PhoneNumberUtil::kRegionCodeForNonGeoEntity
const std::string kUnknownRegion = "ZZ";

// Reads the small regular-expression dialect of national_prefix_for_parsing: digits, \d,
// classes of digits, groups, alternation, greedy/lazy/possessive quantifiers, ^ and $. Anything
// else leaves the pattern not understood, and the caller assumes it may match.
class PatternReader {
public:
    explicit PatternReader(std::string_view pattern) : p_(pattern) {}

    std::optional<PrefixPattern::Node> read() {
        PrefixPattern::Node root = alternation();
        if (!understood_ || pos_ != p_.size()) return std::nullopt;
        return root;
    }

private:
    using Node = PrefixPattern::Node;

    bool atEnd() const { return pos_ >= p_.size(); }
    char peek() const { return atEnd() ? '\0' : p_[pos_]; }
    bool take(char c) {
        if (peek() != c) return false;
        ++pos_;
        return true;
    }
    static bool isDigit(char c) { return c >= '0' && c <= '9'; }
    static uint16_t bit(char digit) { return static_cast<uint16_t>(1U << (digit - '0')); }

    Node alternation() {
        Node node = make(Node::Kind::Alternation);
        node.children.push_back(sequence());
        while (understood_ && take('|')) node.children.push_back(sequence());
        return node;
    }

    Node sequence() {
        Node node = make(Node::Kind::Sequence);
        while (understood_ && !atEnd() && peek() != '|' && peek() != ')') {
            Node item = atom();
            quantifier(&item);
            node.children.push_back(std::move(item));
        }
        return node;
    }

    Node atom() {
        const char c = peek();
        if (isDigit(c)) {
            ++pos_;
            return digits(bit(c));
        }
        if (take('^')) return make(Node::Kind::Start);
        if (take('$')) return make(Node::Kind::End);
        if (take('\\')) {
            if (take('d')) return digits(kAnyDigit);
            return notUnderstood();
        }
        if (c == '[') return digitClass();
        if (take('(')) {
            if (take('?') && !take(':')) return notUnderstood();  // look-arounds, flags
            Node inner = alternation();
            if (!take(')')) return notUnderstood();
            return inner;
        }
        return notUnderstood();
    }

    Node digitClass() {
        ++pos_;  // '['
        if (peek() == '^') return notUnderstood();
        uint16_t set = 0;
        while (!atEnd() && peek() != ']') {
            if (take('\\')) {
                if (!take('d')) return notUnderstood();
                set = kAnyDigit;
                continue;
            }
            const char from = peek();
            if (!isDigit(from)) return notUnderstood();
            ++pos_;
            char to = from;
            if (peek() == '-' && pos_ + 1 < p_.size() && p_[pos_ + 1] != ']') {
                to = p_[pos_ + 1];
                if (!isDigit(to) || to < from) return notUnderstood();
                pos_ += 2;
            }
            for (char d = from; d <= to; ++d) set |= bit(d);
        }
        if (!take(']') || set == 0) return notUnderstood();
        return digits(set);
    }

    // ?, *, +, {n}, {n,}, {n,m}, each maybe lazy (?) or possessive (+). A possessive quantifier
    // can only remove matches, so reading it as greedy over-approximates, which is safe here.
    void quantifier(Node* node) {
        if (take('?')) {
            node->min = 0;
            node->max = 1;
        } else if (take('*')) {
            node->min = 0;
            node->max = PrefixPattern::kUnbounded;
        } else if (take('+')) {
            node->min = 1;
            node->max = PrefixPattern::kUnbounded;
        } else if (take('{')) {
            const auto number = [this]() {
                int value = -1;
                while (isDigit(peek()) && value < 1000) {
                    value = (value < 0 ? 0 : value * 10) + (p_[pos_] - '0');
                    ++pos_;
                }
                return value;
            };
            node->min = number();
            node->max = node->min;
            if (take(',')) node->max = peek() == '}' ? PrefixPattern::kUnbounded : number();
            if (node->min < 0 || node->max == -1 || !take('}') ||
                (node->max != PrefixPattern::kUnbounded && node->max < node->min)) {
                notUnderstood();
                return;
            }
        } else {
            return;
        }
        if (!take('?')) take('+');
    }

    static Node make(Node::Kind kind) {
        Node node;
        node.kind = kind;
        return node;
    }

    static Node digits(uint16_t set) {
        Node node = make(Node::Kind::Digits);
        node.digits = set;
        return node;
    }

    Node notUnderstood() {
        understood_ = false;
        return make(Node::Kind::Sequence);
    }

    static constexpr uint16_t kAnyDigit = 0x3FF;
    std::string_view p_;
    size_t pos_ = 0;
    bool understood_ = true;
};

}  // namespace

std::optional<PrefixPattern> PrefixPattern::compile(std::string_view pattern) {
    auto root = PatternReader(pattern).read();
    if (!root) return std::nullopt;
    PrefixPattern compiled;
    compiled.root_ = std::move(*root);
    return compiled;
}

bool PrefixPattern::matchesNonEmptyPrefix(std::string_view digits) const {
    if (digits.size() >= kMaxPositions) return true;  // out of this matcher's range: assume so
    const Positions ends = repeat(root_, 1U, digits);
    return (ends & ~Positions{1}) != 0;  // a match ends past position 0
}

// Every position a match of `node` (with its quantifier) can end at, starting from any of
// `from`. Following all paths at once is exact for regular expressions without back-references.
PrefixPattern::Positions PrefixPattern::repeat(const Node& node, Positions from,
                                               std::string_view digits) const {
    if (node.min == 1 && node.max == 1) return once(node, from, digits);
    Positions current = from;
    for (int i = 0; i < node.min && current != 0; ++i) current = once(node, current, digits);
    Positions result = current;
    if (node.max == kUnbounded) {
        for (;;) {
            const Positions next = result | once(node, result, digits);
            if (next == result) break;
            result = next;
        }
    } else {
        for (int i = node.min; i < node.max && current != 0; ++i) {
            current = once(node, current, digits);
            result |= current;
        }
    }
    return result;
}

PrefixPattern::Positions PrefixPattern::once(const Node& node, Positions from,
                                             std::string_view digits) const {
    Positions out = 0;
    switch (node.kind) {
        case Node::Kind::Digits:
            for (size_t p = 0; p < digits.size(); ++p) {
                if ((from & (Positions{1} << p)) != 0 && digits[p] >= '0' && digits[p] <= '9' &&
                    (node.digits & (1U << (digits[p] - '0'))) != 0) {
                    out |= Positions{1} << (p + 1);
                }
            }
            return out;
        case Node::Kind::Start:
            return from & Positions{1};
        case Node::Kind::End:
            return from & (Positions{1} << digits.size());
        case Node::Kind::Alternation:
            for (const Node& child : node.children) out |= repeat(child, from, digits);
            return out;
        case Node::Kind::Sequence:
            out = from;
            for (const Node& child : node.children) {
                if (out == 0) break;
                out = repeat(child, out, digits);
            }
            return out;
    }
    return out;
}

const E164FastPath& E164FastPath::instance() {
    static const E164FastPath fastPath;
    return fastPath;
}

E164FastPath::E164FastPath() {
    const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
    PhoneMetadataCollection collection;
    const bool loaded = collection.ParseFromArray(i18n::phonenumbers::metadata_get(),
                                                  i18n::phonenumbers::metadata_size());
    // Keyed as Parse looks metadata up: by region, or by calling code for non-geographic ones.
    std::map<std::string, const PhoneMetadata*> byRegion;
    std::map<int, const PhoneMetadata*> nonGeographic;
    if (loaded) {
        for (const PhoneMetadata& metadata : collection.metadata()) {
            if (metadata.id() == kNonGeoRegion) {
                nonGeographic[metadata.country_code()] = &metadata;
            } else {
                byRegion[metadata.id()] = &metadata;
                if (metadata.has_leading_digits())
                    regionsChosenByLeadingDigits_.insert(metadata.id());
            }
        }
    }
    // Without metadata every calling code stays unknown, so parse() always declines and
    // isValidNumber() always asks the library: slower, never different.
    if (!loaded) return;

    for (int code = 1; code < static_cast<int>(callingCodes_.size()); ++code) {
        std::list<std::string> regions;
        util.GetRegionCodesForCountryCallingCode(code, &regions);
        if (regions.empty()) continue;
        CallingCode& entry = callingCodes_[static_cast<size_t>(code)];
        entry.known = true;
        entry.sharedByRegions = regions.size() > 1;
        entry.region = regions.front();
        entry.mainRegionChosenByLeadingDigits =
            regionsChosenByLeadingDigits_.count(entry.region) > 0;
        const PhoneMetadata* metadata = nullptr;
        if (entry.region == kNonGeoRegion) {
            const auto it = nonGeographic.find(code);
            if (it != nonGeographic.end()) metadata = it->second;
        } else {
            const auto it = byRegion.find(entry.region);
            if (it != byRegion.end()) metadata = it->second;
        }
        if (metadata == nullptr) continue;  // national prefix unknown: always Parse
        const std::string& prefix = metadata->national_prefix_for_parsing();
        // MaybeStripNationalPrefixAndCarrierCode returns at once for an empty pattern.
        entry.nationalPrefixUnderstood = true;
        if (!prefix.empty()) {
            entry.nationalPrefix = PrefixPattern::compile(prefix);
            entry.nationalPrefixUnderstood = entry.nationalPrefix.has_value();
        }
    }
}

bool E164FastPath::parse(std::string_view digits, PhoneNumber* number) const {
    if (digits.size() < kMinStrictDigits || digits.size() > kMaxStrictDigits) return false;
    for (const char c : digits) {
        if (c < '0' || c > '9') return false;
    }
    // ExtractCountryCode: calling codes never start with 0, and the shortest known prefix wins.
    if (digits[0] == '0') return false;
    size_t codeLength = 0;
    int code = 0;
    for (size_t n = 1; n <= kMaxCallingCodeDigits; ++n) {
        code = code * 10 + (digits[n - 1] - '0');
        if (callingCodes_[static_cast<size_t>(code)].known) {
            codeLength = n;
            break;
        }
    }
    if (codeLength == 0) return false;
    const CallingCode& entry = callingCodes_[static_cast<size_t>(code)];
    const std::string_view national = digits.substr(codeLength);
    // MaybeStripNationalPrefixAndCarrierCode changes nothing unless national_prefix_for_parsing
    // matches a non-empty prefix of the national number (an empty match strips nothing and
    // captures nothing); where it does, let Parse decide what to strip.
    if (!entry.nationalPrefixUnderstood) return false;
    if (entry.nationalPrefix && entry.nationalPrefix->matchesNonEmptyPrefix(national)) {
        return false;
    }

    // The national number is 5 to 14 digits here, within Parse's 2 to 17, so Parse would now
    // set exactly these fields on a fresh PhoneNumber (SetItalianLeadingZerosForPhoneNumber).
    PhoneNumber parsed;
    parsed.set_country_code(code);
    if (national.size() > 1 && national[0] == '0') {
        parsed.set_italian_leading_zero(true);
        // An all-zero national number keeps its last 0 as the number itself.
        size_t zeros = 1;
        while (zeros < national.size() - 1 && national[zeros] == '0') ++zeros;
        if (zeros != 1) parsed.set_number_of_leading_zeros(static_cast<int32_t>(zeros));
    }
    uint64_t value = 0;
    for (const char c : national) value = value * 10 + static_cast<uint64_t>(c - '0');
    parsed.set_national_number(value);
    number->Swap(&parsed);
    return true;
}

bool E164FastPath::isValidNumber(const PhoneNumber& number) const {
    const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
    const int code = number.country_code();
    if (code <= 0 || code >= static_cast<int>(callingCodes_.size()) ||
        !callingCodes_[static_cast<size_t>(code)].known) {
        return util.IsValidNumber(number);
    }
    const CallingCode& entry = callingCodes_[static_cast<size_t>(code)];
    // IsValidNumber is IsValidNumberForRegion(number, GetRegionCodeForNumber(number)). With one
    // region for the code, GetRegionCodeForNumber returns it without looking at the number.
    if (!entry.sharedByRegions) return util.IsValidNumberForRegion(number, entry.region);
    // With several, it returns the first region whose leading_digits match, or else the first
    // (without leading_digits) where the number has a type, i.e. is valid; IsValidNumber then
    // classifies it a second time in that region. Only the first case needs that check.
    // The main region comes first; when it has no leading_digits and the number is valid there,
    // GetRegionCodeForNumber would pick it, so the answer is known without building the list of
    // regions (25 strings for +1). Other regions' numbers pay for one more classification.
    if (!entry.mainRegionChosenByLeadingDigits &&
        util.IsValidNumberForRegion(number, entry.region)) {
        return true;
    }
    std::string region;
    util.GetRegionCodeForNumber(number, &region);
    if (region == kUnknownRegion) return false;
    if (regionsChosenByLeadingDigits_.count(region) == 0) return true;
    return util.IsValidNumberForRegion(number, region);
}

}  // namespace sc::domain
