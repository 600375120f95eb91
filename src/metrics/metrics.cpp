#include "metrics/metrics.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace sc::metrics {

namespace {

std::string number(double v) {
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    if (std::isnan(v)) return "NaN";
    char buf[32];
    // Integers as integers; others with the fewest digits that read back the same double (a
    // bucket bound of 0.05 is written "0.05", not "0.050000000000000003").
    if (v == std::floor(v) && std::fabs(v) < 1e15) {
        std::snprintf(buf, sizeof buf, "%.0f", v);
        return buf;
    }
    for (int precision = 1; precision <= 17; ++precision) {
        std::snprintf(buf, sizeof buf, "%.*g", precision, v);
        if (std::strtod(buf, nullptr) == v) break;
    }
    return buf;
}

}  // namespace

std::string PrometheusText::escapeLabelValue(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '"') {
            out += "\\\"";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

void PrometheusText::family(std::string_view name, std::string_view help, std::string_view type) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    // HELP text escapes backslash and newline only.
    for (char c : help) {
        if (c == '\\') {
            out_ += "\\\\";
        } else if (c == '\n') {
            out_ += "\\n";
        } else {
            out_ += c;
        }
    }
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
}

void PrometheusText::sample(std::string_view name, const Labels& labels, double value) {
    out_ += name;
    if (!labels.empty()) {
        out_ += '{';
        for (size_t i = 0; i < labels.size(); ++i) {
            if (i) out_ += ',';
            out_ += labels[i].first;
            out_ += "=\"";
            out_ += escapeLabelValue(labels[i].second);
            out_ += '"';
        }
        out_ += '}';
    }
    out_ += ' ';
    out_ += number(value);
    out_ += '\n';
}

void DeliveryCounters::record(store::UserKind channel, store::RecipientState state,
                              int64_t acceptedAtMs, int64_t nowMs) {
    const std::string ch(store::userKindName(channel));
    std::lock_guard lock(mu_);
    ++outcomes_[{ch, std::string(store::recipientStateName(state))}];
    if (state != store::RecipientState::Delivered) return;
    const double seconds = static_cast<double>(std::max<int64_t>(0, nowMs - acceptedAtMs)) / 1000.0;
    Histogram& h = latency_[ch];
    for (size_t i = 0; i < kLatencyBuckets.size(); ++i) {
        if (seconds <= kLatencyBuckets[i]) ++h.buckets[i];
    }
    ++h.count;
    h.sumSeconds += seconds;
}

void DeliveryCounters::recordSmtpAttempt(int replyCode, bool overTls) {
    std::string replyClass = "none";
    if (replyCode >= 200 && replyCode < 600) replyClass = std::to_string(replyCode / 100) + "xx";
    std::lock_guard lock(mu_);
    ++smtpAttempts_[{std::move(replyClass), overTls}];
}

void DeliveryCounters::write(PrometheusText& out) const {
    std::lock_guard lock(mu_);
    out.family("sendcloud_smtp_attempts_total",
               "SMTP delivery attempts since start, by reply class (none: no reply) and TLS",
               "counter");
    for (const auto& [key, n] : smtpAttempts_) {
        out.sample("sendcloud_smtp_attempts_total",
                   {{"reply_class", key.first}, {"tls", key.second ? "yes" : "no"}},
                   static_cast<double>(n));
    }
    out.family("sendcloud_delivery_outcomes_total",
               "Delivery outcomes recorded since start, by channel and resulting state", "counter");
    for (const auto& [key, n] : outcomes_) {
        out.sample("sendcloud_delivery_outcomes_total",
                   {{"channel", key.first}, {"state", key.second}}, static_cast<double>(n));
    }
    out.family("sendcloud_delivery_latency_seconds",
               "Time from acceptance to delivered, by channel", "histogram");
    for (const auto& [ch, h] : latency_) {
        for (size_t i = 0; i < kLatencyBuckets.size(); ++i) {
            out.sample("sendcloud_delivery_latency_seconds_bucket",
                       {{"channel", ch}, {"le", number(kLatencyBuckets[i])}},
                       static_cast<double>(h.buckets[i]));
        }
        out.sample("sendcloud_delivery_latency_seconds_bucket", {{"channel", ch}, {"le", "+Inf"}},
                   static_cast<double>(h.count));
        out.sample("sendcloud_delivery_latency_seconds_sum", {{"channel", ch}}, h.sumSeconds);
        out.sample("sendcloud_delivery_latency_seconds_count", {{"channel", ch}},
                   static_cast<double>(h.count));
    }
}

