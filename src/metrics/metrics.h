#pragma once
// /metrics (docs/operations.md "Metrics"): the Prometheus text exposition format 0.0.4, written
// by PrometheusText; DeliveryCounters, bumped by the outcome recorder's observer (the recorder is
// the one writer of delivery state, so counting there sees every outcome); and MetricsEndpoint,
// which answers a scrape from the counters, the queue's stats (read at most once a second,
// whatever the scrape rate) and any providers registered later (the SMTP and SMS agents' gauges).

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "http/router.h"
#include "queue/delivery.h"
#include "queue/outcome_recorder.h"
#include "store/queue_store.h"

namespace sc::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

// Builds one exposition: each family's HELP and TYPE once, then its samples.
class PrometheusText {
public:
    void family(std::string_view name, std::string_view help, std::string_view type);
    void sample(std::string_view name, const Labels& labels, double value);
    const std::string& text() const { return out_; }

    // A label value with \, " and newline escaped as the format requires.
    static std::string escapeLabelValue(std::string_view v);

private:
    std::string out_;
};

// Outcomes by channel and state, and the accept → delivered latency histogram. Thread-safe.
class DeliveryCounters {
public:
    // Upper bounds of the latency buckets, in seconds (+Inf is implicit).
    static constexpr std::array<double, 10> kLatencyBuckets = {1,   5,    15,    60,    300,
                                                               900, 3600, 14400, 86400, 432000};

    void record(store::UserKind channel, store::RecipientState state, int64_t acceptedAtMs,
                int64_t nowMs);
    // One SMTP attempt: counted by reply class (2xx, 4xx, 5xx, or none: no reply, e.g. the
    // connection failed) and whether it ran over TLS (the TLS share of deliveries).
    void recordSmtpAttempt(int replyCode, bool overTls);
    void write(PrometheusText& out) const;

private:
    mutable std::mutex mu_;
    std::map<std::pair<std::string, std::string>, uint64_t> outcomes_;  // (channel, state)
    struct Histogram {
        std::array<uint64_t, kLatencyBuckets.size()> buckets{};
        uint64_t count = 0;
        double sumSeconds = 0;
    };
    std::map<std::string, Histogram> latency_;                       // by channel
    std::map<std::pair<std::string, bool>, uint64_t> smtpAttempts_;  // (reply class, TLS)
};

// Adds samples to a scrape; runs on the HTTP thread, must be quick and must not block.
using MetricsProvider = std::function<void(PrometheusText&)>;
using StatsReader = std::function<Result<store::QueueStats, store::StoreError>(int64_t nowMs)>;

class MetricsEndpoint {
public:
    MetricsEndpoint(const Clock& clock, StatsReader stats, const DeliveryCounters& counters);

    void addProvider(MetricsProvider p);
    void registerRoutes(http::Router& router);
    std::string render();

private:
    const Clock& clock_;
    StatsReader stats_;
    const DeliveryCounters& counters_;
    std::mutex mu_;
    std::vector<MetricsProvider> providers_;
    std::optional<store::QueueStats> cached_;
    int64_t cachedAtMs_ = 0;
    bool lastReadOk_ = false;
};

// One SMS route as /metrics shows it: its connector's counters, which outlive the endpoint.
struct SmsRouteSource {
    std::string route;
    bool binds = false;  // smpp: it holds a bind, so the bound gauge and binds counter apply
    const queue::SmsRouteCounters* counters = nullptr;
};

// The SMS routes' gauges, counters and submit latency histogram (docs/operations.md,
// "Metrics"), labelled by route; reads only atomics, so a scrape never waits on delivery.
MetricsProvider smsRouteMetrics(std::vector<SmsRouteSource> routes);

// Whether the database holds every write back after a full disk (docs/operations.md, "Disk
// full"), and how many writes it refused so far; both read without waiting on the store.
struct StoreWriteSource {
    std::function<bool()> held;
    std::function<uint64_t()> refused;
};
MetricsProvider storeWriteMetrics(StoreWriteSource source);

// The recorder's observer that feeds `counters`.
queue::OutcomeRecorder::Observer countingObserver(DeliveryCounters& counters, const Clock& clock);

}  // namespace sc::metrics
