#pragma once
// KeyMaterial: everything done with an API key's bytes. Keys are 32 characters of [A-Za-z0-9]
// from a CSPRNG (~190 bits). API_KEYs are kept only as HMAC-SHA256 under a subkey of the server
// secret; SMS_KEYs additionally as libsodium secretbox ciphertext, because signed SMS requests
// can only be checked by a server that knows the key.

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "auth/server_secret.h"
#include "common/random.h"

namespace sc::auth {

inline constexpr size_t kKeyLength = 32;
inline constexpr size_t kKeyHashBytes = 32;

// A key's HMAC on the stack, for the request path (hash() allocates a std::string).
using KeyHash = std::array<char, kKeyHashBytes>;

inline std::string_view view(const KeyHash& h) {
    return {h.data(), h.size()};
}

class KeyMaterial {
public:
    explicit KeyMaterial(const ServerSecret& secret);
    ~KeyMaterial();
    KeyMaterial(const KeyMaterial&) = delete;
    KeyMaterial& operator=(const KeyMaterial&) = delete;

    static std::string generateKey(Random& random);

    // 32 raw bytes.
    std::string hash(std::string_view key) const;
    KeyHash hashBytes(std::string_view key) const;
    // First 8 hex characters of hash(): identifies a key in logs and the console.
    static std::string fingerprint(std::string_view keyHash);
    // Constant-time comparison of two hashes (sodium_memcmp); false when sizes differ.
    static bool hashesEqual(std::string_view a, std::string_view b);

    // nonce || secretbox(key).
    std::string seal(std::string_view key, Random& random) const;
    std::optional<std::string> open(std::string_view sealed) const;

private:
    // The HMAC state right after keying (the inner and outer SHA-256 blocks of the key already
    // absorbed): each hash copies it instead of keying again, which halves the work.
    struct KeyedHmac;
    std::unique_ptr<KeyedHmac> keyedHmac_;
    std::array<uint8_t, 32> boxKey_;
};

}  // namespace sc::auth
