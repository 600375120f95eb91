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
#include <string_view>
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

// What one request's substitutions may produce and spend, shared by all of them (every field of
// every recipient). Substitution runs after the size checks and multiplies: a 120 KB html with a
// 1 KB value per placeholder once made a 40 MB message, and a 3 KB SMS with a 100 KB variable a
// 100-million-character string, before any limit looked. The budget stops it while it builds.
// Characters compared while looking for placeholder names, per request: ordinary content uses a
// tiny fraction; a text of nothing but '%' against thousands of names stops at ~30 ms of CPU.
constexpr size_t kSubstitutionWork = 32u << 20;

struct SubstitutionBudget {
    size_t outputBytes;  // bytes all the results together may hold
    size_t work;         // characters compared while looking for names (bounds the CPU time)
};

// Replaces each %var% of `vars` in `text` (where several names match at one place, the shortest),
// then each section name that a value (or the text) contains. Single pass per kind: replaced text
// is not scanned again, so values cannot inject further substitutions. nullopt when the budget
// runs out; the result's size is taken from budget.outputBytes.
std::optional<std::string> substitute(std::string_view text,
                                      const std::map<std::string, std::string>& vars,
                                      const std::map<std::string, std::string>& sections,
                                      SubstitutionBudget& budget);

}  // namespace sc::api
