#pragma once
// The cheap way through libphonenumber for what API clients send nearly always: strict E.164
// ("+" and 8 to 15 ASCII digits). PhoneNumberUtil::Parse runs a dozen regular expressions to
// find that such a number is "+<calling code><national number>"; IsValidNumber matches up to a
// dozen patterns per region with ICU behind a cache that hashes each (long) pattern string on
// every lookup. Both answers are reproduced here from libphonenumber's own metadata: Parse's
// with its public calls, or refused, in which case the caller runs libphonenumber's general
// path; IsValidNumber's with every pattern compiled at start-up into DigitAutomata, and the
// library's classification (GetRegionCodeForNumber, GetNumberTypeHelper) followed step by
// step. tests/unit/domain/e164_fast_path_test.cpp compares this with Parse, IsValidNumber,
// GetRegionCodeForNumber and GetNumberType over every example number of every region and type
// and ~49 k variations; digit_automata_test.cpp compares every pattern with ICU.

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/digit_automata.h"

namespace i18n::phonenumbers {
class PhoneMetadata;
class PhoneMetadataCollection;
}  // namespace i18n::phonenumbers

namespace sc::domain {

// Parses libphonenumber's compiled-in metadata, the bytes PhoneNumberUtil itself parses at
// start-up, into `out`; false when they do not parse.
bool loadPhoneMetadata(i18n::phonenumbers::PhoneMetadataCollection* out);

// A national_prefix_for_parsing pattern, read well enough to tell whether it matches at the
// start of a national number. compile() gives nullopt for a pattern outside its small dialect.
// It over-approximates (a possessive quantifier is read as greedy), which Parse's "may this
// strip a national prefix?" question allows; DigitAutomata answers exactly.
class PrefixPattern {
public:
    static constexpr int kUnbounded = DigitPatternNode::kUnbounded;
    using Node = DigitPatternNode;

    static std::optional<PrefixPattern> compile(std::string_view pattern);

    // Whether the pattern matches some non-empty prefix of `digits` (which are ASCII digits).
    bool matchesNonEmptyPrefix(std::string_view digits) const;

private:
    using Positions = uint32_t;  // bit p: a match can end before digits[p]
    static constexpr size_t kMaxPositions = 31;

    Positions repeat(const Node& node, Positions from, std::string_view digits) const;
    Positions once(const Node& node, Positions from, std::string_view digits) const;

    Node root_;
};

class E164FastPath {
public:
    // Loads libphonenumber's compiled-in metadata and compiles its patterns once, at start-up
    // (~20 ms; ~240 KB of DFA rows).
    static const E164FastPath& instance();

    // For `digits` (what follows the '+'), fills `number` exactly as
    // PhoneNumberUtil::Parse("+" + digits, "ZZ") would and returns true, or returns false when
    // the input is not strict E.164 or Parse might read it otherwise (unknown calling code, a
    // national prefix it might strip): the caller must then run Parse.
    bool parse(std::string_view digits, i18n::phonenumbers::PhoneNumber* number) const;

    // The same answer as PhoneNumberUtil::IsValidNumber(number), for any number.
    bool isValidNumber(const i18n::phonenumbers::PhoneNumber& number) const;
    // The same answers as PhoneNumberUtil::GetRegionCodeForNumber and GetNumberType.
    std::string regionCodeForNumber(const i18n::phonenumbers::PhoneNumber& number) const;
    i18n::phonenumbers::PhoneNumberUtil::PhoneNumberType numberType(
        const i18n::phonenumbers::PhoneNumber& number) const;

    // What start-up compiled: tests hold the fallbacks at zero, and the report quotes the size.
    struct CompileStats {
        size_t patterns = 0;               // distinct non-empty patterns read from the metadata
        size_t notCompiled = 0;            // of those, left to libphonenumber's regex engine
        size_t callingCodes = 0;           // calling codes with metadata
        size_t callingCodesOnLibrary = 0;  // of those, classified by libphonenumber
        size_t dfaStates = 0;
        size_t tableBytes = 0;
    };
    const CompileStats& compileStats() const { return stats_; }

    E164FastPath(const E164FastPath&) = delete;
    E164FastPath& operator=(const E164FastPath&) = delete;

private:
    E164FastPath();

    // One PhoneNumberDesc: it matches a national significant number of length n when bit n of
    // `lengths` is set (possible_length, all bits when that is empty; none when the pattern is
    // empty, as RegexBasedMatcher refuses an empty pattern) and its pattern fully matches.
    struct Desc {
        uint32_t lengths = 0;
        DigitAutomata::State start = 0;
    };
    // A region's metadata as GetNumberTypeHelper reads it.
    struct Region {
        std::string id;
        Desc general;
        // premium_rate, toll_free, shared_cost, voip, personal_number, pager, uan, voicemail:
        // the order in which GetNumberTypeHelper tries them.
        std::array<Desc, 8> special;
        Desc fixedLine;
        Desc mobile;
        bool sameMobileAndFixedLine = false;
        bool hasLeadingDigits = false;
        DigitAutomata::State leadingDigits = 0;
    };
    // Longer national significant numbers (only a hand-built PhoneNumber has them) go to the
    // library; the length masks above have 32 bits.
    static constexpr size_t kMaxNsnDigits = 30;

    struct CallingCode {
        bool known = false;
        // national_prefix_for_parsing of the main region: false when it is unknown or outside
        // PrefixPattern's dialect; nullopt when it is empty (Parse strips nothing).
        bool nationalPrefixUnderstood = false;
        std::optional<PrefixPattern> nationalPrefix;
        // regions_[firstRegion, firstRegion + regionCount) in the order of
        // GetRegionCodesForCountryCallingCode; regionCount 0 when some pattern of some region
        // did not compile, and the library classifies numbers of this code.
        uint16_t firstRegion = 0;
        uint16_t regionCount = 0;
    };

    // A number whose calling code compiled, with its national significant number (in the
    // caller's buffer); nullopt sends the caller to the library.
    struct Compiled {
        const CallingCode* code;
        std::string_view nsn;
    };
    std::optional<Compiled> compiledFor(const i18n::phonenumbers::PhoneNumber& number,
                                        std::array<char, kMaxNsnDigits>& buffer) const;

    bool matches(const Desc& desc, std::string_view nsn) const {
        return ((desc.lengths >> nsn.size()) & 1U) != 0 && automata_.fullMatch(desc.start, nsn);
    }
    i18n::phonenumbers::PhoneNumberUtil::PhoneNumberType typeIn(const Region& region,
                                                                std::string_view nsn) const;
    // GetRegionCodeForNumber over compiled regions (region nullptr for "ZZ"), with the number's
    // type there when choosing the region already classified it.
    struct Choice {
        const Region* region = nullptr;
        std::optional<i18n::phonenumbers::PhoneNumberUtil::PhoneNumberType> type;
    };
    Choice chooseRegion(const CallingCode& entry, std::string_view nsn) const;
    // GetNumberType: the type in the region GetRegionCodeForNumber picks (UNKNOWN for "ZZ").
    i18n::phonenumbers::PhoneNumberUtil::PhoneNumberType typeOf(const Compiled& compiled) const;
    class RegionCompiler;
    void compileRegions(
        const i18n::phonenumbers::PhoneNumberUtil& util,
        const std::map<std::string, const i18n::phonenumbers::PhoneMetadata*>& byRegion,
        const std::map<int, const i18n::phonenumbers::PhoneMetadata*>& nonGeographic);

    std::array<CallingCode, 1000> callingCodes_;
    std::vector<Region> regions_;
    DigitAutomata automata_;
    CompileStats stats_;
};

}  // namespace sc::domain
