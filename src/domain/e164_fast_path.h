#pragma once
// The cheap way through libphonenumber for what API clients send nearly always: strict E.164
// ("+" and 8 to 15 ASCII digits). PhoneNumberUtil::Parse runs a dozen regular expressions to
// find that such a number is "+<calling code><national number>"; IsValidNumber classifies the
// number twice when several regions share its calling code. Both answers are reproduced here
// from libphonenumber's own metadata and public calls, or refused, in which case the caller
// runs libphonenumber's general path. tests/unit/domain/e164_fast_path_test.cpp compares this
// with Parse and IsValidNumber over every example number of every region and number type.

#include <phonenumbers/phonenumber.pb.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace sc::domain {

// A national_prefix_for_parsing pattern, read well enough to tell whether it matches at the
// start of a national number. compile() gives nullopt for a pattern outside its small dialect.
class PrefixPattern {
public:
    static constexpr int kUnbounded = -2;

    struct Node {
        enum class Kind { Digits, Start, End, Alternation, Sequence };
        Kind kind = Kind::Sequence;
        uint16_t digits = 0;  // Digits: bit d set when the ASCII digit d matches
        int min = 1;          // how often the node repeats; max may be kUnbounded
        int max = 1;
        std::vector<Node> children;
    };

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
    // Loads libphonenumber's compiled-in metadata once (a few milliseconds, at start-up).
    static const E164FastPath& instance();

    // For `digits` (what follows the '+'), fills `number` exactly as
    // PhoneNumberUtil::Parse("+" + digits, "ZZ") would and returns true, or returns false when
    // the input is not strict E.164 or Parse might read it otherwise (unknown calling code, a
    // national prefix it might strip): the caller must then run Parse.
    bool parse(std::string_view digits, i18n::phonenumbers::PhoneNumber* number) const;

    // The same answer as PhoneNumberUtil::IsValidNumber(number), for any number.
    bool isValidNumber(const i18n::phonenumbers::PhoneNumber& number) const;

    E164FastPath(const E164FastPath&) = delete;
    E164FastPath& operator=(const E164FastPath&) = delete;

private:
    E164FastPath();

    struct CallingCode {
        bool known = false;
        bool sharedByRegions = false;
        bool mainRegionChosenByLeadingDigits = false;
        // national_prefix_for_parsing of the main region: false when it is unknown or outside
        // PrefixPattern's dialect; nullopt when it is empty (Parse strips nothing).
        bool nationalPrefixUnderstood = false;
        std::optional<PrefixPattern> nationalPrefix;
        std::string region;  // the main region, as GetRegionCodeForCountryCode gives it
    };
    std::array<CallingCode, 1000> callingCodes_;
    // Regions whose metadata has leading_digits: GetRegionCodeForNumber picks those by prefix
    // alone, without checking that the number is valid there.
    std::unordered_set<std::string> regionsChosenByLeadingDigits_;
};

}  // namespace sc::domain
