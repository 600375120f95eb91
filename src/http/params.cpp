#include "http/params.h"

#include <algorithm>
#include <unordered_map>
#include <utility>

namespace sc::http {

void ParamMap::add(std::string name, std::string value) {
    items_.push_back(Param{std::move(name), std::move(value)});
}

std::optional<std::string_view> ParamMap::get(std::string_view name) const {
    for (const auto& p : items_) {
        if (p.name == name) return std::string_view(p.value);
    }
    return std::nullopt;
}

bool ParamMap::has(std::string_view name) const {
    return get(name).has_value();
}

std::vector<std::string_view> ParamMap::all(std::string_view name) const {
    std::vector<std::string_view> values;
    for (const auto& p : items_) {
        if (p.name == name) values.emplace_back(p.value);
    }
    return values;
}

std::optional<std::string> ParamMap::firstConflict(
    const std::vector<std::string_view>& listNames) const {
    // One pass with a map keeps this linear: a request may carry up to ParseLimits::maxParams
    // parameters, and a pairwise scan would let a client buy quadratic work cheaply.
    struct Seen {
        size_t firstIndex;
        std::string_view firstValue;
    };
    std::unordered_map<std::string_view, Seen> seen;
    seen.reserve(items_.size());
    std::optional<size_t> conflictAt;  // index of the first arrival of the conflicting name
    for (size_t i = 0; i < items_.size(); ++i) {
        const Param& p = items_[i];
        if (std::find(listNames.begin(), listNames.end(), p.name) != listNames.end()) continue;
        auto [it, inserted] = seen.try_emplace(p.name, Seen{i, p.value});
        if (inserted || it->second.firstValue == p.value) continue;
        if (!conflictAt || it->second.firstIndex < *conflictAt) conflictAt = it->second.firstIndex;
    }
    if (!conflictAt) return std::nullopt;
    return items_[*conflictAt].name;
}

}  // namespace sc::http
