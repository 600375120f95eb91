#include "auth/credential_cache.h"

#include <mutex>
#include <utility>

namespace sc::auth {

CredentialCache::CredentialCache(const Clock& clock, CredentialCacheOptions options)
    : clock_(clock), options_(options) {}

CredentialCache::UserPtr CredentialCache::find(std::string_view name, uint64_t version) const {
    std::shared_lock lock(mutex_);
    if (version != version_) return nullptr;
    const auto it = users_.find(name);
    if (it == users_.end()) return nullptr;
    if (clock_.monotonicNow() >= it->second.expiresAt) return nullptr;
    return it->second.user;
}

void CredentialCache::insert(UserPtr user, uint64_t versionBefore) {
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
    users_.insert_or_assign(std::move(name), Entry{std::move(user), expiresAt});
}

size_t CredentialCache::size() const {
    std::shared_lock lock(mutex_);
    return users_.size();
}

}  // namespace sc::auth
