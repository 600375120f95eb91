#include "auth/replay_cache.h"

namespace sc::auth {

SignatureReplayCache::SignatureReplayCache(const Clock& clock, ReplayCacheOptions options)
    : clock_(clock), options_(options) {}

SignatureReplayCache::Admit SignatureReplayCache::admit(std::string_view user,
                                                        std::string_view signature,
                                                        int64_t expiresAtMs) {
    // A user name holds no NUL (isValidUserName), so the pair is unambiguous.
    std::string key;
    key.reserve(user.size() + 1 + signature.size());
    key.append(user).push_back('\0');
    key.append(signature);

    std::lock_guard lock(mutex_);
    pruneExpired(clock_.nowMillis());
    if (seen_.count(key) != 0) return Admit::Replay;
    if (seen_.size() >= options_.maxEntries) return Admit::Full;
    byExpiry_.emplace(expiresAtMs, key);
    seen_.insert(std::move(key));
    return Admit::First;
}

size_t SignatureReplayCache::size() const {
    std::lock_guard lock(mutex_);
    return seen_.size();
}

void SignatureReplayCache::pruneExpired(int64_t nowMs) {
    // Entries expire at the end of their timestamp's window: from then on the timestamp check
    // refuses the request before this cache is asked.
    auto end = byExpiry_.upper_bound(nowMs);
    for (auto it = byExpiry_.begin(); it != end; ++it) seen_.erase(it->second);
    byExpiry_.erase(byExpiry_.begin(), end);
}

}  // namespace sc::auth
