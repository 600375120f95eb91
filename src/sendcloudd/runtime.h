#pragma once
// The object graph that both the server and the operator commands need: the data dir, the
// server secret, the key material and the store, built in one place so every command opens the
// same database the same way.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "auth/credential_issuer.h"
#include "auth/key_material.h"
#include "auth/server_secret.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/random.h"
#include "common/shifted_clock.h"
#include "metrics/metrics.h"
#include "queue/enqueue_notifier.h"
#include "queue/outcome_recorder.h"
#include "queue/scheduler.h"
#include "store/queue_store.h"
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
// onError; by default they are printed to stderr. onNotice hears the store's news that is not a
// failure (writes resuming after a full disk); by default onError does.
std::unique_ptr<Runtime> openRuntime(const Settings& settings,
                                     std::function<void(std::string_view)> onError = nullptr,
                                     std::function<void(std::string_view)> onNotice = nullptr);

// The store's own gauges at /metrics: writes held after a full disk, and how many were refused.
void registerStoreMetrics(metrics::MetricsEndpoint& endpoint, Runtime& rt);

// The id of the account with this e-mail, for the operator commands; nullopt after printing why
// to stderr (no such account, or the store failed).
std::optional<int64_t> accountIdOf(Runtime& rt, const std::string& email);

// Delivery (docs/delivery.md): the queue store, the one outcome recorder, the scheduler and the
// agents it hands work to. Built for the server only; the status API reads `queue` even when
// delivery is off.
struct Delivery {
    // The delivery agents' own event loop and threads: never the HTTP server's, so a full
    // queue or a slow peer cannot slow the API. Created before the agents (a connector may
    // start binding at once) and stopped after the scheduler (stopDeliveryIo()).
    boost::asio::io_context io;
    std::unique_ptr<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>
        ioWork;
    std::vector<std::thread> ioThreads;
    std::unique_ptr<store::QueueStore> queue;
    std::unique_ptr<queue::OutcomeRecorder> recorder;
    std::unique_ptr<queue::Scheduler> scheduler;
    // What the send handlers enqueue through: the backend's store, plus a poke per commit.
    std::unique_ptr<queue::EnqueueNotifier> messages;
    // The agents registered by registerDeliveryAgents() (runtime.cpp), owned here.
    std::vector<std::unique_ptr<queue::DeliveryAgent>> agents;
    bool enabled = false;

    ~Delivery();
};

// Lets the agents' pending work end and joins the delivery threads; call after
// scheduler->stop() (which has stopped the agents). Safe to call twice.
void stopDeliveryIo(Delivery& d);

// Opens the queue store, reads or creates <data_dir>/node-id and builds the scheduler with the
// agents; does not start it (Delivery::scheduler->start()). Null after printing the reason.
std::unique_ptr<Delivery> openDelivery(Runtime& rt, const Settings& settings,
                                       std::function<void(std::string_view)> onError);

}  // namespace sc::app
