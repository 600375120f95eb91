#pragma once
// WorkPool: a few threads for work too slow for an I/O thread (argon2id costs ~180 ms and 64 MiB
// per password). Its size bounds the memory that concurrent logins can take; its queue bound
// turns a flood of logins into quick 503s instead of minutes of latency.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace sc::console {

class WorkPool {
public:
    // `threads` >= 1; `maxQueued` tasks may wait beyond those running.
    explicit WorkPool(size_t threads, size_t maxQueued = 256);
    ~WorkPool();  // stop()
    WorkPool(const WorkPool&) = delete;
    WorkPool& operator=(const WorkPool&) = delete;

    // False, and the task is dropped unrun, when the queue is full or the pool stopped: the
    // caller must answer the request itself then.
    [[nodiscard]] bool post(std::function<void()> task);

    // Refuses new tasks, runs every task already queued, joins the threads. Idempotent. Must
    // not be called from a pool thread.
    void stop();

    size_t threadCount() const { return threads_.size(); }

private:
    void run();

    const size_t maxQueued_;
    std::mutex stopMu_;  // serialises joins when two threads call stop()
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> queue_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace sc::console
