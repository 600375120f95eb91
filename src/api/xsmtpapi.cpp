#include "api/xsmtpapi.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <vector>

namespace sc::api {

namespace {

ApiError bad(std::string hint) {
    return ApiError{400, "email.xsmtpapi_invalid", std::move(hint), {}};
}

std::string scalarText(const nlohmann::json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number() || v.is_boolean()) return v.dump();
    return {};
}

bool isScalar(const nlohmann::json& v) {
    return v.is_string() || v.is_number() || v.is_boolean();
}

// The length of the shortest name in `names` (sorted, all starting with '%') that `text` starts
// with, or 0. Walks the sorted names instead of trying each one: with q the first name not
// before text's first `len` characters, either q matches, or no name shares those characters, or
// every match is longer than what q and text have in common, which is where the next try starts.
size_t shortestMatch(std::string_view text, const std::vector<std::string_view>& names,
                     size_t& work) {
    size_t len = 1;
    while (len <= text.size()) {
        const std::string_view prefix = text.substr(0, len);
        auto it = std::lower_bound(names.begin(), names.end(), prefix);
        work += len;
        if (it == names.end() || it->substr(0, len) != prefix) return 0;
        const std::string_view q = *it;
        size_t common = len;
        while (common < q.size() && common < text.size() && q[common] == text[common]) ++common;
        work += common - len;
        if (common == q.size()) return q.size();
        len = common + 1;
    }
    return 0;
}

// One pass over `text`; false when the output or the work would pass the budget.
bool replaceAll(std::string_view text, const std::map<std::string, std::string>& table,
                size_t outputLimit, size_t& work, size_t workLimit, std::string& out) {
    out.clear();
    std::vector<std::string_view> names;
    for (const auto& [name, value] : table) {
        if (!name.empty() && name[0] == '%') names.push_back(name);
    }
    if (names.empty()) {
        if (text.size() > outputLimit) return false;
        out.assign(text);
        return true;
    }
    out.reserve(std::min(text.size(), outputLimit));
    size_t i = 0;
    while (i < text.size()) {
        const size_t next = text.find('%', i);
        const size_t plainEnd = next == std::string_view::npos ? text.size() : next;
        if (out.size() + (plainEnd - i) > outputLimit) return false;
        out.append(text.substr(i, plainEnd - i));
        i = plainEnd;
        if (i == text.size()) break;
        const size_t matched = shortestMatch(text.substr(i), names, work);
        if (work > workLimit) return false;
        if (matched == 0) {
            if (out.size() + 1 > outputLimit) return false;
            out.push_back('%');
            ++i;
            continue;
        }
        const std::string& value = table.find(std::string(text.substr(i, matched)))->second;
        if (out.size() + value.size() > outputLimit) return false;
        out += value;
        i += matched;
    }
    return true;
}

}  // namespace

std::map<std::string, std::string> XSmtpApi::varsFor(size_t index) const {
    std::map<std::string, std::string> vars = pubsub;
    for (const auto& [name, values] : sub) {
        if (index < values.size()) vars[name] = values[index];
    }
    return vars;
}

std::optional<std::string> substitute(std::string_view text,
                                      const std::map<std::string, std::string>& vars,
                                      const std::map<std::string, std::string>& sections,
                                      SubstitutionBudget& budget) {
    size_t work = 0;
    std::string once;
    std::string twice;
    if (!replaceAll(text, vars, budget.outputBytes, work, budget.work, once) ||
        !replaceAll(once, sections, budget.outputBytes, work, budget.work, twice)) {
        return std::nullopt;
    }
    budget.outputBytes -= twice.size();
    budget.work -= std::min(work, budget.work);
    return twice;
}

namespace {

// SendCloud's SDKs send every member and `null` for the unset ones
// ({"to": [...], "sub": {...}, "pubsub": null, "filters": null}): a null member means absent.
bool hasMember(const nlohmann::json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && !it->is_null();
}

}  // namespace

Result<XSmtpApi, ApiError> parseXSmtpApi(const std::string& text, size_t maxRecipients) {
    if (text.size() > kMaxXsmtpapiBytes) {
        return fail(
            ApiError{413, "email.xsmtpapi_too_large", "xsmtpapi may hold at most 1 MiB", {}});
    }
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded()) return fail(bad("xsmtpapi is not valid JSON"));
    if (!j.is_object()) return fail(bad("xsmtpapi must be a JSON object"));
    XSmtpApi x;

    if (hasMember(j, "to")) {
        const auto& to = j["to"];
        if (!to.is_array()) return fail(bad("xsmtpapi.to must be an array of addresses"));
        if (to.empty()) return fail(bad("xsmtpapi.to is empty"));
        if (to.size() > maxRecipients) {
            return fail(bad("xsmtpapi.to may name at most " + std::to_string(maxRecipients) +
                            " recipients; it names " + std::to_string(to.size())));
        }
        for (size_t i = 0; i < to.size(); ++i) {
            if (!to[i].is_string()) {
                return fail(bad("xsmtpapi.to[" + std::to_string(i) + "] must be a string"));
            }
            auto addr = domain::parseMailbox(to[i].get<std::string>());
            if (!addr) {
                return fail(bad("xsmtpapi.to[" + std::to_string(i) + "]: " + addr.error().hint));
            }
            x.to.push_back(std::move(addr).value());
        }
    }
    if (hasMember(j, "sub")) {
        const auto& sub = j["sub"];
        if (!sub.is_object()) return fail(bad("xsmtpapi.sub must be an object of arrays"));
        if (x.to.empty()) {
            return fail(
                bad("xsmtpapi.sub needs xsmtpapi.to: its values are matched to those "
                    "recipients by position"));
        }
        for (const auto& [name, values] : sub.items()) {
            if (!values.is_array()) {
                return fail(bad("xsmtpapi.sub['" + name + "'] must be an array"));
            }
            if (values.size() != x.to.size()) {
                return fail(bad("xsmtpapi.sub['" + name + "'] has " +
                                std::to_string(values.size()) + " values but xsmtpapi.to has " +
                                std::to_string(x.to.size()) + " recipients"));
            }
            std::vector<std::string> list;
            for (size_t i = 0; i < values.size(); ++i) {
                if (!isScalar(values[i])) {
                    return fail(bad("xsmtpapi.sub['" + name + "'][" + std::to_string(i) +
                                    "] must be a string"));
                }
                list.push_back(scalarText(values[i]));
            }
            x.sub[name] = std::move(list);
        }
    }
    for (auto [key, target] : {std::pair{"section", &x.section}, std::pair{"pubsub", &x.pubsub}}) {
        if (!hasMember(j, key)) continue;
        const auto& obj = j[key];
        if (!obj.is_object()) {
            return fail(bad("xsmtpapi." + std::string(key) + " must be an object of strings"));
        }
        for (const auto& [name, value] : obj.items()) {
            if (!isScalar(value)) {
                return fail(
                    bad("xsmtpapi." + std::string(key) + "['" + name + "'] must be a string"));
            }
            (*target)[name] = scalarText(value);
        }
    }
    return x;
}

}  // namespace sc::api
