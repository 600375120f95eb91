#pragma once
// Session and CSRF tokens: 32 random bytes, sent as unpadded base64url (43 characters). The
// store keeps only their BLAKE2b-256 hashes, so a copy of the database does not log anyone in;
// with 256 random bits a plain (unkeyed, unsalted) hash is enough.

#include <optional>
#include <string>
#include <string_view>

#include "common/random.h"
#include "http/request.h"

namespace sc::console {

inline constexpr size_t kTokenChars = 43;  // base64url of 32 bytes, no padding
inline constexpr std::string_view kSessionCookie = "sc_session";

std::string generateToken(Random& random);
// 32 raw bytes.
std::string hashToken(std::string_view token);
// Constant-time (sodium_memcmp); false when the sizes differ.
bool hashesEqual(std::string_view a, std::string_view b);
// True when `token` has the shape generateToken() produces (43 base64url characters).
bool wellFormedToken(std::string_view token);

// The value of cookie `name` from the request's Cookie header(s) (RFC 6265 §5.4: "a=b; c=d"),
// the first one when repeated; nullopt when absent.
std::optional<std::string> findCookie(const http::Request& req, std::string_view name);

}  // namespace sc::console
