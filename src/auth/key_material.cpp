#include "auth/key_material.h"

#include <sodium.h>

namespace sc::auth {

struct KeyMaterial::KeyedHmac {
    crypto_auth_hmacsha256_state state;
};

KeyMaterial::KeyMaterial(const ServerSecret& secret)
    : keyedHmac_(std::make_unique<KeyedHmac>()), boxKey_(secret.deriveKey(2, "smskeyen")) {
    static_assert(crypto_auth_hmacsha256_KEYBYTES == 32);
    static_assert(crypto_auth_hmacsha256_BYTES == kKeyHashBytes);
    static_assert(crypto_secretbox_KEYBYTES == 32);
    auto hashKey = secret.deriveKey(1, "apikeyhm");
    crypto_auth_hmacsha256_init(&keyedHmac_->state, hashKey.data(), hashKey.size());
    sodium_memzero(hashKey.data(), hashKey.size());
}

KeyMaterial::~KeyMaterial() {
    sodium_memzero(&keyedHmac_->state, sizeof keyedHmac_->state);
    sodium_memzero(boxKey_.data(), boxKey_.size());
}

std::string KeyMaterial::generateKey(Random& random) {
    return random.alphanumeric(kKeyLength);
}

std::string KeyMaterial::hash(std::string_view key) const {
    const KeyHash h = hashBytes(key);
    return std::string(view(h));
}

KeyHash KeyMaterial::hashBytes(std::string_view key) const {
    KeyHash out;
    crypto_auth_hmacsha256_state st = keyedHmac_->state;
    crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(key.data()),
                                  key.size());
    crypto_auth_hmacsha256_final(&st, reinterpret_cast<unsigned char*>(out.data()));
    sodium_memzero(&st, sizeof st);
    return out;
}

std::string KeyMaterial::fingerprint(std::string_view keyHash) {
    char hex[9];
    sodium_bin2hex(hex, sizeof hex, reinterpret_cast<const unsigned char*>(keyHash.data()),
                   std::min<size_t>(4, keyHash.size()));
    return hex;
}

bool KeyMaterial::hashesEqual(std::string_view a, std::string_view b) {
    if (a.size() != b.size() || a.empty()) return false;
    return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string KeyMaterial::seal(std::string_view key, Random& random) const {
    std::string out(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + key.size(), '\0');
    auto* nonce = reinterpret_cast<unsigned char*>(out.data());
    random.fill(nonce, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(nonce + crypto_secretbox_NONCEBYTES,
                          reinterpret_cast<const unsigned char*>(key.data()), key.size(), nonce,
                          boxKey_.data());
    return out;
}

std::optional<std::string> KeyMaterial::open(std::string_view sealed) const {
    if (sealed.size() < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
        return std::nullopt;
    const auto* nonce = reinterpret_cast<const unsigned char*>(sealed.data());
    const unsigned char* box = nonce + crypto_secretbox_NONCEBYTES;
    size_t boxLen = sealed.size() - crypto_secretbox_NONCEBYTES;
    std::string out(boxLen - crypto_secretbox_MACBYTES, '\0');
    if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(out.data()), box, boxLen, nonce,
                                   boxKey_.data()) != 0) {
        return std::nullopt;
    }
    return out;
}

}  // namespace sc::auth
