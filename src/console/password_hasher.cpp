#include "console/password_hasher.h"

#include <sodium.h>

#include <cstdlib>
#include <cstring>

#include "console/str_cat.h"

namespace sc::console {

namespace {

void initSodium() {
    // Idempotent and thread-safe; the CLI may hash before anything else initialised libsodium.
    if (sodium_init() < 0) std::abort();
}

// crypto_pwhash_str_* want a NUL-terminated string in a buffer of exactly crypto_pwhash_STRBYTES
// or a C string; a stored hash is neither, so copy it with a bound.
bool toHashBuffer(std::string_view stored, char (&buf)[crypto_pwhash_STRBYTES]) {
    if (stored.empty() || stored.size() >= crypto_pwhash_STRBYTES) return false;
    if (stored.find('\0') != std::string_view::npos) return false;
    std::memset(buf, 0, sizeof buf);
    std::memcpy(buf, stored.data(), stored.size());
    return true;
}

}  // namespace

PasswordLimits PasswordLimits::interactive() {
    return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
}

PasswordLimits PasswordLimits::minimum() {
    return {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN};
}

Result<std::string, std::string> hashPassword(std::string_view password,
                                              const PasswordLimits& limits) {
    initSodium();
    if (password.size() < kMinPasswordBytes) {
        return fail(strCat("the password is too short: at least ", kMinPasswordBytes, " bytes"));
    }
    if (password.size() > kMaxPasswordBytes) {
        return fail(strCat("the password is too long: at most ", kMaxPasswordBytes, " bytes"));
    }
    char out[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str_alg(out, password.data(), password.size(), limits.opsLimit,
                              limits.memLimit, crypto_pwhash_ALG_ARGON2ID13) != 0) {
        return fail(std::string("hashing the password failed (out of memory?)"));
    }
    return std::string(out);
}

PasswordHasher::PasswordHasher(PasswordLimits limits) : limits_(limits) {
    initSodium();
    // The dummy only has to cost what a real hash under the same limits costs to verify. A
    // well-formed argon2id string with random salt and digest does, and unlike a real hash it
    // needs no 64 MiB, 180 ms computation at start-up (which set the server's peak memory).
    unsigned char salt[crypto_pwhash_SALTBYTES];
    unsigned char digest[32];
    randombytes_buf(salt, sizeof salt);
    randombytes_buf(digest, sizeof digest);
    char saltB64[sodium_base64_ENCODED_LEN(sizeof salt, sodium_base64_VARIANT_ORIGINAL_NO_PADDING)];
    char digestB64[sodium_base64_ENCODED_LEN(sizeof digest,
                                             sodium_base64_VARIANT_ORIGINAL_NO_PADDING)];
    sodium_bin2base64(saltB64, sizeof saltB64, salt, sizeof salt,
                      sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
    sodium_bin2base64(digestB64, sizeof digestB64, digest, sizeof digest,
                      sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
    dummyHash_ = strCat("$argon2id$v=19$m=", limits_.memLimit / 1024, ",t=", limits_.opsLimit,
                        ",p=1$", saltB64, "$", digestB64);
    // needs_rehash parses the string with libsodium's own parser: 0 means it is well formed
    // and carries exactly these limits, so verifying against it costs a full hash.
    if (crypto_pwhash_str_needs_rehash(dummyHash_.c_str(), limits_.opsLimit, limits_.memLimit) !=
        0) {
        std::abort();
    }
}

const std::string& PasswordHasher::dummyHashForTest() const {
    return dummyHash_;
}

bool PasswordHasher::verify(std::string_view storedHash, std::string_view password) const {
    char buf[crypto_pwhash_STRBYTES];
    if (!toHashBuffer(storedHash, buf) || password.size() > kMaxPasswordBytes) {
        burnVerify(password.substr(0, kMaxPasswordBytes));
        return false;
    }
    return crypto_pwhash_str_verify(buf, password.data(), password.size()) == 0;
}

void PasswordHasher::burnVerify(std::string_view password) const {
    // The result is ignored on purpose: only the time spent matters.
    int rc = crypto_pwhash_str_verify(dummyHash_.c_str(), password.data(), password.size());
    (void)rc;
}

bool PasswordHasher::needsRehash(std::string_view storedHash) const {
    char buf[crypto_pwhash_STRBYTES];
    if (!toHashBuffer(storedHash, buf)) return false;
    // -1 (not an argon2id string) is no reason to rehash: such a hash never verified.
    return crypto_pwhash_str_needs_rehash(buf, limits_.opsLimit, limits_.memLimit) == 1;
}

}  // namespace sc::console