MetricsEndpoint::MetricsEndpoint(const Clock& clock, StatsReader stats,
                                 const DeliveryCounters& counters)
    : clock_(clock), stats_(std::move(stats)), counters_(counters) {}

void MetricsEndpoint::addProvider(MetricsProvider p) {
    std::lock_guard lock(mu_);
    providers_.push_back(std::move(p));
}

std::string MetricsEndpoint::render() {
    const int64_t now = clock_.nowMillis();
    PrometheusText out;
    std::lock_guard lock(mu_);
    // The store is read at most once a second, however often (and by however many scrapers)
    // this is asked.
    if (!cached_ || now - cachedAtMs_ >= 1000 || now < cachedAtMs_) {
        auto s = stats_(now);
        lastReadOk_ = s.ok();
        if (s) {
            cached_ = std::move(s).value();
            cachedAtMs_ = now;
        }
    }
    out.family("sendcloud_store_up", "1 when the last read of the queue's statistics succeeded",
               "gauge");
    out.sample("sendcloud_store_up", {}, lastReadOk_ ? 1 : 0);
    if (cached_) {
        out.family("sendcloud_recipients", "Recipients in the queue, by state", "gauge");
        for (const auto& [state, n] : cached_->recipientsByState) {
            out.sample("sendcloud_recipients", {{"state", state}}, static_cast<double>(n));
        }
        out.family("sendcloud_queue_due", "Recipients queued or deferred and due now", "gauge");
        out.sample("sendcloud_queue_due", {}, static_cast<double>(cached_->due));
        out.family("sendcloud_queue_oldest_waiting_seconds",
                   "Age of the oldest waiting recipient since its acceptance (0: none waits)",
                   "gauge");
        const double age =
            cached_->oldestDueAtMs
                ? static_cast<double>(std::max<int64_t>(0, cachedAtMs_ - *cached_->oldestDueAtMs)) /
                      1000.0
                : 0.0;
        out.sample("sendcloud_queue_oldest_waiting_seconds", {}, age);
    }
    counters_.write(out);
    for (const auto& p : providers_) p(out);
    return out.text();
}

void MetricsEndpoint::registerRoutes(http::Router& router) {
    router.add({http::Method::Get}, "/metrics",
               [this](const http::Request&, http::Responder reply) {
                   http::Response r;
                   r.contentType = "text/plain; version=0.0.4; charset=utf-8";
                   r.body = render();
                   reply(std::move(r));
               });
}

