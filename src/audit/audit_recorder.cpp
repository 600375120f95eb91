#include "audit/audit_recorder.h"

#include <spdlog/spdlog.h>

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
    thread_ = std::thread([this] { run(); });
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

void AuditRecorder::record(store::AuthEvent event) {
    bool wake;
    {
        std::lock_guard lk(mu_);
        events_.push_back(std::move(event));
        wake = events_.size() >= options_.flushAtEvents;
    }
    if (wake) cv_.notify_one();
}

void AuditRecorder::countUsage(int64_t userId, int64_t accountId, const std::string& userName,
                               const UsageIncrement& inc) {
    if (userId == 0) return;
    const int64_t now = clock_.nowMillis();
    const int64_t hour = now - now % 3600000;
    std::lock_guard lk(mu_);
    auto& d = usage_[{userId, hour}];
    d.userId = userId;
    d.accountId = accountId;
    d.userName = userName;
    d.hourStartMs = hour;
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
        events.swap(events_);
        usage.swap(usage_);
    }
    bool ok = true;
    if (!events.empty()) {
        if (auto r = store_.appendEvents(events); !r) {
            spdlog::warn("audit: could not write {} events: {}", events.size(), r.error().message);
            std::lock_guard lk(mu_);
            events_.insert(events_.begin(), std::make_move_iterator(events.begin()),
                           std::make_move_iterator(events.end()));
            ok = false;
        }
    }
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
                }
            }
            ok = false;
        }
    }
    maybePrune();
    return ok;
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
