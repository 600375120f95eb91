#pragma once
// A cap on how many lines of one kind reach the log per second. Lines that a client can cause at
// will (an authentication failure per request) would otherwise let anyone fill the operator's
// disk at the server's full request rate, and cost a write(2) each; the complete record of those
// events lives elsewhere (the authentication log in the database). Past the cap, lines are
// counted instead of written, and the next line written says how many were left out.
#include <cstdint>
#include <mutex>

#include "common/clock.h"

namespace sc {

class LogThrottle {
public:
    struct Decision {
        bool write = false;
        // Lines left out since the last one written (meaningful when write is true).
        uint64_t omitted = 0;
    };

    // linesPerSecond == 0 turns the cap off (every line is written).
    LogThrottle(const Clock& clock, uint32_t linesPerSecond)
        : clock_(clock), linesPerSecond_(linesPerSecond) {}

    // Whether the caller should write its line now.
    Decision admit();

private:
    const Clock& clock_;
    const uint32_t linesPerSecond_;
    std::mutex mutex_;
    bool started_ = false;
    int64_t windowStartMs_ = 0;
    uint32_t writtenInWindow_ = 0;
    uint64_t omitted_ = 0;
};

}  // namespace sc
