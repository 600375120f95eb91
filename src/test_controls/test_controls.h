#pragma once
// TestControls: routes that exist only for the end-to-end and client tests: moving the server's
// clock, and faults on the send paths (the next N sends answered 503 or 429 with Retry-After, or
// queued and then their connection dropped without an answer). Two locks keep them out of
// production: the code is compiled only with the CMake option SC_TEST_CONTROLS (the Release build
// of `make run` leaves it OFF, so the route does not exist in that binary), and even a test build
// installs nothing unless the server was started with --enable-test-controls=true.

#include <mutex>

#include "common/shifted_clock.h"
#include "http/router.h"

namespace sc::test_controls {

// True when this binary was built with SC_TEST_CONTROLS.
bool compiledIn();

class TestControls {
public:
    explicit TestControls(ShiftedClock& clock) : clock_(clock) {}

    // Installs, when compiledIn() (a no-op otherwise):
    //  POST /test/clock/advance?ms=N (1 <= N <= 30 days), answering {"offsetMs": total so far};
    //  POST /test/faults?fail=N&status=503|429[&retryAfter=S]: the next N send requests get
    //    that status (store.unavailable / limit.rate_exceeded) before anything else is done;
    //  POST /test/faults?drop=N: the next N accepted sends are queued, then their connection is
    //    closed without the answer (a lost response);
    //  GET /test/faults: {"fail", "drop", "failed", "dropped"}: pending and injected so far.
    // Call it after the send routes are registered: it wraps them.
    void registerRoutes(http::Router& router);

private:
    // What the next send gets: a refusal with this status, its connection dropped, or nothing.
    struct Fault {
        int64_t failStatus = 0, retryAfter = 0;
        bool drop = false;
    };
    void advanceClock(const http::Request& req, http::Responder reply);
    void setFaults(const http::Request& req, http::Responder reply);
    // Counts the next send against the pending faults.
    Fault takeFault();
    // A send route's handler with the pending faults applied before it.
    http::Handler withFaults(http::Handler inner, http::ErrorResponder errors);

    struct Faults {
        int64_t fail = 0, status = 503, retryAfter = 1, drop = 0;
        int64_t failed = 0, dropped = 0;
    };
    ShiftedClock& clock_;
    std::mutex faultsMu_;
    Faults faults_;
};

}  // namespace sc::test_controls
