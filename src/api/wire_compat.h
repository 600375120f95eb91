#pragma once
// SendCloud wire compatibility: the parameter spellings of SendCloud's v1 API and SDKs as
// aliases of ours, repeated `to` as a list, and case-insensitive booleans. Applied to decoded
// parameters before anything reads them, so handlers see one spelling only.

#include <optional>
#include <string>
#include <string_view>

#include "api/api_error.h"
#include "common/result.h"
#include "http/request_params.h"

namespace sc::api {

enum class Endpoint { EmailSend, EmailTemplateSend, SmsSend };

// Renames aliases to their canonical names (the same value under both is fine; two different
// values are a 400 naming both), joins a repeated `to` (and SMS `phone`) into one list, applies
// the duplicate rule to everything else, and renames `files` parts to `attachments`.
Result<Ok, ApiError> normalizeParams(http::FormData& form, Endpoint endpoint);

// `params` with `name` set to `value` (replacing any value it had), for a send whose content a
// template fills in.
http::ParamMap withParam(const http::ParamMap& params, std::string_view name,
                         const std::string& value);

// "true"/"false" in any case, plus 1/0; nullopt for anything else.
std::optional<bool> parseBoolParam(std::string_view text);

}  // namespace sc::api
