#include "domain/e164_fast_path.h"

#include <phonenumbers/phonemetadata.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <algorithm>
#include <list>
#include <map>
#include <span>
#include <unordered_map>
#include <utility>

// libphonenumber's compiled-in metadata, the bytes PhoneNumberUtil itself parses at start-up
// (exported by libphonenumber.so, declared in its uninstalled phonenumbers/metadata.h). The
// util keeps its copy private, and Parse's national-prefix step depends on a field of it.
namespace i18n::phonenumbers {
int metadata_size();
const void* metadata_get();
}  // namespace i18n::phonenumbers

namespace sc::domain {

bool loadPhoneMetadata(i18n::phonenumbers::PhoneMetadataCollection* out) {
    return out->ParseFromArray(i18n::phonenumbers::metadata_get(),
                               i18n::phonenumbers::metadata_size());
}

namespace {

using i18n::phonenumbers::PhoneMetadata;
using i18n::phonenumbers::PhoneMetadataCollection;
using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberDesc;
using i18n::phonenumbers::PhoneNumberUtil;

constexpr size_t kMinStrictDigits = 8;
constexpr size_t kMaxStrictDigits = 15;
constexpr size_t kMaxCallingCodeDigits = 3;  // PhoneNumberUtil::kMaxLengthCountryCode
const std::string kNonGeoRegion = "001";     // PhoneNumberUtil::kRegionCodeForNonGeoEntity
const std::string kUnknownRegion = "ZZ";

// The metadata of `regionCode` as libphonenumber looks it up: by region, or by calling code for
// the non-geographic "001"; null when there is none.
const PhoneMetadata* metadataFor(const std::string& regionCode, int callingCode,
                                 const std::map<std::string, const PhoneMetadata*>& byRegion,
                                 const std::map<int, const PhoneMetadata*>& nonGeographic) {
    if (regionCode == kNonGeoRegion) {
        const auto it = nonGeographic.find(callingCode);
        return it == nonGeographic.end() ? nullptr : it->second;
    }
    const auto it = byRegion.find(regionCode);
    return it == byRegion.end() ? nullptr : it->second;
}

}  // namespace

std::optional<PrefixPattern> PrefixPattern::compile(std::string_view pattern) {
    auto root = readDigitPattern(pattern);
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
    const bool loaded = loadPhoneMetadata(&collection);
    // Keyed as Parse looks metadata up: by region, or by calling code for non-geographic ones.
    std::map<std::string, const PhoneMetadata*> byRegion;
    std::map<int, const PhoneMetadata*> nonGeographic;
    if (loaded) {
        for (const PhoneMetadata& metadata : collection.metadata()) {
            if (metadata.id() == kNonGeoRegion) {
                nonGeographic[metadata.country_code()] = &metadata;
            } else {
                byRegion[metadata.id()] = &metadata;
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
        // The main region, as GetRegionCodeForCountryCode gives it.
        const PhoneMetadata* metadata = metadataFor(regions.front(), code, byRegion, nonGeographic);
        if (metadata == nullptr) continue;  // national prefix unknown: always Parse
        const std::string& prefix = metadata->national_prefix_for_parsing();
        // MaybeStripNationalPrefixAndCarrierCode returns at once for an empty pattern.
        entry.nationalPrefixUnderstood = true;
        if (!prefix.empty()) {
            entry.nationalPrefix = PrefixPattern::compile(prefix);
            entry.nationalPrefixUnderstood = entry.nationalPrefix.has_value();
        }
    }
    compileRegions(util, byRegion, nonGeographic);
}

// Compiles a region's patterns into the automata. Many regions share patterns (+1's regions,
// +7, +44, +262 ...): each is compiled once.
class E164FastPath::RegionCompiler {
public:
    explicit RegionCompiler(DigitAutomata& automata) : automata_(automata) {}

    // False when some pattern did not compile (the library then classifies the calling code).
    bool region(const PhoneMetadata& metadata, Region* to) {
        to->id = metadata.id();
        to->sameMobileAndFixedLine = metadata.same_mobile_and_fixed_line_pattern();
        bool ok = desc(metadata.general_desc(), &to->general);
        const PhoneNumberDesc* special[] = {
            &metadata.premium_rate(), &metadata.toll_free(),       &metadata.shared_cost(),
            &metadata.voip(),         &metadata.personal_number(), &metadata.pager(),
            &metadata.uan(),          &metadata.voicemail()};
        static_assert(std::size(special) == std::tuple_size_v<decltype(to->special)>);
        for (size_t i = 0; i < to->special.size(); ++i) {
            ok = desc(*special[i], &to->special[i]) && ok;
        }
        ok = desc(metadata.fixed_line(), &to->fixedLine) && ok;
        ok = desc(metadata.mobile(), &to->mobile) && ok;
        to->hasLeadingDigits = metadata.has_leading_digits();
        if (to->hasLeadingDigits) {
            const auto start = pattern(metadata.leading_digits());
            ok = start.has_value() && ok;
            to->leadingDigits = start.value_or(0);
        }
        return ok;
    }

    size_t patterns() const { return compiled_.size(); }
    size_t notCompiled() const {
        size_t n = 0;
        for (const auto& [text, start] : compiled_) n += start ? 0 : 1;
        return n;
    }

private:
    std::optional<DigitAutomata::State> pattern(const std::string& text) {
        auto it = compiled_.find(text);
        if (it == compiled_.end()) it = compiled_.emplace(text, automata_.add(text)).first;
        return it->second;
    }

    bool desc(const PhoneNumberDesc& from, Desc* to) {
        *to = Desc{};
        if (from.national_number_pattern().empty()) return true;  // never matches
        const auto start = pattern(from.national_number_pattern());
        if (!start) return false;
        to->start = *start;
        if (from.possible_length_size() == 0) {
            to->lengths = ~uint32_t{0};
        } else {
            for (const int length : from.possible_length()) {
                if (length >= 0 && length < 32) to->lengths |= uint32_t{1} << length;
            }
        }
        return true;
    }

    DigitAutomata& automata_;
    std::unordered_map<std::string, std::optional<DigitAutomata::State>> compiled_;
};

// Every pattern that GetRegionCodeForNumber and GetNumberTypeHelper read, into automata_.
// A calling code where anything is missing or not compiled keeps regionCount 0: the library
// classifies its numbers, slower and never different.
void E164FastPath::compileRegions(const PhoneNumberUtil& util,
                                  const std::map<std::string, const PhoneMetadata*>& byRegion,
                                  const std::map<int, const PhoneMetadata*>& nonGeographic) {
    RegionCompiler compiler(automata_);
    for (int code = 1; code < static_cast<int>(callingCodes_.size()); ++code) {
        CallingCode& entry = callingCodes_[static_cast<size_t>(code)];
        if (!entry.known) continue;
        ++stats_.callingCodes;
        std::list<std::string> regionCodes;
        util.GetRegionCodesForCountryCallingCode(code, &regionCodes);
        const size_t first = regions_.size();
        bool ok = true;
        for (const std::string& regionCode : regionCodes) {
            const PhoneMetadata* metadata = metadataFor(regionCode, code, byRegion, nonGeographic);
            // IsValidNumberForRegion also requires the region's calling code to be the
            // number's; from this list it always is, and where not, the library decides.
            if (metadata == nullptr || metadata->country_code() != code) {
                ok = false;
                break;
            }
            Region compiledRegion;
            ok = compiler.region(*metadata, &compiledRegion) && ok;
            regions_.push_back(std::move(compiledRegion));
        }
        if (!ok || regions_.size() - first > UINT16_MAX || regions_.size() > UINT16_MAX) {
            regions_.resize(first);
            ++stats_.callingCodesOnLibrary;
            continue;
        }
        entry.firstRegion = static_cast<uint16_t>(first);
        entry.regionCount = static_cast<uint16_t>(regions_.size() - first);
    }
    regions_.shrink_to_fit();
    automata_.shrinkToFit();
    stats_.patterns = compiler.patterns();
    stats_.notCompiled += compiler.notCompiled();
    stats_.dfaStates = automata_.stateCount();
    stats_.tableBytes = automata_.tableBytes();
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

namespace {

// GetNationalSignificantNumber into `buffer`, or nullopt when it is longer than the buffer.
std::optional<std::string_view> nationalSignificantNumber(const PhoneNumber& number,
                                                          std::span<char> buffer) {
    size_t length = 0;
    if (number.italian_leading_zero()) {
        const int zeros = std::max(number.number_of_leading_zeros(), 0);
        if (static_cast<size_t>(zeros) > buffer.size()) return std::nullopt;
        for (; length < static_cast<size_t>(zeros); ++length) buffer[length] = '0';
    }
    char digits[20];  // a uint64 has at most 20 decimal digits
    size_t count = 0;
    uint64_t value = number.national_number();
    do {
        digits[count++] = static_cast<char>('0' + value % 10);
        value /= 10;
    } while (value != 0);
    if (length + count > buffer.size()) return std::nullopt;
    while (count > 0) buffer[length++] = digits[--count];
    return std::string_view(buffer.data(), length);
}

}  // namespace

PhoneNumberUtil::PhoneNumberType E164FastPath::typeIn(const Region& region,
                                                      std::string_view nsn) const {
    static constexpr std::array<PhoneNumberUtil::PhoneNumberType, 8> kSpecialTypes = {
        PhoneNumberUtil::PREMIUM_RATE,
        PhoneNumberUtil::TOLL_FREE,
        PhoneNumberUtil::SHARED_COST,
        PhoneNumberUtil::VOIP,
        PhoneNumberUtil::PERSONAL_NUMBER,
        PhoneNumberUtil::PAGER,
        PhoneNumberUtil::UAN,
        PhoneNumberUtil::VOICEMAIL};
    if (!matches(region.general, nsn)) return PhoneNumberUtil::UNKNOWN;
    for (size_t i = 0; i < kSpecialTypes.size(); ++i) {
        if (matches(region.special[i], nsn)) return kSpecialTypes[i];
    }
    if (matches(region.fixedLine, nsn)) {
        return region.sameMobileAndFixedLine || matches(region.mobile, nsn)
                   ? PhoneNumberUtil::FIXED_LINE_OR_MOBILE
                   : PhoneNumberUtil::FIXED_LINE;
    }
    if (!region.sameMobileAndFixedLine && matches(region.mobile, nsn)) {
        return PhoneNumberUtil::MOBILE;
    }
    return PhoneNumberUtil::UNKNOWN;
}

E164FastPath::Choice E164FastPath::chooseRegion(const CallingCode& entry,
                                                std::string_view nsn) const {
    const Region* const first = &regions_[entry.firstRegion];
    if (entry.regionCount == 1) return {first, std::nullopt};
    // GetRegionCodeForNumberFromRegionList.
    for (const Region* region = first; region != first + entry.regionCount; ++region) {
        if (region->hasLeadingDigits) {
            if (automata_.prefixMatch(region->leadingDigits, nsn)) return {region, std::nullopt};
        } else if (const auto type = typeIn(*region, nsn); type != PhoneNumberUtil::UNKNOWN) {
            return {region, type};
        }
    }
    return {nullptr, PhoneNumberUtil::UNKNOWN};
}

PhoneNumberUtil::PhoneNumberType E164FastPath::typeOf(const Compiled& compiled) const {
    const Choice choice = chooseRegion(*compiled.code, compiled.nsn);
    if (choice.type) return *choice.type;
    return typeIn(*choice.region, compiled.nsn);
}

std::optional<E164FastPath::Compiled> E164FastPath::compiledFor(
    const PhoneNumber& number, std::array<char, kMaxNsnDigits>& buffer) const {
    const int code = number.country_code();
    if (code <= 0 || code >= static_cast<int>(callingCodes_.size())) return std::nullopt;
    const CallingCode& entry = callingCodes_[static_cast<size_t>(code)];
    if (entry.regionCount == 0) return std::nullopt;
    const auto nsn = nationalSignificantNumber(number, buffer);
    if (!nsn) return std::nullopt;
    return Compiled{&entry, *nsn};
}

bool E164FastPath::isValidNumber(const PhoneNumber& number) const {
    std::array<char, kMaxNsnDigits> buffer;
    const auto compiled = compiledFor(number, buffer);
    // IsValidNumberForRegion(number, GetRegionCodeForNumber(number)).
    if (!compiled) return PhoneNumberUtil::GetInstance()->IsValidNumber(number);
    return typeOf(*compiled) != PhoneNumberUtil::UNKNOWN;
}

std::string E164FastPath::regionCodeForNumber(const PhoneNumber& number) const {
    std::array<char, kMaxNsnDigits> buffer;
    const auto compiled = compiledFor(number, buffer);
    if (!compiled) {
        std::string region;
        PhoneNumberUtil::GetInstance()->GetRegionCodeForNumber(number, &region);
        return region;
    }
    const Region* region = chooseRegion(*compiled->code, compiled->nsn).region;
    return region == nullptr ? kUnknownRegion : region->id;
}

PhoneNumberUtil::PhoneNumberType E164FastPath::numberType(const PhoneNumber& number) const {
    std::array<char, kMaxNsnDigits> buffer;
    const auto compiled = compiledFor(number, buffer);
    if (!compiled) return PhoneNumberUtil::GetInstance()->GetNumberType(number);
    return typeOf(*compiled);
}

}  // namespace sc::domain
