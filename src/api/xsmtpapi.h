#pragma once
// X-SMTPAPI, SendCloud's per-request JSON (the `xsmtpapi` parameter, at most 1 MiB):
//   to      recipients; overrides to/cc/bcc, and each recipient gets a message of its own
//   sub     {"%name%": ["Ann", "Bob"]}: one value per `to` recipient, by position
//   section {"%sec%": "long text"}: blocks that sub values (or the content) may name
//   pubsub  {"%var%": "same for all"}
// Substitution applies to subject, html and plain. Every error names the broken part.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/api_error.h"
#include "common/result.h"
#include "domain/email_address.h"

namespace sc::api {

inline constexpr size_t kMaxXsmtpapiBytes = 1u << 20;

struct XSmtpApi {
    std::vector<domain::EmailAddress> to;  // empty: no override
    std::map<std::string, std::vector<std::string>> sub;
    std::map<std::string, std::string> section;
    std::map<std::string, std::string> pubsub;

    // The variables for the recipient at `index` of `to` (or for every recipient when `to` is
    // empty: pubsub only).
    std::map<std::string, std::string> varsFor(size_t index) const;
};

Result<XSmtpApi, ApiError> parseXSmtpApi(const std::string& json, size_t maxRecipients);

// Replaces each %var% of `vars` in `text`, then each section name that a value (or the text)
// contains. Single pass per kind: replaced text is not scanned again, so values cannot inject
// further substitutions.
std::string substitute(const std::string& text, const std::map<std::string, std::string>& vars,
                       const std::map<std::string, std::string>& sections);

}  // namespace sc::api
