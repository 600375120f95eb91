#pragma once
// Times in management API queries (from=, to=): epoch milliseconds ("1795827000000") or ISO 8601
// in UTC or with an offset ("2026-11-28T10:00:00Z", "2026-11-28T10:00:00.250+01:00",
// "2026-11-28" for midnight UTC). Parsed by hand because g++ 12 has no std::chrono::parse.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sc::console {

std::optional<int64_t> parseTimeParam(std::string_view text);

// ISO 8601 UTC with milliseconds when they are not zero ("2026-11-28T10:00:00.250Z"), so a
// value the API returns can be passed back in a query without losing precision.
std::string formatTimeMs(int64_t ms);

}  // namespace sc::console
