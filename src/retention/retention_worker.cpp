#include "retention/retention_worker.h"
#include "common/thread_role.h"

#include <spdlog/spdlog.h>

#include "domain/limits.h"

namespace sc::retention {

RetentionPolicy::RetentionPolicy() : sendRequests(domain::kSendRequestWindow) {}

RetentionWorker::RetentionWorker(store::RetentionStore& store, Clock& clock, RetentionPolicy policy)
    : store_(store), clock_(clock), policy_(policy) {}

RetentionWorker::~RetentionWorker() {
    stop();
}

bool RetentionWorker::pause(std::chrono::milliseconds d) {
    std::unique_lock lock(mutex_);
    if (d.count() > 0) wake_.wait_for(lock, d, [this] { return stopping_; });
    return !stopping_;
}

PruneCounts RetentionWorker::runOnce() {
    PruneCounts counts;
    const int64_t now = clock_.nowMillis();
    using Prune = Result<int64_t, store::StoreError> (store::RetentionStore::*)(int64_t, int64_t);
    struct Kind {
        const char* name;
        Prune prune;
        int64_t beforeMs;
        int64_t PruneCounts::*count;
    };
    const Kind kinds[] = {
        {"send request ids", &store::RetentionStore::pruneSendRequests,
         now - policy_.sendRequests.count(), &PruneCounts::sendRequests},
        {"retired keys", &store::RetentionStore::pruneRetiredKeys,
         now - policy_.retiredKeysAfterGrace.count(), &PruneCounts::retiredKeys},
        {"usage rows", &store::RetentionStore::pruneUsage, now - policy_.usage.count(),
         &PruneCounts::usage},
        {"unmatched SMS receipts", &store::RetentionStore::prunePendingReceipts,
         now - policy_.pendingReceipts.count(), &PruneCounts::pendingReceipts},
        {"message bodies", &store::RetentionStore::pruneMessageBodies,
         now - policy_.messageBodies.count(), &PruneCounts::messageBodies},
    };
    for (const auto& kind : kinds) {
        for (;;) {
            auto done = (store_.*kind.prune)(kind.beforeMs, policy_.batch);
            if (!done) {
                ++counts.failures;
                spdlog::warn("retention: pruning {} failed (tried again next run): {}", kind.name,
                             done.error().message);
                break;
            }
            counts.*kind.count += done.value();
            if (done.value() < policy_.batch) break;
            if (!pause(policy_.pauseBetweenBatches)) return counts;
        }
    }
    if (counts.total() > 0) {
        spdlog::info(
            "retention: pruned {} send request ids, {} retired keys, {} usage rows, {} unmatched "
            "SMS receipts, {} message bodies",
            counts.sendRequests, counts.retiredKeys, counts.usage, counts.pendingReceipts,
            counts.messageBodies);
    }
    return counts;
}

void RetentionWorker::start() {
    thread_ = std::thread([this] {
        enterThreadRole("sc-retention", ThreadPriority::Normal);
        do {
            runOnce();
            std::lock_guard lock(mutex_);
            ++runs_;
            wake_.notify_all();
        } while (pause(policy_.interval));
    });
}

void RetentionWorker::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

uint64_t RetentionWorker::runsDone() const {
    std::lock_guard lock(mutex_);
    return runs_;
}

}  // namespace sc::retention
