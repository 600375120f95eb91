#pragma once
// Rules of the public API that more than one part of the system enforces (the API, the console,
// the store, operator commands), each written once here; docs/api.md §12 states them for users.
// Header-only constants and one pure parser: any library may include it.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace sc::domain {

// A header line holds at most 998 octets (RFC 5322 §2.1.1): a subject, before and after any
// substitution, and each of the caller's extra header values.
inline constexpr size_t kMaxHeaderLineBytes = 998;
inline constexpr size_t kMaxSubjectBytes = kMaxHeaderLineBytes;

// A sendRequestId counts for this long: a retry inside the window gets the first answer and
// sends nothing; after it, the id may be used again.
inline constexpr std::chrono::milliseconds kSendRequestWindow = std::chrono::hours(1);

// Usage is counted per user per hour (the console's usage view, daily quotas sum the hours).
inline constexpr std::chrono::milliseconds kUsageBucket = std::chrono::hours(1);

// Template ids are decimal numbers of at most 18 digits: every such number fits an int64_t.
inline constexpr size_t kMaxTemplateIdDigits = 18;

// The id a request or a console path names, or nullopt when it is not 1 to 18 decimal digits.
inline std::optional<int64_t> parseTemplateId(std::string_view text) {
    if (text.empty() || text.size() > kMaxTemplateIdDigits) return std::nullopt;
    int64_t id = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        id = id * 10 + (c - '0');
    }
    return id;
}

}  // namespace sc::domain
