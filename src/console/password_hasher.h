#pragma once
// Console passwords: argon2id through libsodium's crypto_pwhash_str, which embeds the salt and the
// cost parameters in the string it returns, so a hash made under older limits still verifies.
// A hash costs ~180 ms and 64 MiB at the interactive limits: call these from a WorkPool thread
// or a command-line tool, never from an I/O thread.

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.h"

namespace sc::console {

struct PasswordLimits {
    unsigned long long opsLimit = 0;
    size_t memLimit = 0;

    // crypto_pwhash_OPSLIMIT_INTERACTIVE / MEMLIMIT_INTERACTIVE: production.
    static PasswordLimits interactive();
    // crypto_pwhash_OPSLIMIT_MIN / MEMLIMIT_MIN: tests only (milliseconds instead of 180 ms).
    static PasswordLimits minimum();
};

// Passwords are 10 to 1024 bytes: the lower bound is the operator command's, the upper one keeps
// a request body from buying unbounded pre-hashing work.
inline constexpr size_t kMinPasswordBytes = 10;
inline constexpr size_t kMaxPasswordBytes = 1024;

// Hashes a new password (for `sendcloudd account set-password` and rehashing). Fails with a
// message for a person when the password breaks the length rule or libsodium runs out of memory.
Result<std::string, std::string> hashPassword(std::string_view password,
                                              const PasswordLimits& limits);

class PasswordHasher {
public:
    // Makes the dummy hash once, so unknown accounts cost the same verify as known ones.
    // (Well-formed and under these limits, but not computed: see the constructor.)
    explicit PasswordHasher(PasswordLimits limits);

    Result<std::string, std::string> hash(std::string_view password) const {
        return hashPassword(password, limits_);
    }
    // False for a wrong password and for a malformed or empty stored hash.
    bool verify(std::string_view storedHash, std::string_view password) const;
    // Verifies against the dummy hash and returns false: the same work as a real verify, so an
    // unknown e-mail cannot be told from a wrong password by timing.
    void burnVerify(std::string_view password) const;
    // True when the stored hash was made under other limits than ours.
    bool needsRehash(std::string_view storedHash) const;

private:
    PasswordLimits limits_;
    std::string dummyHash_;

public:
    const std::string& dummyHashForTest() const;
};

}  // namespace sc::console
