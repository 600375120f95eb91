#include "domain/e164_fast_path.h"

#include <gtest/gtest.h>
#include <phonenumbers/phonenumberutil.h>

#include <cstdint>
#include <iostream>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "domain/phone_number.h"

namespace sc::domain {
namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

const PhoneNumberUtil& util() {
    return *PhoneNumberUtil::GetInstance();
}

std::string describe(const PhoneNumber& n) {
    return "cc=" + std::to_string(n.country_code()) + " nn=" + std::to_string(n.national_number()) +
           " ilz=" +
           (n.has_italian_leading_zero() ? std::to_string(n.italian_leading_zero()) : "-") +
           " zeros=" +
           (n.has_number_of_leading_zeros() ? std::to_string(n.number_of_leading_zeros()) : "-");
}

bool matches(std::string_view pattern, std::string_view digits) {
    const auto compiled = PrefixPattern::compile(pattern);
    EXPECT_TRUE(compiled.has_value()) << pattern;
    return compiled && compiled->matchesNonEmptyPrefix(digits);
}

TEST(PrefixPattern, MatchesTheNationalPrefixesOfTheMetadata) {
    EXPECT_TRUE(matches("0", "0201234567"));
    EXPECT_FALSE(matches("0", "7400123456"));
    EXPECT_TRUE(matches("06", "0612345678"));
    EXPECT_FALSE(matches("06", "0712345678"));
    EXPECT_TRUE(matches("[08]", "8123456"));
    EXPECT_TRUE(matches("0|80?", "8123456"));
    EXPECT_FALSE(matches("0|80?", "9123456"));
    // China: a national prefix 0 or a carrier code 1xx(x); mobile numbers 13x... match neither.
    EXPECT_FALSE(matches("0|(1(?:[12]\\d|79)\\d\\d)", "13800138000"));
    EXPECT_TRUE(matches("0|(1(?:[12]\\d|79)\\d\\d)", "17951013800138000"));
    EXPECT_TRUE(matches("0|(1(?:[12]\\d|79)\\d\\d)", "1201013800138"));
    // San Marino: six digits to the end, and only then.
    EXPECT_TRUE(matches("([89]\\d{5})$", "812345"));
    EXPECT_FALSE(matches("([89]\\d{5})$", "8123456"));
    EXPECT_FALSE(matches("([89]\\d{5})$", "81234"));
    EXPECT_TRUE(matches("(?:0|90)(?:(1[245]|2[1-35]|31)(\\d{10,11}))?", "9012"));
    EXPECT_FALSE(matches("(?:0|90)(?:(1[245]|2[1-35]|31)(\\d{10,11}))?", "91987654321"));
    EXPECT_TRUE(matches("1{2,}3", "1113"));
    EXPECT_FALSE(matches("1{2,}3", "13"));
    EXPECT_TRUE(matches("1{0,2}3", "3"));
    EXPECT_FALSE(matches("1{0,2}3", "1113"));
    EXPECT_TRUE(matches("(?:12)+3", "1212123"));
    EXPECT_TRUE(matches("1*?2", "112"));
    EXPECT_TRUE(matches("^1", "12"));
    EXPECT_FALSE(matches("2^1", "21"));
}

TEST(PrefixPattern, AnEmptyMatchIsNoMatch) {
    // Argentina's pattern starts "0?(?:(11|...)15)?": matching nothing strips nothing.
    EXPECT_FALSE(matches("0?(?:(11|2(?:2|3))15)?", "91123456789"));
    EXPECT_TRUE(matches("0?(?:(11|2(?:2|3))15)?", "01123456789"));
    EXPECT_TRUE(matches("0?(?:(11|2(?:2|3))15)?", "111512345678"));
    EXPECT_FALSE(matches("", "123"));
    EXPECT_FALSE(matches("$", "123"));
}

TEST(PrefixPattern, RefusesWhatItDoesNotRead) {
    for (const std::string_view pattern : {".", "\\+?1", "[^0]", "(?=1)1", "(0", "0)", "[0", "0{",
                                           "0{,2}", "0{3,1}", "x", "a|0", "[a-c]", "\\s"}) {
        EXPECT_FALSE(PrefixPattern::compile(pattern).has_value()) << pattern;
    }
}

// Compares the fast path with libphonenumber for one input ("+" and `digits`).
class Comparison {
public:
    void check(const std::string& digits) {
        if (!seen_.insert(digits).second) return;
        const std::string input = "+" + digits;
        PhoneNumber parsed;
        const auto error = util().Parse(input, "ZZ", &parsed);
        PhoneNumber fast;
        if (E164FastPath::instance().parse(digits, &fast)) {
            ++accepted_;
            ASSERT_EQ(error, PhoneNumberUtil::NO_PARSING_ERROR) << input;
            EXPECT_EQ(fast.SerializeAsString(), parsed.SerializeAsString())
                << input << ": fast " << describe(fast) << ", Parse " << describe(parsed);
            std::string e164;
            util().Format(fast, PhoneNumberUtil::E164, &e164);
            EXPECT_EQ(e164, input);
        } else if (digits.size() >= 8 && digits.size() <= 15 &&
                   error == PhoneNumberUtil::NO_PARSING_ERROR) {
            ++declinedParsable_;
        }
        if (error == PhoneNumberUtil::NO_PARSING_ERROR) {
            const bool valid = util().IsValidNumber(parsed);
            valid_ += valid ? 1 : 0;
            expectSameClassification(parsed, input);
        }
    }
    static void expectSameClassification(const PhoneNumber& number, const std::string& input) {
        const E164FastPath& fast = E164FastPath::instance();
        EXPECT_EQ(fast.isValidNumber(number), util().IsValidNumber(number))
            << input << " " << describe(number);
        std::string region;
        util().GetRegionCodeForNumber(number, &region);
        EXPECT_EQ(fast.regionCodeForNumber(number), region) << input << " " << describe(number);
        EXPECT_EQ(fast.numberType(number), util().GetNumberType(number))
            << input << " " << describe(number);
    }
    // The same number with digits added, dropped, changed, and national prefixes put behind the
    // calling code, as people mistype them.
    void checkWithVariants(const PhoneNumber& example) {
        const std::string cc = std::to_string(example.country_code());
        std::string nsn;
        util().GetNationalSignificantNumber(example, &nsn);
        const std::string digits = cc + nsn;
        check(digits);
        for (char d = '0'; d <= '9'; ++d) {
            check(digits.substr(0, digits.size() - 1) + d);
            check(cc + d + nsn);
            check(digits + d);
            check(cc + d + nsn.substr(1));
        }
        check(digits.substr(0, digits.size() - 1));
        check(digits.substr(0, digits.size() - 2));
        check(cc + "00" + nsn);
        check(cc + "000" + nsn.substr(1));
        std::string region;
        util().GetRegionCodeForCountryCode(example.country_code(), &region);
        std::string nationalPrefix;
        util().GetNddPrefixForRegion(region, true, &nationalPrefix);
        if (!nationalPrefix.empty()) check(cc + nationalPrefix + nsn);
    }

