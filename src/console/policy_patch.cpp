#include "console/policy_patch.h"

#include <algorithm>

#include "console/str_cat.h"
#include "policy/cidr.h"

namespace sc::console {

namespace {

api::ApiError badRequest(std::string hint) {
    return api::ApiError{400, "console.bad_request", std::move(hint), {}};
}

std::string quote(std::string_view s) {
    // Names, CIDRs and domains are not secrets, but a hint should stay short.
    return strCat('\'', s.substr(0, 100), s.size() > 100 ? "...'" : "'");
}

Result<bool, api::ApiError> boolField(const nlohmann::json& v, const char* name) {
    if (!v.is_boolean()) {
        return fail(badRequest(strCat(name, " must be true or false")));
    }
    return v.get<bool>();
}

Result<int64_t, api::ApiError> countField(const nlohmann::json& v, const char* name) {
    bool ok = v.is_number_integer() && !(v.is_number_unsigned() && v.get<uint64_t>() > INT64_MAX);
    if (ok && v.get<int64_t>() >= 0) return v.get<int64_t>();
    return fail(api::ApiError{400,
                              "console.invalid_value",
                              strCat(name, " must be a non-negative integer (0: unlimited)"),
                              {}});
}

Result<std::vector<std::string>, api::ApiError> stringList(const nlohmann::json& v,
                                                           const char* name) {
    const std::string shape = strCat(name, " must be an array of strings");
    if (!v.is_array()) return fail(badRequest(shape));
    if (v.size() > kMaxListEntries) {
        return fail(api::ApiError{400,
                                  "console.invalid_value",
                                  strCat(name, " may hold at most ", kMaxListEntries, " entries"),
                                  {}});
    }
    std::vector<std::string> out;
    for (const auto& e : v) {
        if (!e.is_string()) return fail(badRequest(shape));
        out.push_back(e.get<std::string>());
    }
    return out;
}

}  // namespace

bool isHostname(std::string_view name) {
    if (name.empty() || name.size() > 253) return false;
    size_t start = 0;
    while (true) {
        size_t dot = name.find('.', start);
        std::string_view label = name.substr(
            start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
        if (label.empty() || label.size() > 63) return false;
        if (label.front() == '-' || label.back() == '-') return false;
        for (char c : label) {
            bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-';
            if (!ok) return false;
        }
        if (dot == std::string_view::npos) return true;
        start = dot + 1;
    }
}

namespace {

// An IP allowlist: addresses or CIDR ranges, each as the send path will read it.
Result<std::vector<std::string>, api::ApiError> ipAllowlistField(const nlohmann::json& v) {
    auto list = stringList(v, "ipAllowlist");
    if (!list) return fail(std::move(list).error());
    for (const auto& entry : *list) {
        if (!policy::validAllowlistEntry(entry)) {
            return fail(
                api::ApiError{400,
                              "console.invalid_cidr",
                              strCat(quote(entry),
                                     " is not an IP address or CIDR range (e.g. 203.0.113.0/24, "
                                     "2001:db8::/32, 198.51.100.7)"),
                              {}});
        }
    }
    return list;
}

// Sender domains, lower-cased: the send path compares the `from` domain lower-cased.
Result<std::vector<std::string>, api::ApiError> senderDomainsField(const nlohmann::json& v) {
    auto list = stringList(v, "senderDomains");
    if (!list) return fail(std::move(list).error());
    for (auto& d : *list) {
        if (!isHostname(d)) {
            return fail(api::ApiError{400,
                                      "console.invalid_domain",
                                      strCat(quote(d), " is not a domain name (e.g. example.com)"),
                                      {}});
        }
        std::transform(d.begin(), d.end(), d.begin(), [](char c) {
            return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
        });
    }
    return list;
}

// Only a route this server has (or "" for none): a typo would otherwise leave the user's
// messages on the prefix/default route without anyone noticing.
Result<std::string, api::ApiError> smsRouteField(const nlohmann::json& v,
                                                 const std::vector<std::string>& smsRoutes) {
    if (!v.is_string()) return fail(badRequest("smsRoute must be a string"));
    auto route = v.get<std::string>();
    if (!route.empty() && std::find(smsRoutes.begin(), smsRoutes.end(), route) == smsRoutes.end()) {
        std::string names;
        for (const auto& r : smsRoutes) names += (names.empty() ? "" : ", ") + r;
        return fail(api::ApiError{
            400,
            "console.unknown_route",
            route.size() > 64 ? std::string("no such SMS route")
                              : strCat("no SMS route named ", quote(route), "; this server has ",
                                       names.empty() ? std::string("none") : names),
            {}});
    }
    return route;
}

}  // namespace

Result<PolicyPatch, api::ApiError> parsePolicyPatch(
    const nlohmann::json& body, store::UserKind kind, bool allowDisabled,
    std::initializer_list<std::string_view> otherKeys, const std::vector<std::string>& smsRoutes) {
    if (!body.is_object()) return fail(badRequest("the body must be a JSON object"));
    PolicyPatch p;
    for (const auto& [key, v] : body.items()) {
        if (std::find(otherKeys.begin(), otherKeys.end(), key) != otherKeys.end()) continue;
        if (key == "purpose") {
            if (!v.is_string()) return fail(badRequest("purpose must be a string"));
            std::string s = v.get<std::string>();
            if (s.size() > kMaxPurposeBytes) {
                return fail(
                    api::ApiError{400,
                                  "console.invalid_value",
                                  strCat("purpose may be at most ", kMaxPurposeBytes, " bytes"),
                                  {}});
            }
            p.purpose = std::move(s);
        } else if (key == "disabled" && allowDisabled) {
            auto b = boolField(v, "disabled");
            if (!b) return fail(std::move(b).error());
            p.disabled = *b;
        } else if (key == "testMode") {
            auto b = boolField(v, "testMode");
            if (!b) return fail(std::move(b).error());
            p.testMode = *b;
        } else if (key == "ipAllowlist") {
            auto list = ipAllowlistField(v);
            if (!list) return fail(std::move(list).error());
            p.ipAllowlist = std::move(list).value();
        } else if (key == "senderDomains") {
            if (kind != store::UserKind::Email) {
                return fail(badRequest("senderDomains applies only to email users"));
            }
            auto list = senderDomainsField(v);
            if (!list) return fail(std::move(list).error());
            p.senderDomains = std::move(list).value();
        } else if (key == "rateLimitPerMinute") {
            auto n = countField(v, "rateLimitPerMinute");
            if (!n) return fail(std::move(n).error());
            p.rateLimitPerMinute = *n;
        } else if (key == "dailyQuota") {
            auto n = countField(v, "dailyQuota");
            if (!n) return fail(std::move(n).error());
            p.dailyQuota = *n;
        } else if (key == "smsRoute") {
            if (kind != store::UserKind::Sms) {
                return fail(badRequest("smsRoute applies only to SMS users"));
            }
            auto route = smsRouteField(v, smsRoutes);
            if (!route) return fail(std::move(route).error());
            p.smsRoute = std::move(route).value();
        } else {
            return fail(badRequest(
                strCat("unknown field ", quote(key), "; the fields are purpose, ",
                       allowDisabled ? "disabled, " : "", "testMode, ipAllowlist, ",
                       kind == store::UserKind::Email ? "senderDomains, " : "",
                       kind == store::UserKind::Sms ? "rateLimitPerMinute, dailyQuota and smsRoute"
                                                    : "rateLimitPerMinute and dailyQuota")));
        }
    }
    return p;
}

void PolicyPatch::applyTo(store::UserPolicy& policy, bool& isDisabled) const {
    if (purpose) policy.purpose = *purpose;
    if (disabled) isDisabled = *disabled;
    if (testMode) policy.testMode = *testMode;
    if (ipAllowlist) policy.ipAllowlist = *ipAllowlist;
    if (senderDomains) policy.senderDomains = *senderDomains;
    if (rateLimitPerMinute) policy.rateLimitPerMinute = *rateLimitPerMinute;
    if (dailyQuota) policy.dailyQuota = *dailyQuota;
    if (smsRoute) policy.smsRoute = *smsRoute;
}

}  // namespace sc::console
