#pragma once
// SmsComposer: the SMS a send request asks for (docs/api.md, the SMS send), ready to queue: the
// text in `message`, that text with SendCloud's `vars` put in, or a stored template
// (`templateId`) filled in from `vars`, where a placeholder left without a value is refused
// rather than sent as "%code%"; then the recipient and length checks of validateSms.
// Substitution is bounded (xsmtpapi.h, SubstitutionBudget): vars cannot build a message past
// the character limit.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "api/api_error.h"
#include "api/send_validation.h"
#include "common/result.h"
#include "domain/phone_number.h"
#include "http/request_params.h"
#include "store/template_store.h"

namespace sc::api {

struct SmsLimits {
    size_t maxRecipients = 100;
    size_t maxCharacters = 1000;
};

class SmsComposer {
public:
    SmsComposer(store::TemplateStore& templates, const domain::PhoneNumberValidator& phones,
                SmsLimits limits);

    // The checked SMS of `form`, an admitted request of the account `accountId` (whose
    // templates it may use), or what to fix.
    Result<ValidatedSms, ApiError> compose(int64_t accountId, const http::FormData& form) const;

private:
    // Placeholder ("%code%") → value; SendCloud documents both {"%code%":"1"} and {"code":"1"}.
    using Vars = std::map<std::string, std::string>;

    static Result<Vars, ApiError> parseVars(const http::ParamMap& params);
    // The message `params` ask for when a template or vars rewrite it; nullopt: as sent.
    Result<std::optional<std::string>, ApiError> rewrittenMessage(int64_t accountId,
                                                                  const http::ParamMap& params,
                                                                  const Vars& vars) const;
    Result<std::string, ApiError> fromTemplate(int64_t accountId, std::string_view templateId,
                                               const Vars& vars) const;
    Result<std::string, ApiError> substituted(std::string_view text, const Vars& vars) const;

    store::TemplateStore& templates_;
    const domain::PhoneNumberValidator& phones_;
    SmsLimits limits_;
};

}  // namespace sc::api
