// X-SMTPAPI / SMS vars substitution (api/xsmtpapi.h) under arbitrary texts and tables: the output
// never exceeds its budget, what it produced is charged exactly, and whenever it succeeds it
// equals the straightforward definition (at each '%', the first name in the table's order that
// the text continues with; one pass for vars, one for sections).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "api/xsmtpapi.h"

namespace {

std::string naivePass(const std::string& text, const std::map<std::string, std::string>& table) {
    std::string out;
    size_t i = 0;
    while (i < text.size()) {
        bool replaced = false;
        if (text[i] == '%') {
            for (const auto& [name, value] : table) {
                if (!name.empty() && text.compare(i, name.size(), name) == 0) {
                    out += value;
                    i += name.size();
                    replaced = true;
                    break;
                }
            }
        }
        if (!replaced) out.push_back(text[i++]);
    }
    return out;
}

// Splits the input at NUL bytes: the first piece is the text, then name/value pairs; a name
// starting with 's' goes to the sections (without that letter).
void readInput(std::string_view in, std::string& text, std::map<std::string, std::string>& vars,
               std::map<std::string, std::string>& sections) {
    size_t at = in.find('\0');
    text.assign(in.substr(0, at));
    while (at != std::string_view::npos && vars.size() + sections.size() < 64) {
        const size_t nameEnd = in.find('\0', at + 1);
        if (nameEnd == std::string_view::npos) break;
        const size_t valueEnd = in.find('\0', nameEnd + 1);
        std::string name(in.substr(at + 1, nameEnd - at - 1));
        std::string value(in.substr(nameEnd + 1, valueEnd == std::string_view::npos
                                                     ? std::string_view::npos
                                                     : valueEnd - nameEnd - 1));
        if (!name.empty() && name[0] == 's') {
            sections[name.substr(1)] = value;
        } else {
            vars[name] = value;
        }
        at = valueEnd;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) return 0;
    // The first two bytes choose the budget, so small budgets are explored as much as big ones.
    const size_t outputBudget = static_cast<size_t>(data[0]) * 64;
    const size_t workBudget = static_cast<size_t>(data[1]) * 256;
    std::string text;
    std::map<std::string, std::string> vars, sections;
    readInput(std::string_view(reinterpret_cast<const char*>(data) + 2, size - 2), text, vars,
              sections);

    sc::api::SubstitutionBudget budget{outputBudget, workBudget};
    auto out = sc::api::substitute(text, vars, sections, budget);
    if (!out) return 0;
    if (out->size() > outputBudget) std::abort();
    if (budget.outputBytes != outputBudget - out->size()) std::abort();
    if (*out != naivePass(naivePass(text, vars), sections)) std::abort();
    return 0;
}
