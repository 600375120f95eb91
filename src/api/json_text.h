#pragma once
// JSON written as text, for the send path's few fixed shapes (envelopes, ids, message content):
// building an nlohmann value only to dump it costs several times the text itself. The output is
// byte-identical to nlohmann's dump(-1, ' ', false, error_handler_t::replace) of the same value,
// so stored JSON and answers do not change with the way they are written.

#include <cstdint>
#include <string>
#include <string_view>

namespace sc::api::json_text {

// Appends `s` as a JSON string literal (quotes included). Invalid UTF-8 is replaced by U+FFFD
// exactly as nlohmann's replacing error handler does it.
void appendString(std::string& out, std::string_view s);
void appendInt(std::string& out, int64_t value);
void appendUint(std::string& out, uint64_t value);

}  // namespace sc::api::json_text