    size_t accepted() const { return accepted_; }
    size_t declinedParsable() const { return declinedParsable_; }
    size_t valid() const { return valid_; }
    size_t inputs() const { return seen_.size(); }

private:
    std::set<std::string> seen_;
    size_t accepted_ = 0;
    size_t declinedParsable_ = 0;
    size_t valid_ = 0;
};

std::vector<PhoneNumber> everyExampleNumber() {
    std::vector<PhoneNumber> out;
    std::set<std::string> regions;
    util().GetSupportedRegions(&regions);
    for (const auto& region : regions) {
        for (int type = PhoneNumberUtil::FIXED_LINE; type <= PhoneNumberUtil::UNKNOWN; ++type) {
            PhoneNumber n;
            if (util().GetExampleNumberForType(
                    region, static_cast<PhoneNumberUtil::PhoneNumberType>(type), &n)) {
                out.push_back(n);
            }
        }
        PhoneNumber n;
        if (util().GetInvalidExampleNumber(region, &n)) out.push_back(n);
    }
    std::set<int> global;
    util().GetSupportedGlobalNetworkCallingCodes(&global);
    for (const int code : global) {
        PhoneNumber n;
        if (util().GetExampleNumberForNonGeoEntity(code, &n)) out.push_back(n);
    }
    return out;
}

TEST(E164FastPath, SameAsParseAndIsValidNumberForEveryExampleNumber) {
    const auto examples = everyExampleNumber();
    ASSERT_GT(examples.size(), 1500U);
    Comparison exact;
    Comparison variants;
    for (const auto& example : examples) {
        std::string e164;
        util().Format(example, PhoneNumberUtil::E164, &e164);
        exact.check(e164.substr(1));
        variants.checkWithVariants(example);
    }
    // The fast path must carry most real numbers, or it saves nothing: today it declines only
    // those where a national prefix follows the calling code (+1 1..., +7 8..., +52 1...).
    EXPECT_GT(exact.accepted() * 100, exact.inputs() * 90)
        << exact.accepted() << " of " << exact.inputs() << " accepted";
    EXPECT_GT(variants.valid(), 1000U);
    std::cout << "examples: " << exact.accepted() << " of " << exact.inputs()
              << " accepted; variants: " << variants.accepted() << " of " << variants.inputs()
              << " accepted, " << variants.declinedParsable() << " parsable E.164 declined, "
              << variants.valid() << " valid\n";
}

// Every calling-code prefix of one to three digits, known or not, with national numbers that
// start with every digit, at the shortest and longest strict lengths.
TEST(E164FastPath, SameAsParseForEveryCallingCodePrefix) {
    Comparison comparison;
    const std::string tail = "51234567890123";
    for (int code = 0; code <= 999; ++code) {
        const std::string cc = std::to_string(code);
        for (char first = '0'; first <= '9'; ++first) {
            for (const size_t total : {size_t{7}, size_t{8}, size_t{11}, size_t{15}, size_t{16}}) {
                if (total <= cc.size() + 1) continue;
                comparison.check(cc + first + tail.substr(0, total - cc.size() - 1));
            }
        }
        comparison.check("0" + cc + "12345678");
    }
    EXPECT_GT(comparison.accepted(), 5000U);
}

TEST(E164FastPath, EdgeCases) {
    Comparison comparison;
    for (const std::string digits : {
             "14155550100",       // NANPA, US
             "12045550123",       // NANPA, valid in CA only
             "17875550123",       // NANPA, PR
             "114155550100",      // NANPA with its national prefix 1: Parse strips it
             "5215512345678",     // Mexico's old mobile 1: stripped
             "78005553535",       // +7 800: a national prefix 8 after the calling code
             "447797123456",      // +44 7797: Jersey, chosen by leading digits
             "447911123456",      // +44 GB mobile
             "4407911123456",     // +44 with the national prefix 0
             "390612345678",      // Italy: a leading zero kept
             "39000123456",       // several leading zeros
             "3900000000",        // all zeros
             "2250102030405",     // Côte d'Ivoire: ten digits starting 0
             "8613800138000",     // China
             "6512345678",        // Singapore, invalid range
             "80012345678",       // +800 international freephone
             "88213345678",       // +882, non-geographic
             "0123456789",        // +0...: no calling code starts with 0
             "2812345678",        // +28x: unassigned
             "999123456789",      // +999: unassigned
             "1234567",           // seven digits: too short for the fast path
             "123456789012345",   // fifteen
             "1234567890123456",  // sixteen
             "4915112345678",     // Germany
             "33612345678",       // France
             "919876543210",      // India
             "5511987654321",     // Brazil
             "61412345678",       // Australia
             "82101234567",       // Korea
         }) {
        comparison.check(digits);
    }
    PhoneNumber n;
    const auto& fast = E164FastPath::instance();
    EXPECT_TRUE(fast.parse("14155550100", &n));
    EXPECT_TRUE(fast.parse("447911123456", &n));
    EXPECT_TRUE(fast.parse("390612345678", &n));
    EXPECT_TRUE(n.italian_leading_zero());
    EXPECT_TRUE(fast.parse("8613800138000", &n));
    EXPECT_FALSE(fast.parse("114155550100", &n));  // Parse strips the 1
    EXPECT_FALSE(fast.parse("0123456789", &n));
    EXPECT_FALSE(fast.parse("1234567", &n));
    EXPECT_FALSE(fast.parse("1234567890123456", &n));
    EXPECT_FALSE(fast.parse("2812345678", &n));
    EXPECT_FALSE(fast.parse("4415551234a", &n));
}

// isValidNumber's promise is "for any number", not only what parse() builds.
TEST(E164FastPath, SameClassificationForHandBuiltNumbers) {
    const auto number = [](int code, uint64_t national, std::optional<bool> leadingZero = {},
                           std::optional<int> zeros = {}) {
        PhoneNumber n;
        n.set_country_code(code);
        n.set_national_number(national);
        if (leadingZero) n.set_italian_leading_zero(*leadingZero);
        if (zeros) n.set_number_of_leading_zeros(*zeros);
        return n;
    };
    const std::vector<PhoneNumber> numbers = {
        number(39, 612345678, true),      // Italy, one leading zero
        number(39, 612345678, true, 0),   // the flag without zeros
        number(39, 612345678, true, -3),  // a negative count counts as none
        number(39, 612345678, false, 2),  // zeros without the flag are ignored
        number(39, 12345, true, 3),       // several
        number(39, 612345678, true, 40),  // longer than the fast path's buffer
        number(1, 0),                     // a national number of 0
        number(1, UINT64_MAX),            // twenty digits
        number(1, 4155550100),            // US
        number(1, 2045550123),            // CA, by type
        number(44, 7797123456),           // JE, by leading digits
        number(800, 12345678),            // non-geographic
        number(0, 4155550100),            // no calling code
        number(-1, 4155550100),           // nonsense
        number(1000, 4155550100),         // beyond three digits
        number(280, 12345678),            // unassigned
    };
    for (const auto& n : numbers) Comparison::expectSameClassification(n, "hand-built");
}

// Every pattern the classification needs compiled at start-up: no calling code is left to
// libphonenumber's regex engine.
TEST(E164FastPath, CompilesEveryPatternItNeeds) {
    const auto& stats = E164FastPath::instance().compileStats();
    EXPECT_GT(stats.patterns, 1000U);
    EXPECT_EQ(stats.notCompiled, 0U);
    EXPECT_GT(stats.callingCodes, 200U);
    EXPECT_EQ(stats.callingCodesOnLibrary, 0U);
    EXPECT_LT(stats.tableBytes, size_t{4} << 20);
    std::cout << stats.patterns << " patterns, " << stats.notCompiled << " not compiled; "
              << stats.callingCodes << " calling codes, " << stats.callingCodesOnLibrary
              << " on the library; " << stats.dfaStates << " DFA states in " << stats.tableBytes
              << " bytes\n";
}

// End to end: normalize() answers as it did when it always ran Parse and IsValidNumber.
TEST(E164FastPath, NormalizeAgreesWithTheLibraryForEveryExampleNumber) {
    const PhoneNumberValidator validator(PhoneValidation::Valid);
    for (const auto& example : everyExampleNumber()) {
        std::string e164;
        util().Format(example, PhoneNumberUtil::E164, &e164);
        for (const std::string& input : {e164, e164 + "1", e164.substr(0, e164.size() - 1)}) {
            PhoneNumber parsed;
            const auto error = util().Parse(input, "ZZ", &parsed);
            std::string expected;
            if (error == PhoneNumberUtil::NO_PARSING_ERROR && util().IsValidNumber(parsed)) {
                util().Format(parsed, PhoneNumberUtil::E164, &expected);
            }
            const auto got = validator.normalize(input);
            if (input.size() - 1 > 15) continue;  // refused before the library is asked
            EXPECT_EQ(got.ok() ? got.value() : std::string(), expected) << input;
        }
    }
}

}  // namespace
}  // namespace sc::domain
