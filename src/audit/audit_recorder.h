#pragma once
// AuditRecorder: the authentication log and the hourly usage counters, written in batches by a
// background thread so that recording never sits on the send path: record() and countUsage()
// only append to memory. flush() writes everything pending synchronously (tests, shutdown).
// Events older than the retention period are pruned as Clock time passes.
//
// Attempts that differ only in their time within one second and their User-Agent (an
// integration sending with the same user, key and address, or a script hammering a wrong key,
// whatever User-Agent it sends) are coalesced into one event with a count (AuthEvent::attempts,
// lastAtMs) and the latest User-Agent while they wait for the flush: every attempt is still
// counted, but a busy client costs a row a second instead of a row a request, which was most of
// the send path's database work and let the log grow without bound.
//
// A user's last use (the console's "Last use") rides with the usage counters: every successful
// authentication recorded here moves the lastUsedMs of that user's hour forward, and the flush
// writes it in the same statement that adds the counts (store::UsageDelta::lastUsedMs).

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "store/audit_store.h"

namespace sc::audit {

struct AuditOptions {
    std::chrono::milliseconds flushInterval{1000};  // real time between background flushes
    size_t flushAtEvents = 2000;                    // flush early when this many are pending
    // Events per store write (one transaction each): every write holds SQLite's write lock,
    // which the message writer's group commit then waits for, so a burst is written in short
    // pieces rather than in one long transaction.
    size_t eventsPerWrite = 256;
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

    // Both run on the I/O threads: a short critical section, and no allocation once the
    // buffers have grown to a flush's worth (record() moves the event in).
    void record(store::AuthEvent event);
    void countUsage(int64_t userId, int64_t accountId, const std::string& userName,
                    const UsageIncrement& inc);
    // Counts at `atMs` rather than now: a correction (a negative increment) must land in the
    // same hour as what it corrects.
    void countUsage(int64_t userId, int64_t accountId, const std::string& userName,
                    const UsageIncrement& inc, int64_t atMs);

    // Writes everything recorded so far; returns false when the store refused it (the batch is
    // kept and retried on the next flush).
    bool flush();
    // Deletes events older than the retention period now; returns how many.
    int64_t pruneNow();

private:
    void run();
    void maybePrune();
    // Writes `events` in pieces of options_.eventsPerWrite; on a refusal, puts what was not
    // written back in front of events_ and answers false.
    bool writeEvents(std::vector<store::AuthEvent>& events);
    // The pending counters of one user and hour, made on first use. Call with mu_ held.
    store::UsageDelta& pendingUsage(int64_t userId, int64_t accountId, const std::string& userName,
                                    int64_t atMs);

    store::AuditStore& store_;
    const Clock& clock_;
    AuditOptions options_;

    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<store::AuthEvent> events_;
    // Where in events_ each pending event's likes would be coalesced: its coalescing hash ->
    // its index. Emptied whenever events_ is.
    std::unordered_multimap<uint64_t, size_t> pendingByHash_;
    // The batch flush() wrote last time, emptied but with its capacity, swapped in for events_
    // so that record() does not regrow a vector from nothing after every flush.
    std::vector<store::AuthEvent> spareEvents_;
    std::map<std::pair<int64_t, int64_t>, store::UsageDelta> usage_;  // (userId, hour)
    bool stopping_ = false;
    std::thread thread_;

    std::mutex flushMu_;  // one flush at a time, so batches stay in order
    int64_t lastPruneMs_ = 0;
};

}  // namespace sc::audit
