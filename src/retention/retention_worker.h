#pragma once
// RetentionWorker: prunes, on its own thread, what the database no longer needs: sendRequestId
// records past their idempotency window, retired API_KEYs some time after their grace ended (the
// "this key was reset" hint needs them until then), usage rows and SMS receipts that never
// matched past their retention, and the bodies of delivered messages past
// --message-retention-days (the messages, recipients, attempts and events stay: statistics and
// the status API read them). Cut-offs come from the injectable Clock; each kind is pruned in
// small batches with a pause between them, so the send path's commits never wait long.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "common/clock.h"
#include "store/retention_store.h"

namespace sc::retention {

struct RetentionPolicy {
    std::chrono::milliseconds messageBodies{std::chrono::hours(24 * 30)};
    std::chrono::milliseconds usage{std::chrono::hours(24 * 400)};
    std::chrono::milliseconds sendRequests;  // default: domain::kSendRequestWindow
    // Past its grace a retired key no longer authenticates; it is kept this much longer so a
    // client still using it hears that it was reset rather than that it is wrong.
    std::chrono::milliseconds retiredKeysAfterGrace{std::chrono::hours(24 * 30)};
    // An SMSC's receipt arrives within its validity period (48 h at most in practice).
    std::chrono::milliseconds pendingReceipts{std::chrono::hours(24 * 7)};
    int64_t batch = 500;
    std::chrono::milliseconds pauseBetweenBatches{20};          // real time: lets the writer in
    std::chrono::milliseconds interval{std::chrono::hours(1)};  // real time between runs

    RetentionPolicy();
};

struct PruneCounts {
    int64_t sendRequests = 0;
    int64_t retiredKeys = 0;
    int64_t usage = 0;
    int64_t pendingReceipts = 0;
    int64_t messageBodies = 0;
    int failures = 0;  // kinds whose prune failed this run (logged; tried again next run)

    int64_t total() const {
        return sendRequests + retiredKeys + usage + pendingReceipts + messageBodies;
    }
};

class RetentionWorker {
public:
    RetentionWorker(store::RetentionStore& store, Clock& clock, RetentionPolicy policy);
    ~RetentionWorker();

    RetentionWorker(const RetentionWorker&) = delete;
    RetentionWorker& operator=(const RetentionWorker&) = delete;

    // One run: every kind, batch after batch, until nothing is due (or stop() was called).
    PruneCounts runOnce();

    // A run at start-up and then every `interval`. stop() ends a run between two batches.
    void start();
    void stop();
    uint64_t runsDone() const;

private:
    // Waits `d` or until stop(); false when stopped.
    bool pause(std::chrono::milliseconds d);

    store::RetentionStore& store_;
    Clock& clock_;
    const RetentionPolicy policy_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    uint64_t runs_ = 0;
    std::thread thread_;
};

}  // namespace sc::retention
