#pragma once
// The server secret: 32 random bytes that key every API_KEY hash and encrypt every SMS_KEY.
// Generated into the data dir on first start (mode 0600) unless configured; every node of a
// cluster must share it. Only src/auth/ ever sees it.

#include <array>
#include <cstdint>
#include <string>

#include "common/random.h"
#include "common/result.h"

namespace sc::auth {

class ServerSecret {
public:
    static constexpr size_t kBytes = 32;

    // Reads `path` (64 hex characters, or 32 raw bytes); if it does not exist, generates a new
    // secret and creates the file exclusively with mode 0600 so two processes starting at once
    // agree on one secret.
    static Result<ServerSecret, std::string> loadOrCreate(const std::string& path, Random& random);
    static ServerSecret fromBytes(const std::array<uint8_t, kBytes>& bytes);

    ServerSecret(const ServerSecret&) = delete;
    ServerSecret& operator=(const ServerSecret&) = delete;
    ServerSecret(ServerSecret&& other) noexcept;
    ~ServerSecret();

    // A purpose-bound subkey (libsodium crypto_kdf), so the hashing and encryption keys differ.
    std::array<uint8_t, kBytes> deriveKey(uint64_t id, const char context[8]) const;

private:
    ServerSecret() = default;
    std::array<uint8_t, kBytes> bytes_{};
};

}  // namespace sc::auth
