#pragma once
// TestControls: routes that exist only for the end-to-end tests (today: moving the server's
// clock). Two locks keep them out of production: the code is compiled only with the CMake
// option SC_TEST_CONTROLS (the Release build of `make run` leaves it OFF, so the route does
// not exist in that binary), and even a test build installs nothing unless the server was
// started with --enable-test-controls=true.

#include "common/shifted_clock.h"
#include "http/router.h"

namespace sc::test_controls {

// True when this binary was built with SC_TEST_CONTROLS.
bool compiledIn();

class TestControls {
public:
    explicit TestControls(ShiftedClock& clock) : clock_(clock) {}

    // Installs POST /test/clock/advance?ms=N (1 <= N <= 30 days) when compiledIn(); a no-op
    // otherwise. The reply is {"offsetMs": total offset so far}.
    void registerRoutes(http::Router& router);

private:
    ShiftedClock& clock_;
};

}  // namespace sc::test_controls
