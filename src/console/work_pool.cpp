#include "console/work_pool.h"
#include "common/thread_role.h"

namespace sc::console {

WorkPool::WorkPool(size_t threads, size_t maxQueued) : maxQueued_(maxQueued) {
    if (threads == 0) threads = 1;
    threads_.reserve(threads);
    for (size_t i = 0; i < threads; ++i)
        threads_.emplace_back([this] {
            enterThreadRole("sc-console", ThreadPriority::Normal);
            run();
        });
}

WorkPool::~WorkPool() {
    stop();
}

bool WorkPool::post(std::function<void()> task) {
    {
        std::lock_guard lk(mu_);
        if (stopping_ || queue_.size() >= maxQueued_) return false;
        queue_.push_back(std::move(task));
    }
    cv_.notify_one();
    return true;
}

void WorkPool::stop() {
    std::lock_guard stopLk(stopMu_);
    {
        std::lock_guard lk(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) {
        if (t.joinable()) t.join();
    }
}

void WorkPool::run() {
    for (;;) {
        std::function<void()> task;
        {
            std::unique_lock lk(mu_);
            cv_.wait(lk, [this] { return stopping_ || !queue_.empty(); });
            // Drain before leaving: a queued login still owes its client an answer.
            if (queue_.empty()) return;
            task = std::move(queue_.front());
            queue_.pop_front();
        }
        task();
    }
}

}  // namespace sc::console