MetricsProvider smsRouteMetrics(std::vector<SmsRouteSource> routes) {
    return [routes = std::move(routes)](PrometheusText& out) {
        if (routes.empty()) return;
        constexpr auto relaxed = std::memory_order_relaxed;
        auto each = [&](auto&& f, bool bindingOnly = false) {
            for (const auto& r : routes) {
                if (r.counters && (r.binds || !bindingOnly)) f(r.route, *r.counters);
            }
        };
        out.family("sendcloud_sms_route_bound", "1 while an smpp route's bind is up, else 0",
                   "gauge");
        each(
            [&](const std::string& route, const queue::SmsRouteCounters& c) {
                out.sample("sendcloud_sms_route_bound", {{"route", route}},
                           c.bound.load(relaxed) ? 1 : 0);
            },
            true);
        out.family("sendcloud_sms_binds_total",
                   "smpp binds that came up (result=up) and bound sessions that ended (down)",
                   "counter");
        each(
            [&](const std::string& route, const queue::SmsRouteCounters& c) {
                out.sample("sendcloud_sms_binds_total", {{"route", route}, {"result", "up"}},
                           static_cast<double>(c.bindsUp.load(relaxed)));
                out.sample("sendcloud_sms_binds_total", {{"route", route}, {"result", "down"}},
                           static_cast<double>(c.bindsDown.load(relaxed)));
            },
            true);
        out.family("sendcloud_sms_window_in_use", "Submits sent and not answered yet, by route",
                   "gauge");
        each([&](const std::string& route, const queue::SmsRouteCounters& c) {
            out.sample("sendcloud_sms_window_in_use", {{"route", route}},
                       static_cast<double>(c.windowInUse.load(relaxed)));
        });
        out.family("sendcloud_sms_throttle_pauses_total",
                   "Route pauses after a temporary submit error (throttled, queue full)",
                   "counter");
        each([&](const std::string& route, const queue::SmsRouteCounters& c) {
            out.sample("sendcloud_sms_throttle_pauses_total", {{"route", route}},
                       static_cast<double>(c.throttlePauses.load(relaxed)));
        });
        out.family("sendcloud_sms_submit_seconds",
                   "Submit sent to its answer (submit_sm to submit_sm_resp, or the provider's "
                   "HTTP reply), by route",
                   "histogram");
        each([&](const std::string& route, const queue::SmsRouteCounters& c) {
            const auto& bounds = queue::SmsRouteCounters::kSubmitBuckets;
            uint64_t cumulative = 0;
            for (size_t i = 0; i < bounds.size(); ++i) {
                cumulative += c.submitLatencyBuckets[i].load(relaxed);
                out.sample("sendcloud_sms_submit_seconds_bucket",
                           {{"route", route}, {"le", number(bounds[i])}},
                           static_cast<double>(cumulative));
            }
            cumulative += c.submitLatencyBuckets[bounds.size()].load(relaxed);
            out.sample("sendcloud_sms_submit_seconds_bucket", {{"route", route}, {"le", "+Inf"}},
                       static_cast<double>(cumulative));
            out.sample("sendcloud_sms_submit_seconds_sum", {{"route", route}},
                       static_cast<double>(c.submitLatencyMicrosTotal.load(relaxed)) / 1e6);
            out.sample("sendcloud_sms_submit_seconds_count", {{"route", route}},
                       static_cast<double>(cumulative));
        });
    };
}

queue::OutcomeRecorder::Observer countingObserver(DeliveryCounters& counters, const Clock& clock) {
    return [&counters, &clock](const queue::DeliveryOutcome& outcome, store::RecipientState state,
                               const queue::AttemptContext& ctx) {
        counters.record(ctx.channel, state, ctx.acceptedAtMs, clock.nowMillis());
        // Test mode never connects: a sandbox outcome is no SMTP attempt.
        if (ctx.channel == store::UserKind::Email &&
            outcome.kind != queue::DeliveryOutcome::Kind::Sandbox) {
            counters.recordSmtpAttempt(outcome.replyCode, !outcome.tlsVersion.empty());
        }
    };
}

MetricsProvider storeWriteMetrics(StoreWriteSource source) {
    return [source = std::move(source)](PrometheusText& out) {
        out.family("sendcloud_store_writes_held",
                   "1 while the database refuses every write after a full disk, until its WAL has "
                   "been copied into the database file",
                   "gauge");
        out.sample("sendcloud_store_writes_held", {}, source.held() ? 1 : 0);
        out.family("sendcloud_store_writes_refused_total",
                   "Writes (sends, delivery outcomes, console changes) refused while held",
                   "counter");
        out.sample("sendcloud_store_writes_refused_total", {},
                   static_cast<double>(source.refused()));
    };
}

}  // namespace sc::metrics
