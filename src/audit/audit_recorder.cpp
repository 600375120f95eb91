#include "audit/audit_recorder.h"
#include "common/thread_role.h"

#include "domain/limits.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <functional>
#include <iterator>
#include <string_view>

namespace sc::audit {

AuditRecorder::AuditRecorder(store::AuditStore& store, const Clock& clock, AuditOptions options)
    : store_(store), clock_(clock), options_(options), lastPruneMs_(clock.nowMillis()) {}

AuditRecorder::~AuditRecorder() {
    stop();
}

void AuditRecorder::start() {
    std::lock_guard lk(mu_);
    if (thread_.joinable()) return;
    stopping_ = false;
    thread_ = std::thread([this] {
        enterThreadRole("sc-audit", ThreadPriority::Normal);
        run();
    });
}

void AuditRecorder::stop() {
    {
        std::lock_guard lk(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    flush();
}

namespace {

int64_t secondOf(int64_t ms) {
    return ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
}

// Over everything sameAttempt() compares.
uint64_t coalescingHash(const store::AuthEvent& e) {
    uint64_t h = std::hash<int64_t>{}(secondOf(e.atMs));
    const auto mix = [&h](size_t v) { h = (h ^ v) * 0x100000001b3ULL; };
    for (const std::string* field : {&e.userName, &e.reason, &e.keyFingerprint, &e.clientIp}) {
        mix(std::hash<std::string_view>{}(*field));
    }
    mix(std::hash<store::AuthApi>{}(e.api));
    mix(std::hash<store::AuthOutcome>{}(e.outcome));
    mix(std::hash<int64_t>{}(e.accountId));
    mix(std::hash<int64_t>{}(e.userId));
    return h;
}

bool sameAttempt(const store::AuthEvent& a, const store::AuthEvent& b) {
    return secondOf(a.atMs) == secondOf(b.atMs) && a.accountId == b.accountId &&
           a.userId == b.userId && a.api == b.api && a.userName == b.userName &&
           a.outcome == b.outcome && a.reason == b.reason && a.keyFingerprint == b.keyFingerprint &&
           a.clientIp == b.clientIp;
    // Not the User-Agent: the client chooses it freely, so a client varying it would get a row
    // per request. The record keeps the latest one (record()).
}

}  // namespace

void AuditRecorder::record(store::AuthEvent event) {
    const uint64_t hash = coalescingHash(event);  // outside the lock
    // Only a request that got past the key check is a use: a failure, a lockout or a refused
    // address is not, and console logins (no user) are not a key's.
    const bool use = event.userId != 0 && event.outcome == store::AuthOutcome::Success;
    bool wake;
    {
        std::lock_guard lk(mu_);
        if (use) {
            const int64_t at = event.lastAttemptAtMs();
            auto& d = pendingUsage(event.userId, event.accountId, event.userName, at);
            d.lastUsedMs = std::max(d.lastUsedMs, at);
        }
        const auto [first, last] = pendingByHash_.equal_range(hash);
        for (auto it = first; it != last; ++it) {
            store::AuthEvent& pending = events_[it->second];
            if (!sameAttempt(pending, event)) continue;
            if (event.lastAttemptAtMs() >= pending.lastAttemptAtMs()) {
                pending.userAgent = std::move(event.userAgent);
            }
            pending.attempts += event.attempts;
            pending.atMs = std::min(pending.atMs, event.atMs);
            pending.lastAtMs = std::max(pending.lastAttemptAtMs(), event.lastAttemptAtMs());
            return;
        }
        events_.push_back(std::move(event));
        pendingByHash_.emplace(hash, events_.size() - 1);
        wake = events_.size() >= options_.flushAtEvents;
    }
    if (wake) cv_.notify_one();
}

void AuditRecorder::countUsage(int64_t userId, int64_t accountId, const std::string& userName,
                               const UsageIncrement& inc) {
    if (userId == 0) return;
    countUsage(userId, accountId, userName, inc, clock_.nowMillis());
}

store::UsageDelta& AuditRecorder::pendingUsage(int64_t userId, int64_t accountId,
                                               const std::string& userName, int64_t atMs) {
    const int64_t hour = atMs - atMs % domain::kUsageBucket.count();
    auto& d = usage_[{userId, hour}];
    if (d.userId == 0) {
        d.userId = userId;
        d.accountId = accountId;
        d.userName = userName;
        d.hourStartMs = hour;
    }
    return d;
}

void AuditRecorder::countUsage(int64_t userId, int64_t accountId, const std::string& userName,
                               const UsageIncrement& inc, int64_t atMs) {
    if (userId == 0) return;
    std::lock_guard lk(mu_);
    auto& d = pendingUsage(userId, accountId, userName, atMs);
    d.requests += inc.requests;
    d.recipients += inc.recipients;
    d.authFailures += inc.authFailures;
    d.rateLimited += inc.rateLimited;
}

bool AuditRecorder::flush() {
    std::lock_guard flushLock(flushMu_);
    std::vector<store::AuthEvent> events;
    std::map<std::pair<int64_t, int64_t>, store::UsageDelta> usage;
    {
        std::lock_guard lk(mu_);
        events.swap(spareEvents_);  // empty, with the capacity of an earlier batch
        events.swap(events_);
        pendingByHash_.clear();
        usage.swap(usage_);
    }
    bool ok = true;
    if (!events.empty()) ok = writeEvents(events);
    if (!usage.empty()) {
        std::vector<store::UsageDelta> deltas;
        deltas.reserve(usage.size());
        for (auto& [k, d] : usage) deltas.push_back(d);
        if (auto r = store_.addUsage(deltas); !r) {
            spdlog::warn("audit: could not write usage counters: {}", r.error().message);
            std::lock_guard lk(mu_);
            for (auto& [k, d] : usage) {
                auto& mine = usage_[k];
                if (mine.userId == 0) {
                    mine = d;
                } else {
                    mine.requests += d.requests;
                    mine.recipients += d.recipients;
                    mine.authFailures += d.authFailures;
                    mine.rateLimited += d.rateLimited;
                    mine.lastUsedMs = std::max(mine.lastUsedMs, d.lastUsedMs);
                }
            }
            ok = false;
        }
    }
    maybePrune();
    return ok;
}

bool AuditRecorder::writeEvents(std::vector<store::AuthEvent>& events) {
    const size_t perWrite = std::max<size_t>(1, options_.eventsPerWrite);
    std::vector<store::AuthEvent> piece;
    size_t written = 0;
    while (written < events.size()) {
        const size_t n = std::min(perWrite, events.size() - written);
        const bool whole = written == 0 && n == events.size();
        if (!whole) {
            piece.assign(
                std::make_move_iterator(events.begin() + static_cast<ptrdiff_t>(written)),
                std::make_move_iterator(events.begin() + static_cast<ptrdiff_t>(written + n)));
        }
        if (auto r = store_.appendEvents(whole ? events : piece); !r) {
            if (!whole) {
                std::move(piece.begin(), piece.end(),
                          events.begin() + static_cast<ptrdiff_t>(written));
            }
            const size_t left = events.size() - written;
            spdlog::warn("audit: could not write {} events: {}", left, r.error().message);
            // What was written stays written; the rest goes back in front of what arrived
            // since, for the next flush.
            std::lock_guard lk(mu_);
            events_.insert(
                events_.begin(),
                std::make_move_iterator(events.begin() + static_cast<ptrdiff_t>(written)),
                std::make_move_iterator(events.end()));
            // The indexes moved; what arrives next simply is not coalesced with what is pending.
            pendingByHash_.clear();
            return false;
        }
        written += n;
    }
    events.clear();
    std::lock_guard lk(mu_);
    // Keep the larger buffer: bursts are what it is there for.
    if (events.capacity() > spareEvents_.capacity()) spareEvents_.swap(events);
    return true;
}

void AuditRecorder::maybePrune() {
    const int64_t now = clock_.nowMillis();
    if (now - lastPruneMs_ < std::chrono::milliseconds(options_.pruneEvery).count()) return;
    lastPruneMs_ = now;
    pruneNow();
}

int64_t AuditRecorder::pruneNow() {
    const int64_t cutoff =
        clock_.nowMillis() -
        std::chrono::duration_cast<std::chrono::milliseconds>(options_.retention).count();
    auto r = store_.pruneEvents(cutoff);
    if (!r) {
        spdlog::warn("audit: prune failed: {}", r.error().message);
        return 0;
    }
    if (r.value() > 0)
        spdlog::info("audit: pruned {} events older than the retention period", r.value());
    return r.value();
}

void AuditRecorder::run() {
    std::unique_lock lk(mu_);
    while (!stopping_) {
        // Real time here only paces batching; no rule depends on it.
        cv_.wait_for(lk, options_.flushInterval,
                     [this] { return stopping_ || events_.size() >= options_.flushAtEvents; });
        if (stopping_) break;
        lk.unlock();
        flush();
        lk.lock();
    }
}

}  // namespace sc::audit
