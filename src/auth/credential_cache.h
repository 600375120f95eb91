#pragma once
// CredentialCache: API users that recently authenticated, keyed by name, so that the next request
// with the same current key succeeds without a store read (docs/architecture.md, `src/auth/`).
//
// An entry remembers which key it was verified with as a SipHash tag (16 bytes, under a random
// key of this cache's own), so that a hit costs one short keyed hash instead of the key's
// HMAC-SHA256, which only the store's records need.
//
// It only ever short-cuts a success. Every entry is tagged with the store's credential version
// read before the store was; an entry answers only while that version is still current, so a
// committed reset, disable or delete (which moves the version, in whichever process made it) is
// seen by the very next lookup. The TTL is a backstop for changes that bypass the store's
// version (an edit with the sqlite3 CLI); it runs on the injected clock's monotonic time.
// Thread-safe: the I/O threads look up under a shared lock.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"
#include "store/records.h"

namespace sc::auth {

struct CredentialCacheOptions {
    size_t maxUsers = 4096;  // 0 turns the cache off
    std::chrono::milliseconds ttl = std::chrono::seconds(5);
};

class CredentialCache {
public:
    using UserPtr = std::shared_ptr<const store::ApiUser>;
    using KeyTag = std::array<unsigned char, 16>;

    CredentialCache(const Clock& clock, CredentialCacheOptions options);

    // The tag find() and insert() take for a presented key.
    KeyTag tagOf(std::string_view key) const;

    // The user as cached under `version` for the key tagged `keyTag`, or null when it is not
    // cached, was cached under another version or for another key, or outlived the TTL. The
    // tags are compared in constant time, against a dummy when the name is not cached.
    UserPtr find(std::string_view name, uint64_t version, const KeyTag& keyTag) const;
    // `user` has just been verified with the key tagged `keyTag`. `versionBefore` is the
    // credential version read before the store read that produced `user`: a change committed
    // after that read moves the version past it, so the entry never answers once the change is
    // visible.
    void insert(UserPtr user, const KeyTag& keyTag, uint64_t versionBefore);

    size_t size() const;

private:
    struct NameHash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };
    struct Entry {
        UserPtr user;
        KeyTag keyTag;
        std::chrono::steady_clock::time_point expiresAt;
    };

    const Clock& clock_;
    const CredentialCacheOptions options_;
    std::array<unsigned char, 16> tagKey_;  // random, never leaves the process
    mutable std::shared_mutex mutex_;
    // The credential version every entry of users_ was read under; a newer version empties the
    // map (entries read under an older version are never admitted).
    uint64_t version_ = 0;
    std::unordered_map<std::string, Entry, NameHash, std::equal_to<>> users_;
};

}  // namespace sc::auth
