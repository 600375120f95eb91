#pragma once
// SendCloud's signed SMS requests: the signature covers every parameter except smsKey and
// signature, sorted by name, joined raw (not URL-encoded) as k=v&k=v, wrapped as KEY&...&KEY,
// and hashed with MD5 (32 hex) or SHA-256 (64 hex); the length of the presented signature says
// which. Only a server that knows the SMS_KEY can check it, which is why SMS keys are kept
// encrypted rather than hashed (docs/api.md).

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sc::auth {

enum class SignatureAlgorithm { Md5, Sha256 };

// From the presented signature's length: 32 → MD5, 64 → SHA-256, else nullopt.
std::optional<SignatureAlgorithm> signatureAlgorithmFor(std::string_view signature);

// Lower-case hex.
std::string computeSmsSignature(std::string_view key,
                                std::vector<std::pair<std::string, std::string>> params,
                                SignatureAlgorithm algorithm);

// `timestamp` in seconds or milliseconds since the epoch; nullopt when it is neither.
std::optional<int64_t> timestampMillis(std::string_view timestamp);

}  // namespace sc::auth
