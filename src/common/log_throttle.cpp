#include "common/log_throttle.h"

namespace sc {

LogThrottle::Decision LogThrottle::admit() {
    if (linesPerSecond_ == 0) return {true, 0};
    const int64_t now = clock_.nowMillis();
    std::lock_guard lock(mutex_);
    // A fixed one-second window: simple, and the cap holds for every window.
    if (!started_ || now < windowStartMs_ || now - windowStartMs_ >= 1000) {
        started_ = true;
        windowStartMs_ = now;
        writtenInWindow_ = 0;
    }
    if (writtenInWindow_ >= linesPerSecond_) {
        ++omitted_;
        return {false, 0};
    }
    ++writtenInWindow_;
    Decision d{true, omitted_};
    omitted_ = 0;
    return d;
}

}  // namespace sc
