#include "domain/digit_automata.h"

#include <gtest/gtest.h>
#include <phonenumbers/phonemetadata.pb.h>
#include <unicode/regex.h>

#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "domain/e164_fast_path.h"

namespace sc::domain {
namespace {

using i18n::phonenumbers::PhoneMetadata;
using i18n::phonenumbers::PhoneMetadataCollection;
using i18n::phonenumbers::PhoneNumberDesc;

struct Compiled {
    DigitAutomata automata;
    DigitAutomata::State start = 0;
};

Compiled compile(std::string_view pattern) {
    Compiled c;
    const auto start = c.automata.add(pattern);
    EXPECT_TRUE(start.has_value()) << pattern;
    c.start = start.value_or(0);
    return c;
}

bool full(std::string_view pattern, std::string_view digits) {
    const Compiled c = compile(pattern);
    return c.automata.fullMatch(c.start, digits);
}

bool prefix(std::string_view pattern, std::string_view digits) {
    const Compiled c = compile(pattern);
    return c.automata.prefixMatch(c.start, digits);
}

TEST(DigitAutomata, FullMatch) {
    EXPECT_TRUE(full("[2-9]\\d{9}", "4155550100"));
    EXPECT_FALSE(full("[2-9]\\d{9}", "1155550100"));
    EXPECT_FALSE(full("[2-9]\\d{9}", "415555010"));
    EXPECT_FALSE(full("[2-9]\\d{9}", "41555501000"));
    EXPECT_TRUE(full("(?:1[0-2]|3)\\d{2,3}", "1012"));
    EXPECT_TRUE(full("(?:1[0-2]|3)\\d{2,3}", "3123"));
    EXPECT_FALSE(full("(?:1[0-2]|3)\\d{2,3}", "31234"));
    EXPECT_TRUE(full("1{2,}3", "1113"));
    EXPECT_FALSE(full("1{2,}3", "13"));
    EXPECT_TRUE(full("(?:12)+3", "12123"));
    EXPECT_TRUE(full("1*?2", "112"));
    EXPECT_TRUE(full("(?:0|)1", "1"));
    EXPECT_TRUE(full("", ""));
    EXPECT_FALSE(full("", "1"));
    EXPECT_TRUE(full("(?:1?)*2", "1112"));  // a loop over what may match nothing
}

TEST(DigitAutomata, PrefixMatchIsLookingAt) {
    EXPECT_TRUE(prefix("1[2-4]", "13999"));
    EXPECT_FALSE(prefix("1[2-4]", "15999"));
    EXPECT_FALSE(prefix("1[2-4]", "1"));
    EXPECT_TRUE(prefix("", "123"));  // an empty match is a match for lookingAt()
    EXPECT_TRUE(prefix("7?", "123"));
    EXPECT_TRUE(prefix("2|13", "1345"));
}

TEST(DigitAutomata, ManyPatternsShareOneTable) {
    DigitAutomata automata;
    const auto a = automata.add("1\\d");
    const auto b = automata.add("2\\d{3}");
    ASSERT_TRUE(a && b);
    EXPECT_TRUE(automata.fullMatch(*a, "15"));
    EXPECT_FALSE(automata.fullMatch(*a, "2555"));
    EXPECT_TRUE(automata.fullMatch(*b, "2555"));
    EXPECT_FALSE(automata.fullMatch(*b, "15"));
    // Rows, not states: acceptance is a bit of the reference to a row, so the final states
    // are the dead row 0 with that bit, and "any digit, then the end" is one row for both.
    // Row 0; "1\\d": start, "any digit then the end"; "2\\d{3}": start, after 2, after 2 then
    // one digit (the next one is the shared row).
    EXPECT_EQ(automata.stateCount(), size_t{1 + 2 + 3});
}

TEST(DigitAutomata, CyclesAreMinimisedToo) {
    EXPECT_TRUE(full("1(?:23)*4", "1232323234"));
    EXPECT_FALSE(full("1(?:23)*4", "12324"));
    EXPECT_TRUE(full("\\d+", "9"));
    EXPECT_FALSE(full("\\d+", ""));
    EXPECT_TRUE(prefix("(?:12)+3", "1212123999"));
    EXPECT_FALSE(prefix("(?:12)+3", "12124"));
}

TEST(DigitAutomata, RefusesWhatADfaWouldGetWrong) {
    DigitAutomata automata;
    for (const std::string_view pattern :
         {"\\d*+1", "1?+", "^1", "1$", ".", "[^0]", "(?=1)1", "(0", "x", "\\s", "0{,2}"}) {
        EXPECT_FALSE(automata.add(pattern).has_value()) << pattern;
    }
}

// One pattern of the metadata with the digit strings that exercise it.
struct PatternCase {
    std::set<std::string> inputs;
    std::set<int> lengths;
    std::string where;  // a region and field, for failure messages
};

void addNear(const std::string& example, bool mutations, PatternCase* c) {
    for (size_t n = 0; n <= example.size(); ++n) c->inputs.insert(example.substr(0, n));
    for (char d = '0'; d <= '9'; ++d) c->inputs.insert(example + d);
    if (!mutations) return;
    for (size_t i = 0; i < example.size(); ++i) {
        for (char d = '0'; d <= '9'; ++d) {
            std::string mutated = example;
            mutated[i] = d;
            c->inputs.insert(mutated);
        }
    }
}

std::vector<const PhoneNumberDesc*> descsOf(const PhoneMetadata& m) {
    return {
        &m.general_desc(), &m.fixed_line(),  &m.mobile(),          &m.toll_free(),
        &m.premium_rate(), &m.shared_cost(), &m.personal_number(), &m.voip(),
        &m.pager(),        &m.uan(),         &m.voicemail(),       &m.no_international_dialling(),
        &m.emergency(),    &m.short_code(),  &m.standard_rate()};
}

std::map<std::string, PatternCase> everyPatternOfTheMetadata() {
    PhoneMetadataCollection collection;
    EXPECT_TRUE(loadPhoneMetadata(&collection));
    std::map<std::string, PatternCase> cases;
    for (const PhoneMetadata& m : collection.metadata()) {
        std::vector<std::string> examples;
        for (const PhoneNumberDesc* desc : descsOf(m)) {
            if (!desc->example_number().empty()) examples.push_back(desc->example_number());
        }
        const auto near = [&](PatternCase* c, const std::string& own) {
            for (const auto& example : examples) addNear(example, example == own, c);
        };
        for (const PhoneNumberDesc* desc : descsOf(m)) {
            if (desc->national_number_pattern().empty()) continue;
            PatternCase& c = cases[desc->national_number_pattern()];
            if (c.where.empty()) c.where = m.id() + "/" + std::to_string(m.country_code());
            for (const int length : desc->possible_length()) c.lengths.insert(length);
            near(&c, desc->example_number());
        }
        if (m.has_leading_digits()) {
            PatternCase& c = cases[m.leading_digits()];
            if (c.where.empty()) c.where = m.id() + " leading_digits";
            for (const int length : m.general_desc().possible_length()) c.lengths.insert(length);
            near(&c, "");
        }
    }
    return cases;
}

// A random string that the DFA accepts (when it accepts any within 20 digits), so that ICU
// is asked about matches the examples do not reach.
std::string walkToAcceptance(const DigitAutomata& automata, DigitAutomata::State start,
                             std::mt19937* random) {
    std::string out;
    DigitAutomata::State s = start;
    while (out.size() < 20) {
        if (DigitAutomata::accepting(s) && (*random)() % 4 == 0) break;
        std::vector<char> live;
        for (char d = '0'; d <= '9'; ++d) {
            if (automata.step(s, d) != 0) live.push_back(d);
        }
        if (live.empty()) break;
        const char d = live[(*random)() % live.size()];
        out += d;
        s = automata.step(s, d);
    }
    return out;
}

// Every national_number_pattern (of every kind of number, short codes included) and every
// leading_digits pattern of libphonenumber's metadata, against ICU's regex engine, which is
// what libphonenumber itself matches them with (RegexMatcher::matches() for FullMatch,
// lookingAt() for Consume).
TEST(DigitAutomata, SameAsIcuForEveryPatternOfTheMetadata) {
    const auto cases = everyPatternOfTheMetadata();
    ASSERT_GT(cases.size(), 1000U);
    std::mt19937 random(20261128);
    size_t notCompiled = 0;
    size_t compared = 0;
    size_t fullMatches = 0;
    DigitAutomata automata;
    for (const auto& [pattern, c] : cases) {
        const auto start = automata.add(pattern);
        if (!start) {
            ++notCompiled;
            ADD_FAILURE() << "not compiled: " << pattern << " (" << c.where << ")";
            continue;
        }
        UErrorCode status = U_ZERO_ERROR;
        UParseError parseError;
        const std::unique_ptr<icu::RegexPattern> icuPattern(icu::RegexPattern::compile(
            icu::UnicodeString::fromUTF8(pattern), 0, parseError, status));
        ASSERT_TRUE(U_SUCCESS(status)) << pattern;
        const std::unique_ptr<icu::RegexMatcher> matcher(icuPattern->matcher(status));
        ASSERT_TRUE(U_SUCCESS(status)) << pattern;

        std::set<std::string> inputs = c.inputs;
        std::vector<int> lengths(c.lengths.begin(), c.lengths.end());
        if (lengths.empty() || lengths.front() < 0) lengths = {4, 6, 8, 9, 10, 11, 12};
        for (int i = 0; i < 60; ++i) {
            const int length =
                lengths[random() % lengths.size()] + static_cast<int>(random() % 3) - 1;
            std::string digits;
            for (int k = 0; k < length; ++k) digits += static_cast<char>('0' + random() % 10);
            inputs.insert(digits);
        }
        for (int i = 0; i < 40; ++i) inputs.insert(walkToAcceptance(automata, *start, &random));

        for (const std::string& digits : inputs) {
            const icu::UnicodeString input = icu::UnicodeString::fromUTF8(digits);
            matcher->reset(input);
            const bool icuFull = matcher->matches(status) != 0;
            matcher->reset(input);
            const bool icuPrefix = matcher->lookingAt(status) != 0;
            ASSERT_TRUE(U_SUCCESS(status)) << pattern;
            EXPECT_EQ(automata.fullMatch(*start, digits), icuFull)
                << "full match of " << digits << " by " << pattern << " (" << c.where << ")";
            EXPECT_EQ(automata.prefixMatch(*start, digits), icuPrefix)
                << "prefix match of " << digits << " by " << pattern << " (" << c.where << ")";
            ++compared;
            fullMatches += icuFull ? 1 : 0;
        }
    }
    EXPECT_EQ(notCompiled, 0U);
    EXPECT_GT(fullMatches, compared / 10) << "too few matching inputs to prove anything";
    std::cout << cases.size() << " patterns, " << notCompiled << " not compiled; " << compared
              << " inputs compared with ICU (" << fullMatches << " full matches); "
              << automata.stateCount() << " DFA states, " << automata.tableBytes() << " bytes\n";
}

}  // namespace
}  // namespace sc::domain
