#pragma once
// AuditRecorder: the authentication log and the hourly usage counters, written in batches by a
// background thread so that recording never sits on the send path: record() and countUsage()
// only append to memory. flush() writes everything pending synchronously (tests, shutdown).
// Events older than the retention period are pruned as Clock time passes.

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>
#include <vector>

#include "common/clock.h"
#include "store/audit_store.h"

namespace sc::audit {

struct AuditOptions {
    std::chrono::milliseconds flushInterval{1000};  // real time between background flushes
    size_t flushAtEvents = 2000;                    // flush early when this many are pending
    std::chrono::hours retention{24 * 90};
    std::chrono::minutes pruneEvery{60};  // Clock time between prunes
};

struct UsageIncrement {
    int64_t requests = 0;
    int64_t recipients = 0;
    int64_t authFailures = 0;
    int64_t rateLimited = 0;
};

class AuditRecorder {
public:
    AuditRecorder(store::AuditStore& store, const Clock& clock, AuditOptions options);
    ~AuditRecorder();

    void start();
    // Flushes what is pending and stops the thread.
    void stop();

    void record(store::AuthEvent event);
    void countUsage(int64_t userId, int64_t accountId, const std::string& userName,
                    const UsageIncrement& inc);

    // Writes everything recorded so far; returns false when the store refused it (the batch is
    // kept and retried on the next flush).
    bool flush();
    // Deletes events older than the retention period now; returns how many.
    int64_t pruneNow();

private:
    void run();
    void maybePrune();

    store::AuditStore& store_;
    const Clock& clock_;
    AuditOptions options_;

    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<store::AuthEvent> events_;
    std::map<std::pair<int64_t, int64_t>, store::UsageDelta> usage_;  // (userId, hour)
    bool stopping_ = false;
    std::thread thread_;

    std::mutex flushMu_;  // one flush at a time, so batches stay in order
    int64_t lastPruneMs_ = 0;
};

}  // namespace sc::audit
