#include "auth/credential_cache.h"

#include <sodium.h>

#include <mutex>
#include <utility>

namespace sc::auth {

static_assert(sizeof(CredentialCache::KeyTag) == crypto_shorthash_siphashx24_BYTES);

CredentialCache::CredentialCache(const Clock& clock, CredentialCacheOptions options)
    : clock_(clock), options_(options) {
    static_assert(sizeof tagKey_ == crypto_shorthash_siphashx24_KEYBYTES);
    randombytes_buf(tagKey_.data(), tagKey_.size());
}

CredentialCache::KeyTag CredentialCache::tagOf(std::string_view key) const {
    KeyTag tag;
    crypto_shorthash_siphashx24(tag.data(), reinterpret_cast<const unsigned char*>(key.data()),
                                key.size(), tagKey_.data());
    return tag;
}

CredentialCache::UserPtr CredentialCache::find(std::string_view name, uint64_t version,
                                               const KeyTag& keyTag) const {
    static constexpr KeyTag kDummy{};
    std::shared_lock lock(mutex_);
    const auto it = version == version_ ? users_.find(name) : users_.end();
    const bool live = it != users_.end() && clock_.monotonicNow() < it->second.expiresAt;
    const KeyTag& cached = live ? it->second.keyTag : kDummy;
    const bool sameKey = sodium_memcmp(cached.data(), keyTag.data(), keyTag.size()) == 0;
    return live && sameKey ? it->second.user : nullptr;
}

void CredentialCache::insert(UserPtr user, const KeyTag& keyTag, uint64_t versionBefore) {
    if (options_.maxUsers == 0 || !user) return;
    const auto expiresAt = clock_.monotonicNow() + options_.ttl;
    std::unique_lock lock(mutex_);
    // A read older than what the map holds may predate a change the map already reflects.
    if (versionBefore < version_) return;
    if (versionBefore > version_) {
        users_.clear();
        version_ = versionBefore;
    }
    if (users_.size() >= options_.maxUsers && !users_.contains(user->name)) {
        const auto now = clock_.monotonicNow();
        std::erase_if(users_, [&](const auto& kv) { return now >= kv.second.expiresAt; });
        // Still full of live users: start over rather than track recency on every hit, which
        // would need the exclusive lock on the hot path.
        if (users_.size() >= options_.maxUsers) users_.clear();
    }
    std::string name = user->name;
    users_.insert_or_assign(std::move(name), Entry{std::move(user), keyTag, expiresAt});
}

size_t CredentialCache::size() const {
    std::shared_lock lock(mutex_);
    return users_.size();
}

}  // namespace sc::auth
