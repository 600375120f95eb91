#include "api/wire_compat.h"

#include <strings.h>
#include <algorithm>
#include <array>
#include <utility>
#include <vector>

namespace sc::api {

namespace {

using Alias = std::pair<std::string_view, std::string_view>;  // alias → canonical

constexpr std::array<Alias, 8> kEmailAliases = {{
    {"api_user", "apiUser"},
    {"api_key", "apiKey"},
    {"fromname", "fromName"},
    {"replyto", "replyTo"},
    {"x_smtpapi", "xsmtpapi"},
    {"resp_email_id", "respEmailId"},
    {"template_invoke_name", "templateInvokeName"},
    {"substitution_vars", "xsmtpapi"},
}};

constexpr std::array<Alias, 1> kSmsAliases = {{{"phone", "to"}}};

bool appliesTo(const Alias& a, Endpoint e) {
    // substitution_vars is v1's name for X-SMTPAPI on template sends only.
    if (a.first == "substitution_vars") return e == Endpoint::EmailTemplateSend;
    return true;
}

// The list-valued parameters: repeated, they are joined rather than refused.
bool isList(std::string_view name, Endpoint e) {
    return name == "to" || (e == Endpoint::SmsSend && name == "phone");
}

}  // namespace

http::ParamMap withParam(const http::ParamMap& params, std::string_view name,
                         const std::string& value) {
    http::ParamMap out;
    for (const auto& p : params.items()) {
        if (p.name != name) out.add(p.name, p.value);
    }
    out.add(std::string(name), value);
    return out;
}

std::optional<bool> parseBoolParam(std::string_view text) {
    if (text.size() == 4 && strncasecmp(text.data(), "true", 4) == 0) return true;
    if (text.size() == 5 && strncasecmp(text.data(), "false", 5) == 0) return false;
    if (text == "1") return true;
    if (text == "0") return false;
    return std::nullopt;
}

namespace {

bool isAlias(std::string_view name, Endpoint endpoint) {
    if (endpoint == Endpoint::SmsSend) {
        for (const auto& a : kSmsAliases) {
            if (name == a.first) return true;
        }
        return false;
    }
    for (const auto& a : kEmailAliases) {
        if (name == a.first && appliesTo(a, endpoint)) return true;
    }
    return false;
}

// Nothing to rename and nothing given twice, as in nearly every request: the parameters are
// already normal, and the rewrite below (a copy of every value) can be skipped.
bool alreadyNormal(const http::ParamMap& params, Endpoint endpoint) {
    const auto& items = params.items();
    for (size_t i = 0; i < items.size(); ++i) {
        if (isAlias(items[i].name, endpoint)) return false;
        for (size_t j = 0; j < i; ++j) {
            if (items[j].name == items[i].name) return false;
        }
    }
    return true;
}

}  // namespace

Result<Ok, ApiError> normalizeParams(http::FormData& form, Endpoint endpoint) {
    const bool sms = endpoint == Endpoint::SmsSend;
    for (auto& f : form.files) {
        if (!sms && f.field == "files") f.field = "attachments";
    }
    // The rewrite would give the same names and values (a lone list parameter joins to itself),
    // only with `to` moved last; nothing reads the order after this point.
    if (alreadyNormal(form.params, endpoint)) return Ok{};
    std::vector<Alias> aliases;
    if (sms) {
        aliases.assign(kSmsAliases.begin(), kSmsAliases.end());
    } else {
        for (const auto& a : kEmailAliases) {
            if (appliesTo(a, endpoint)) aliases.push_back(a);
        }
    }

    auto canonicalOf = [&](std::string_view name) -> std::string_view {
        for (const auto& [alias, canonical] : aliases) {
            if (name == alias) return canonical;
        }
        return name;
    };

    // The duplicate rule, after aliasing: a name (with its aliases) given twice with different
    // values is a 400, except for lists.
    http::ParamMap merged;
    std::vector<std::pair<std::string, std::string>> listParts;  // canonical list name → value
    std::vector<std::string> listValuesByName[2];  // [0]: canonical spelling, [1]: an alias
    for (const auto& p : form.params.items()) {
        std::string canonical(canonicalOf(p.name));
        if (isList(canonical, endpoint)) {
            listParts.emplace_back(canonical, p.value);
            listValuesByName[canonical == p.name ? 0 : 1].push_back(p.value);
            continue;
        }
        if (auto existing = merged.get(canonical); existing && *existing != p.value) {
            std::string hint = "the parameter '" + canonical + "'";
            if (canonical != p.name) hint += " (also spelled '" + p.name + "')";
            hint += " was given more than once with different values; send it once";
            return fail(ApiError{400, "param.duplicate", hint, {}});
        }
        if (!merged.has(canonical)) merged.add(canonical, p.value);
    }
    // A repeated `to` is a list, but `to` and its alias `phone` saying different things is the
    // duplicate rule's conflict, as for any other alias.
    if (!listValuesByName[0].empty() && !listValuesByName[1].empty() &&
        listValuesByName[0] != listValuesByName[1]) {
        return fail(ApiError{400,
                             "param.duplicate",
                             "the parameter 'to' (also spelled 'phone') was given with different "
                             "values; send it once",
                             {}});
    }
    for (const auto& name : {std::string("to")}) {
        std::string joined;
        bool any = false;
        std::vector<std::string_view> seen;
        for (const auto& [n, v] : listParts) {
            if (n != name) continue;
            if (v.empty()) continue;
            // The same value twice is the duplicate rule's "fine", not two recipients.
            if (std::find(seen.begin(), seen.end(), v) != seen.end()) continue;
            seen.push_back(v);
            if (any) joined += sms ? "," : ";";
            joined += v;
            any = true;
        }
        bool present = std::any_of(listParts.begin(), listParts.end(),
                                   [&](const auto& p) { return p.first == name; });
        if (present) merged.add(name, joined);
    }
    form.params = std::move(merged);
    return Ok{};
}

}  // namespace sc::api
