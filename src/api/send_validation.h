#pragma once
// Validation of send requests' content (not their credentials): turns decoded parameters into a
// checked message or the ApiError that says what to fix. Pure functions, tested without I/O.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/api_error.h"
#include "common/result.h"
#include "domain/email_address.h"
#include "domain/phone_number.h"
#include "domain/sms_text.h"
#include "http/request_params.h"
#include "store/records.h"

namespace sc::api {

struct EmailLimits {
    size_t maxRecipients = 100;
    size_t maxContentBytes = 10u << 20;
    // Recipients come from X-SMTPAPI's `to` instead (template sends, or an xsmtpapi with `to`):
    // the `to`, `cc` and `bcc` parameters are then not required and not read.
    bool recipientsFromXsmtpapi = false;
};

struct ValidatedEmail {
    domain::EmailAddress from;
    std::string fromName;
    std::vector<domain::EmailAddress> replyTo;
    std::vector<domain::EmailAddress> to, cc, bcc;
    std::string subject;
    std::string html, plain;
    // The extra headers as a JSON object; null when none were given (an empty object would
    // cost an allocation on every send), which contentJson() writes as {}.
    nlohmann::json headers;
    std::vector<store::Attachment> attachments;

    nlohmann::json contentJson() const;
    // contentJson().dump(-1, ' ', false, replace), written directly: what the store keeps.
    std::string contentJsonText() const;
};

Result<ValidatedEmail, ApiError> validateEmail(const http::FormData& form,
                                               const EmailLimits& limits);

struct ValidatedSms {
    std::vector<std::string> to;  // E.164
    std::string message;
    domain::SmsSegments segments;

    // What the store keeps: {"encoding":"gsm7"|"ucs2","message":...,"segments":N}, the bytes
    // nlohmann::json's dump() of those members gives.
    std::string contentJsonText() const;
};

Result<ValidatedSms, ApiError> validateSms(const http::FormData& form,
                                           const domain::PhoneNumberValidator& phones,
                                           size_t maxRecipients, size_t maxCharacters);

}  // namespace sc::api
