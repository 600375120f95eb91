#include "api/sms_composer.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include <nlohmann/json.hpp>

#include "api/wire_compat.h"
#include "api/xsmtpapi.h"
#include "domain/limits.h"

namespace sc::api {

namespace {

bool isPlaceholderName(std::string_view name) {
    return !name.empty() && name.size() <= 32 && std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    });
}

// The first of the template's placeholders still in `text` after substitution: a message with
// one would reach a phone as "%code%".
std::optional<std::string_view> unfilledPlaceholder(std::string_view text,
                                                    std::string_view templateText) {
    for (size_t open = text.find('%'); open != std::string_view::npos;
         open = text.find('%', open + 1)) {
        size_t close = text.find('%', open + 1);
        if (close == std::string_view::npos) break;
        std::string_view name = text.substr(open + 1, close - open - 1);
        if (isPlaceholderName(name) &&
            templateText.find(text.substr(open, close - open + 1)) != std::string_view::npos) {
            return name;
        }
    }
    return std::nullopt;
}

}  // namespace

SmsComposer::SmsComposer(store::TemplateStore& templates,
                         const domain::PhoneNumberValidator& phones, SmsLimits limits)
    : templates_(templates), phones_(phones), limits_(limits) {}

Result<ValidatedSms, ApiError> SmsComposer::compose(int64_t accountId,
                                                    const http::FormData& form) const {
    if (auto type = form.params.get("msgType"); type && !type->empty() && *type != "0") {
        return fail(badRequest("sms.msg_type_invalid", "only msgType=0 (SMS) is supported"));
    }
    auto vars = parseVars(form.params);
    if (!vars) return fail(std::move(vars).error());
    auto message = rewrittenMessage(accountId, form.params, *vars);
    if (!message) return fail(std::move(message).error());
    // Without a rewrite the request is validated as it came, without a copy of its parameters.
    if (!message.value()) {
        return validateSms(form, phones_, limits_.maxRecipients, limits_.maxCharacters);
    }
    http::FormData rewritten;
    rewritten.params = withParam(form.params, "message", *message.value());
    return validateSms(rewritten, phones_, limits_.maxRecipients, limits_.maxCharacters);
}

Result<SmsComposer::Vars, ApiError> SmsComposer::parseVars(const http::ParamMap& params) {
    Vars vars;
    auto text = params.get("vars");
    if (!text || text->empty()) return vars;
    auto j = nlohmann::json::parse(*text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return fail(badRequest("sms.vars_invalid",
                               "vars must be a JSON object, like {\"%code%\":\"1234\"}"));
    }
    for (const auto& [name, value] : j.items()) {
        if (!value.is_string() && !value.is_number()) {
            return fail(badRequest("sms.vars_invalid",
                                   "vars['" + name + "'] must be a string or a number"));
        }
        std::string key =
            name.size() >= 2 && name.front() == '%' && name.back() == '%' ? name : "%" + name + "%";
        vars[key] = value.is_string() ? value.get<std::string>() : value.dump();
    }
    return vars;
}

Result<std::optional<std::string>, ApiError> SmsComposer::rewrittenMessage(
    int64_t accountId, const http::ParamMap& params, const Vars& vars) const {
    // A template's text takes the vars; the request's `message` is then not read.
    if (auto tid = params.get("templateId"); tid && !tid->empty()) {
        auto text = fromTemplate(accountId, *tid, vars);
        if (!text) return fail(std::move(text).error());
        return std::optional<std::string>(std::move(text).value());
    }
    auto message = params.get("message");
    if (vars.empty() || !message) return std::optional<std::string>();
    auto text = substituted(*message, vars);
    if (!text) return fail(std::move(text).error());
    return std::optional<std::string>(std::move(text).value());
}

Result<std::string, ApiError> SmsComposer::fromTemplate(int64_t accountId,
                                                        std::string_view templateId,
                                                        const Vars& vars) const {
    auto id = domain::parseTemplateId(templateId);
    if (!id) return fail(badRequest("sms.template_not_found", "templateId must be a number"));
    auto found = templates_.findSmsTemplate(accountId, *id);
    if (!found) return fail(storeUnavailable());
    if (!found.value()) {
        return fail(badRequest("sms.template_not_found",
                               "this account has no SMS template " + std::string(templateId)));
    }
    const std::string& templateText = found.value()->text;
    auto text = substituted(templateText, vars);
    if (!text) return fail(std::move(text).error());
    if (auto name = unfilledPlaceholder(*text, templateText)) {
        return fail(badRequest(
            "sms.vars_invalid",
            "vars has no value for the template's placeholder %" + std::string(*name) + "%"));
    }
    return text;
}

Result<std::string, ApiError> SmsComposer::substituted(std::string_view text,
                                                       const Vars& vars) const {
    // The character limit's worth of the widest UTF-8, so that validateSms's length check
    // gives the precise answer.
    SubstitutionBudget budget{limits_.maxCharacters * 4, kSubstitutionWork};
    auto out = substitute(text, vars, {}, budget);
    if (!out) {
        return fail(ApiError{413,
                             "sms.message_too_long",
                             "after substitution of vars the message would exceed " +
                                 std::to_string(limits_.maxCharacters) + " characters",
                             {}});
    }
    return std::move(*out);
}

}  // namespace sc::api
