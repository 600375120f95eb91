#pragma once
// SignatureReplayCache: remembers the signed SMS requests already accepted, so that the same
// signed request sent again while its timestamp is still inside the window is refused
// (docs/api.md §7). An entry lives until its timestamp leaves the window, after which the
// timestamp check refuses the request anyway; memory is bounded by a hard cap on entries.
// Thread-safe; time comes from the injected Clock.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>

#include "common/clock.h"

namespace sc::auth {

struct ReplayCacheOptions {
    // At 100 bytes or so an entry, 100,000 entries are about 10 MiB: room for 800 signed
    // requests a second over the two minutes an entry can live.
    size_t maxEntries = 100'000;
};

class SignatureReplayCache {
public:
    enum class Admit { First, Replay, Full };

    SignatureReplayCache(const Clock& clock, ReplayCacheOptions options = {});

    // Records (user, signature) until `expiresAtMs` and answers First; Replay when it is
    // already recorded; Full, recording nothing, when maxEntries unexpired entries are held
    // (refusing is safer than forgetting one, which would let it be replayed). `signature` must
    // be given in one case (the caller lower-cases hex).
    Admit admit(std::string_view user, std::string_view signature, int64_t expiresAtMs);

    size_t size() const;

private:
    void pruneExpired(int64_t nowMs);

    const Clock& clock_;
    const ReplayCacheOptions options_;
    mutable std::mutex mutex_;
    std::unordered_set<std::string> seen_;
    std::multimap<int64_t, std::string> byExpiry_;
};

}  // namespace sc::auth
