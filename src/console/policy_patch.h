#pragma once
// The writable fields of an API user as the management API takes them in JSON, validated before
// anything is stored: CIDRs are parsed by the same code that enforces them (sc_policy), so the
// console cannot store an entry the send path would silently never match.

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/api_error.h"
#include "common/result.h"
#include "store/records.h"

namespace sc::console {

inline constexpr size_t kMaxPurposeBytes = 1000;
inline constexpr size_t kMaxListEntries = 100;

// Only the fields present in the JSON are set.
struct PolicyPatch {
    std::optional<std::string> purpose;
    std::optional<bool> disabled;
    std::optional<bool> testMode;
    std::optional<std::vector<std::string>> ipAllowlist;
    std::optional<std::vector<std::string>> senderDomains;  // email users only
    std::optional<int64_t> rateLimitPerMinute;
    std::optional<int64_t> dailyQuota;
    std::optional<std::string> smsRoute;  // SMS users only; "" clears the choice

    void applyTo(store::UserPolicy& policy, bool& disabled) const;
};

// `body` must be a JSON object. `allowDisabled` is false on creation (a user is created enabled;
// PATCH it afterwards); `otherKeys` are keys the caller reads itself (e.g. "name"). Unknown keys
// are refused so that a typo ("ipAllowList") is not silently ignored.
// Errors: console.bad_request (shape, type, unknown key), console.invalid_value (range),
// console.invalid_cidr, console.invalid_domain, console.unknown_route (an `smsRoute` that is not
// one of `smsRoutes`, the server's [[sms_route]] names).
Result<PolicyPatch, api::ApiError> parsePolicyPatch(
    const nlohmann::json& body, store::UserKind kind, bool allowDisabled,
    std::initializer_list<std::string_view> otherKeys,
    const std::vector<std::string>& smsRoutes = {});

// RFC 1123 host name: dot-separated labels of 1..63 letters, digits and '-', not starting or
// ending with '-', at most 253 characters, no trailing dot.
bool isHostname(std::string_view name);

}  // namespace sc::console
