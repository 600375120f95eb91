#pragma once
// The patterns of libphonenumber's metadata (national_number_pattern, leading_digits,
// national_prefix_for_parsing) are regular expressions over ASCII digits in a small dialect.
// libphonenumber matches them with ICU's backtracking engine behind a cache keyed by the
// pattern string, which hashes the whole (often kilobyte-long) pattern on every lookup. Here
// each pattern is read once and compiled to a minimal DFA over the ten digits, so that a match
// is one table step per digit. tests/unit/domain/digit_automata_test.cpp compares every
// pattern of the metadata with ICU.

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sc::domain {

// A pattern of the dialect as a tree. kUnbounded as `max` is `*`/`+`/`{n,}`.
struct DigitPatternNode {
    static constexpr int kUnbounded = -2;
    enum class Kind { Digits, Start, End, Alternation, Sequence };
    Kind kind = Kind::Sequence;
    uint16_t digits = 0;  // Digits: bit d set when the ASCII digit d matches
    int min = 1;          // how often the node repeats
    int max = 1;
    // A possessive quantifier (`*+`) gives back nothing, which can remove matches: only a
    // reader that over-approximates may treat it as greedy.
    bool possessive = false;
    std::vector<DigitPatternNode> children;
};

// Reads digits, \d, classes of digits ([0-9], not [^...]), (?:...) and (...) groups,
// alternation, ?, *, +, {n}, {n,}, {n,m} (each maybe lazy or possessive), ^ and $. Anything
// else gives nullopt.
std::optional<DigitPatternNode> readDigitPattern(std::string_view pattern);

// Many patterns compiled to DFAs that share one transition table. A state is a 32-bit value:
// its row in the table, and kAccepting when a match may end there. Row 0 is the dead state
// (value 0): no continuation matches, so a walk stops as soon as it gets there.
class DigitAutomata {
public:
    using State = uint32_t;
    using Row = std::array<State, 10>;
    struct RowHash {
        size_t operator()(const Row& row) const {
            uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a over the entries
            for (const State s : row) h = (h ^ s) * 0x100000001b3ULL;
            return static_cast<size_t>(h ^ (h >> 29));
        }
    };
    using RowIndex = std::unordered_map<Row, uint32_t, RowHash>;

    DigitAutomata();

    // The start state of `pattern`'s DFA, or nullopt when the pattern is outside the dialect,
    // uses what a DFA cannot reproduce exactly (possessive quantifiers, ^, $), or would need
    // more states than kMaxStatesPerPattern.
    std::optional<State> add(std::string_view pattern);

    // ICU RegexMatcher::matches(): the whole of `digits` (ASCII digits only) matches.
    bool fullMatch(State start, std::string_view digits) const {
        State s = start;
        for (const char c : digits) {
            s = next_[(s & kRowMask) * 10 + static_cast<uint32_t>(c - '0')];
            if (s == 0) return false;
        }
        return (s & kAccepting) != 0;
    }

    // ICU RegexMatcher::lookingAt(): some prefix of `digits`, maybe empty, matches.
    bool prefixMatch(State start, std::string_view digits) const {
        State s = start;
        if ((s & kAccepting) != 0) return true;
        for (const char c : digits) {
            s = next_[(s & kRowMask) * 10 + static_cast<uint32_t>(c - '0')];
            if ((s & kAccepting) != 0) return true;
            if (s == 0) return false;
        }
        return false;
    }

    State step(State s, char digit) const {
        return next_[(s & kRowMask) * 10 + static_cast<uint32_t>(digit - '0')];
    }
    static bool accepting(State s) { return (s & kAccepting) != 0; }

    // After the last add(): gives back what the table's growth reserved and the index that
    // shares rows between patterns (later patterns would share only among themselves).
    void shrinkToFit() {
        next_.shrink_to_fit();
        rowIndex_ = RowIndex();
    }

    size_t stateCount() const { return next_.size() / 10; }
    size_t tableBytes() const { return next_.capacity() * sizeof(State); }

    static constexpr State kAccepting = 0x80000000U;
    static constexpr State kRowMask = 0x7FFFFFFFU;
    static constexpr size_t kMaxStatesPerPattern = 20000;

private:
    std::vector<State> next_;  // 10 entries per row, one per digit
    RowIndex rowIndex_;        // rows by content, to share equal ones
};

}  // namespace sc::domain
