#pragma once
// The object graph that both the server and the operator commands need: the data dir, the
// server secret, the key material and the store, built in one place so every command opens the
// same database the same way.

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "auth/credential_issuer.h"
#include "auth/key_material.h"
#include "auth/server_secret.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/random.h"
#include "common/shifted_clock.h"
#include "store/sqlite/sqlite_store.h"

namespace sc::app {

struct Runtime {
    SystemClock systemClock;
    // Everything runs on this one; it is the system clock unless a test build's test control
    // moves it forward (see src/test_controls/).
    ShiftedClock clock{systemClock};
    SystemRandom random;
    std::unique_ptr<auth::ServerSecret> secret;
    std::unique_ptr<auth::KeyMaterial> keys;
    std::unique_ptr<store::SqliteBackend> backend;
    std::unique_ptr<auth::CredentialIssuer> issuer;
};

// Creates the data dir if needed, loads or creates the server secret and opens the store.
// Returns null after printing the reason to stderr. Store failures that have no caller to answer
// (a checkpoint, a credential change that could not be signalled to running servers) go to
// onError; by default they are printed to stderr.
std::unique_ptr<Runtime> openRuntime(const Settings& settings,
                                     std::function<void(std::string_view)> onError = nullptr);

}  // namespace sc::app
