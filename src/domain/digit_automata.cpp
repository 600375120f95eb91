#include "domain/digit_automata.h"

#include <algorithm>
#include <array>
#include <bit>
#include <span>
#include <unordered_map>
#include <utility>

namespace sc::domain {
namespace {

using Node = DigitPatternNode;

class PatternReader {
public:
    explicit PatternReader(std::string_view pattern) : p_(pattern) {}

    std::optional<Node> read() {
        Node root = alternation();
        if (!understood_ || pos_ != p_.size()) return std::nullopt;
        return root;
    }

private:
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

    void quantifier(Node* node) {
        if (take('?')) {
            node->min = 0;
            node->max = 1;
        } else if (take('*')) {
            node->min = 0;
            node->max = Node::kUnbounded;
        } else if (take('+')) {
            node->min = 1;
            node->max = Node::kUnbounded;
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
            if (take(',')) node->max = peek() == '}' ? Node::kUnbounded : number();
            if (node->min < 0 || node->max == -1 || !take('}') ||
                (node->max != Node::kUnbounded && node->max < node->min)) {
                notUnderstood();
                return;
            }
        } else {
            return;
        }
        // Lazy matching finds the same set of matches in another order, which changes nothing
        // for a yes/no answer; possessive matching does not.
        if (!take('?')) node->possessive = take('+');
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

// Thompson's construction: states with at most one digit transition plus epsilon moves.
// Counted repetition is written out (\d{7} becomes seven states), which the metadata's small
// counts allow. Epsilon moves are gathered in one array, not a vector per state: start-up
// builds some 10^5 states.
class Nfa {
public:
    static constexpr size_t kMaxStates = 60000;

    struct State {
        uint16_t digits = 0;
        int next = -1;  // target of the digit transition
    };

    // False when the pattern has what a DFA would get wrong or is too large.
    bool build(const Node& root, size_t patternSize) {
        states_.reserve(patternSize * 2);
        epsilonMoves_.reserve(patternSize * 2);
        start_ = add();
        final_ = repeat(root, start_);
        if (!ok_) return false;
        // Epsilon moves by source state (a counting sort).
        epsilonBegin_.assign(states_.size() + 1, 0);
        for (const auto& [from, to] : epsilonMoves_) ++epsilonBegin_[static_cast<size_t>(from) + 1];
        for (size_t i = 1; i < epsilonBegin_.size(); ++i) epsilonBegin_[i] += epsilonBegin_[i - 1];
        epsilonTargets_.resize(epsilonMoves_.size());
        std::vector<uint32_t> fill(epsilonBegin_.begin(), epsilonBegin_.end() - 1);
        for (const auto& [from, to] : epsilonMoves_) {
            epsilonTargets_[fill[static_cast<size_t>(from)]++] = to;
        }
        return true;
    }

    const std::vector<State>& states() const { return states_; }
    int start() const { return start_; }
    int final() const { return final_; }
    std::span<const int> epsilon(int from) const {
        const auto s = static_cast<size_t>(from);
        return {epsilonTargets_.data() + epsilonBegin_[s], epsilonBegin_[s + 1] - epsilonBegin_[s]};
    }

private:
    int add() {
        if (states_.size() >= kMaxStates) {
            ok_ = false;
            return 0;
        }
        states_.emplace_back();
        return static_cast<int>(states_.size() - 1);
    }
    void epsilon(int from, int to) {
        if (ok_) epsilonMoves_.emplace_back(from, to);
    }

    int repeat(const Node& node, int from) {
        if (node.possessive) ok_ = false;
        int current = from;
        for (int i = 0; i < node.min && ok_; ++i) current = once(node, current);
        if (node.max == Node::kUnbounded) {
            const int loop = add();
            epsilon(current, loop);
            const int end = once(node, loop);
            epsilon(end, loop);
            return loop;
        }
        if (node.max == node.min) return current;
        const int exit = add();
        epsilon(current, exit);
        for (int i = node.min; i < node.max && ok_; ++i) {
            current = once(node, current);
            epsilon(current, exit);
        }
        return exit;
    }

    int once(const Node& node, int from) {
        if (!ok_) return from;
        switch (node.kind) {
            case Node::Kind::Digits: {
                // A state holds one digit transition besides its epsilon moves: use `from`
                // itself when it has none yet, which halves the states of most patterns.
                int source = from;
                if (states_[static_cast<size_t>(from)].digits != 0) {
                    source = add();
                    epsilon(from, source);
                }
                const int target = add();
                if (!ok_) return from;
                states_[static_cast<size_t>(source)].digits = node.digits;
                states_[static_cast<size_t>(source)].next = target;
                return target;
            }
            case Node::Kind::Sequence: {
                int current = from;
                for (const Node& child : node.children) current = repeat(child, current);
                return current;
            }
            case Node::Kind::Alternation: {
                if (node.children.size() == 1) return repeat(node.children.front(), from);
                const int end = add();
                for (const Node& child : node.children) {
                    const int branch = add();
                    epsilon(from, branch);
                    epsilon(repeat(child, branch), end);
                }
                return end;
            }
            case Node::Kind::Start:
            case Node::Kind::End:
                // Anchors inside a pattern are rare and would need positions in the DFA.
                ok_ = false;
                return from;
        }
        return from;
    }

    std::vector<State> states_;
    std::vector<std::pair<int, int>> epsilonMoves_;
    std::vector<uint32_t> epsilonBegin_;
    std::vector<int> epsilonTargets_;
    int start_ = 0;
    int final_ = 0;
    bool ok_ = true;
};

struct IntsHash {
    template <typename Ints>
    size_t operator()(const Ints& ints) const {
        uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a over the values
        for (const auto v : ints) h = (h ^ static_cast<uint32_t>(v)) * 0x100000001b3ULL;
        return static_cast<size_t>(h ^ (h >> 29));
    }
};

// The subset construction, keeping in each set only the NFA states that matter (those with a
// digit transition, and the final one), then Moore's partition refinement to the minimal DFA.
class DfaBuilder {
public:
    explicit DfaBuilder(const Nfa& nfa) : nfa_(nfa), mark_(nfa.states().size(), 0) {}

    bool build(size_t maxStates) {
        // Row 0: the empty set, the dead state.
        intern({});
        closure({nfa_.start()});
        intern(kept_);
        std::array<std::vector<int>, 10> targets;
        for (size_t row = 1; row < sets_.size(); ++row) {
            for (auto& t : targets) t.clear();
            for (const int s : *sets_[row]) {
                const Nfa::State& state = nfa_.states()[static_cast<size_t>(s)];
                for (uint32_t bits = state.digits; bits != 0; bits &= bits - 1) {
                    targets[static_cast<size_t>(std::countr_zero(bits))].push_back(state.next);
                }
            }
            for (size_t d = 0; d < 10; ++d) {
                uint32_t id = 0;
                if (!targets[d].empty()) {
                    closure(targets[d]);
                    id = intern(kept_);
                }
                next_[row * 10 + d] = id;
                if (sets_.size() > maxStates) return false;
            }
        }
        return true;
    }

    // Appends the minimal DFA's rows to `table` (whose row 0 is the shared dead state) and
    // returns the start state. An acyclic DFA (the metadata's patterns nearly all are: no * or
    // +) is minimised bottom-up by hash-consing its rows into `index`, which also shares equal
    // rows with every pattern added before ("any digit, then the end" and the like); one with
    // a cycle by Moore's partition refinement, its rows appended unshared.
    DigitAutomata::State emit(std::vector<DigitAutomata::State>* table,
                              DigitAutomata::RowIndex* index) const {
        std::vector<uint32_t> postOrder;
        if (!topologicalOrder(&postOrder)) return emitByRefinement(table);
        std::vector<DigitAutomata::State> canonical(sets_.size(), 0);
        for (const uint32_t s : postOrder) {
            DigitAutomata::Row row;
            bool dead = true;
            for (size_t d = 0; d < 10; ++d) {
                row[d] = canonical[next_[size_t{s} * 10 + d]];
                dead = dead && row[d] == 0;
            }
            uint32_t rowIndex = 0;
            if (!dead) {
                const auto next = static_cast<uint32_t>(table->size() / 10);
                const auto [it, added] = index->emplace(row, next);
                if (added) table->insert(table->end(), row.begin(), row.end());
                rowIndex = it->second;
            }
            canonical[s] = rowIndex | (accepting_[s] ? DigitAutomata::kAccepting : 0);
        }
        return canonical[1];
    }

    bool topologicalOrder(std::vector<uint32_t>* postOrder) const {
        enum : uint8_t { kNew, kOnPath, kDone };
        std::vector<uint8_t> color(sets_.size(), kNew);
        std::vector<std::pair<uint32_t, uint32_t>> path;  // state, next digit to follow
        path.emplace_back(1, 0);
        color[1] = kOnPath;
        while (!path.empty()) {
            auto& [s, d] = path.back();
            if (d == 10) {
                color[s] = kDone;
                postOrder->push_back(s);
                path.pop_back();
                continue;
            }
            const uint32_t t = next_[size_t{s} * 10 + d++];
            if (t == 0 || color[t] == kDone) continue;
            if (color[t] == kOnPath) return false;
            color[t] = kOnPath;
            path.emplace_back(t, 0);
        }
        return true;
    }

    DigitAutomata::State emitByRefinement(std::vector<DigitAutomata::State>* table) const {
        const size_t n = sets_.size();
        std::vector<uint32_t> cls(n);
        for (size_t s = 0; s < n; ++s) cls[s] = accepting_[s] ? 1 : 0;
        size_t classes = 0;
        std::unordered_map<std::array<uint32_t, 11>, uint32_t, IntsHash> signatures;
        std::vector<uint32_t> refined(n);
        for (;;) {
            signatures.clear();
            for (size_t s = 0; s < n; ++s) {
                std::array<uint32_t, 11> signature{};
                signature[0] = cls[s];
                for (size_t d = 0; d < 10; ++d) signature[d + 1] = cls[next_[s * 10 + d]];
                const auto size = static_cast<uint32_t>(signatures.size());
                refined[s] = signatures.emplace(signature, size).first->second;
            }
            cls.swap(refined);
            if (signatures.size() == classes) break;
            classes = signatures.size();
        }
        // The dead state's class maps to row 0; the others get fresh rows.
        const uint32_t deadClass = cls[0];
        const size_t firstRow = table->size() / 10;
        std::vector<uint32_t> rowOf(classes, 0);
        uint32_t nextRow = static_cast<uint32_t>(firstRow);
        std::vector<size_t> representative(classes, n);
        for (size_t s = 0; s < n; ++s) {
            if (representative[cls[s]] != n) continue;
            representative[cls[s]] = s;
            if (cls[s] != deadClass) rowOf[cls[s]] = nextRow++;
        }
        const auto encode = [&](size_t s) {
            const uint32_t row = rowOf[cls[s]];
            return row == 0 ? DigitAutomata::State{0}
                            : row | (accepting_[s] ? DigitAutomata::kAccepting : 0);
        };
        table->resize(size_t{nextRow} * 10, 0);
        for (size_t c = 0; c < classes; ++c) {
            if (c == deadClass) continue;
            const size_t s = representative[c];
            for (size_t d = 0; d < 10; ++d) {
                (*table)[size_t{rowOf[c]} * 10 + d] = encode(next_[s * 10 + d]);
            }
        }
        return encode(1);
    }

private:
    // Leaves in kept_ the sorted states that matter among those reachable from `from`.
    void closure(const std::vector<int>& from) {
        ++generation_;
        stack_.assign(from.begin(), from.end());
        kept_.clear();
        for (const int s : from) mark_[static_cast<size_t>(s)] = generation_;
        while (!stack_.empty()) {
            const int s = stack_.back();
            stack_.pop_back();
            if (nfa_.states()[static_cast<size_t>(s)].digits != 0 || s == nfa_.final()) {
                kept_.push_back(s);
            }
            for (const int t : nfa_.epsilon(s)) {
                if (mark_[static_cast<size_t>(t)] == generation_) continue;
                mark_[static_cast<size_t>(t)] = generation_;
                stack_.push_back(t);
            }
        }
        std::sort(kept_.begin(), kept_.end());
    }

    uint32_t intern(const std::vector<int>& set) {
        const auto found = ids_.find(set);
        if (found != ids_.end()) return found->second;
        const auto id = static_cast<uint32_t>(sets_.size());
        accepting_.push_back(std::binary_search(set.begin(), set.end(), nfa_.final()));
        sets_.push_back(&ids_.emplace(set, id).first->first);
        next_.resize(sets_.size() * 10, 0);
        return id;
    }

    const Nfa& nfa_;
    std::vector<uint32_t> mark_;
    uint32_t generation_ = 0;
    std::vector<int> stack_;
    std::vector<int> kept_;
    std::unordered_map<std::vector<int>, uint32_t, IntsHash> ids_;
    std::vector<const std::vector<int>*> sets_;  // the keys of ids_, by id
    std::vector<bool> accepting_;
    std::vector<uint32_t> next_;  // 10 per set
};

}  // namespace

std::optional<DigitPatternNode> readDigitPattern(std::string_view pattern) {
    return PatternReader(pattern).read();
}

DigitAutomata::DigitAutomata() : next_(10, 0) {}

std::optional<DigitAutomata::State> DigitAutomata::add(std::string_view pattern) {
    const auto root = readDigitPattern(pattern);
    if (!root) return std::nullopt;
    Nfa nfa;
    if (!nfa.build(*root, pattern.size())) return std::nullopt;
    DfaBuilder builder(nfa);
    if (!builder.build(kMaxStatesPerPattern)) return std::nullopt;
    return builder.emit(&next_, &rowIndex_);
}

}  // namespace sc::domain
