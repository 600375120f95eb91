#include "sendcloudd/runtime.h"
#include "common/thread_role.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "queue/node_id.h"
#include "sendcloudd/email_delivery.h"
#include "sendcloudd/sms_delivery.h"

namespace sc::app {

std::unique_ptr<Runtime> openRuntime(const Settings& settings,
                                     std::function<void(std::string_view)> onError,
                                     std::function<void(std::string_view)> onNotice) {
    auto rt = std::make_unique<Runtime>();
    std::error_code ec;
    std::filesystem::create_directories(settings.dataDir, ec);
    if (ec) {
        std::cerr << "sendcloudd: cannot create data dir " << settings.dataDir << ": "
                  << ec.message() << "\n";
        return nullptr;
    }
    ::chmod(settings.dataDir.c_str(), 0700);
    auto secret = auth::ServerSecret::loadOrCreate(settings.secretFilePath(), rt->random);
    if (!secret) {
        std::cerr << "sendcloudd: " << secret.error() << "\n";
        return nullptr;
    }
    rt->secret = std::make_unique<auth::ServerSecret>(std::move(secret).value());
    rt->keys = std::make_unique<auth::KeyMaterial>(*rt->secret);
    try {
        store::SqliteOptions opts;
        opts.path = settings.databasePath();
        opts.clock = &rt->clock;
        opts.onError = onError ? std::move(onError) : [](std::string_view message) {
            std::cerr << "sendcloudd: " << message << "\n";
        };
        opts.onNotice = onNotice ? std::move(onNotice) : opts.onError;
        rt->backend = std::make_unique<store::SqliteBackend>(opts);
    } catch (const std::exception& e) {
        std::cerr << "sendcloudd: cannot open database " << settings.databasePath() << ": "
                  << e.what() << "\n";
        return nullptr;
    }
    rt->issuer = std::make_unique<auth::CredentialIssuer>(
        rt->backend->credentials(), *rt->keys, rt->random, rt->clock,
        std::chrono::seconds(settings.emailKeyGrace));
    return rt;
}

void registerStoreMetrics(metrics::MetricsEndpoint& endpoint, Runtime& rt) {
    store::SqliteBackend* backend = rt.backend.get();
    endpoint.addProvider(
        metrics::storeWriteMetrics({[backend] { return backend->writesHeldForFullDisk(); },
                                    [backend] { return backend->writesRefusedForFullDisk(); }}));
}

std::optional<int64_t> accountIdOf(Runtime& rt, const std::string& email) {
    auto account = rt.backend->credentials().findAccountByEmail(email);
    if (!account) {
        std::cerr << "sendcloudd: " << account.error().message << "\n";
        return std::nullopt;
    }
    if (!account.value()) {
        std::cerr << "sendcloudd: no account with e-mail " << email << "\n";
        return std::nullopt;
    }
    return account.value()->id;
}

namespace {

// THE place where delivery agents are plugged in: one per channel, owned by `d.agents`, handed
// to the scheduler with setAgent(). A channel without an agent stays queued (test-mode messages
// go to the scheduler's built-in sandbox agent whatever their channel). Agents report outcomes
// through the Report they are given and SMS receipts through `*d.recorder` (the ReceiptSink).
//
//   auto smtp = std::make_unique<delivery::smtp::SmtpAgent>(...);
//   d.scheduler->setAgent(store::UserKind::Email, *smtp);
//   d.agents.push_back(std::move(smtp));
// Returns why an agent could not start ("" when all did).
std::string registerDeliveryAgents(Delivery& d, Runtime& rt, const Settings& settings) {
    if (auto e = registerSmsAgent(d, rt, settings); !e.empty()) return e;
    if (auto e = registerEmailAgent(d, rt, settings, makeDkimSigner(rt)); !e.empty()) return e;
    return {};
}

}  // namespace

void stopDeliveryIo(Delivery& d) {
    // The agents were stopped by the scheduler. Handlers still queued (a peer that keeps a
    // read open) are not waited for: they are destroyed with the io_context, which outlives
    // the agents (it is Delivery's first member), as Asio requires.
    d.ioWork.reset();
    d.io.stop();
    for (auto& t : d.ioThreads) {
        if (t.joinable()) t.join();
    }
    d.ioThreads.clear();
}

Delivery::~Delivery() {
    if (scheduler) scheduler->stop(std::chrono::milliseconds(0));
    stopDeliveryIo(*this);
}

std::unique_ptr<Delivery> openDelivery(Runtime& rt, const Settings& settings,
                                       std::function<void(std::string_view)> onError) {
    auto d = std::make_unique<Delivery>();
    d->enabled = settings.delivery;
    d->ioWork =
        std::make_unique<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>(
            d->io.get_executor());
    // Two threads: TLS handshakes and DKIM signing are the CPU work; the rest waits on peers.
    for (int i = 0; i < 2; ++i) {
        d->ioThreads.emplace_back([io = &d->io] {
            enterThreadRole("sc-deliver", ThreadPriority::Background);
            io->run();
        });
    }
    try {
        d->queue = rt.backend->openQueueStore();
    } catch (const std::exception& e) {
        std::cerr << "sendcloudd: cannot open the delivery queue: " << e.what() << "\n";
        return nullptr;
    }
    auto nodeId = queue::loadOrCreateNodeId(
        (std::filesystem::path(settings.dataDir) / "node-id").string(), rt.random);
    if (!nodeId) {
        std::cerr << "sendcloudd: " << nodeId.error() << "\n";
        return nullptr;
    }
    queue::RetryPolicy policy;
    policy.first = std::chrono::seconds(settings.retryFirst);
    policy.max = std::chrono::seconds(settings.retryMax);
    policy.queueLifetime = std::chrono::seconds(settings.queueLifetime);
    d->recorder = std::make_unique<queue::OutcomeRecorder>(*d->queue, rt.clock, policy);
    if (onError) d->recorder->setErrorSink(onError);
    queue::SchedulerOptions options;
    options.nodeId = std::move(nodeId).value();
    options.maxInFlight = static_cast<size_t>(settings.deliveryMaxInFlight);
    d->scheduler = std::make_unique<queue::Scheduler>(*d->queue, *d->recorder, rt.clock, options);
    if (auto e = registerDeliveryAgents(*d, rt, settings); !e.empty()) {
        std::cerr << "sendcloudd: " << e << "\n";
        return nullptr;
    }
    queue::Scheduler* scheduler = d->scheduler.get();
    const bool enabled = d->enabled;
    d->messages =
        std::make_unique<queue::EnqueueNotifier>(rt.backend->messages(), [scheduler, enabled] {
            if (enabled) scheduler->poke();
        });
    return d;
}

}  // namespace sc::app
