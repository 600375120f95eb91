#include "api/xsmtpapi.h"

#include <nlohmann/json.hpp>

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

std::string replaceAll(const std::string& text, const std::map<std::string, std::string>& table) {
    if (table.empty()) return text;
    std::string out;
    out.reserve(text.size());
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

}  // namespace

std::map<std::string, std::string> XSmtpApi::varsFor(size_t index) const {
    std::map<std::string, std::string> vars = pubsub;
    for (const auto& [name, values] : sub) {
        if (index < values.size()) vars[name] = values[index];
    }
    return vars;
}

std::string substitute(const std::string& text, const std::map<std::string, std::string>& vars,
                       const std::map<std::string, std::string>& sections) {
    return replaceAll(replaceAll(text, vars), sections);
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
