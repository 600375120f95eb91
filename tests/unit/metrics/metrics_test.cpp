// /metrics: the text format (HELP/TYPE lines, label escaping), the delivery counters and
// histogram, and the once-a-second cache of the queue's statistics.

#include "metrics/metrics.h"

#include <gtest/gtest.h>

#include "fakes/fake_clock.h"

namespace sc::metrics {
namespace {

using store::RecipientState;
using store::UserKind;

TEST(PrometheusTextTest, FamiliesAndEscapedLabels) {
    PrometheusText t;
    t.family("x_total", "a help\\text\nwith newline", "counter");
    t.sample("x_total", {{"a", "q\"uo\\te\nnl"}, {"b", "plain"}}, 3);
    t.sample("x_total", {}, 0.5);
    EXPECT_EQ(t.text(),
              "# HELP x_total a help\\\\text\\nwith newline\n"
              "# TYPE x_total counter\n"
              "x_total{a=\"q\\\"uo\\\\te\\nnl\",b=\"plain\"} 3\n"
              "x_total 0.5\n");
}

TEST(DeliveryCountersTest, OutcomesByChannelAndStateAndALatencyHistogram) {
    DeliveryCounters c;
    c.record(UserKind::Email, RecipientState::Deferred, 0, 1000);
    c.record(UserKind::Email, RecipientState::Delivered, 0, 3000);   // 3 s
    c.record(UserKind::Email, RecipientState::Delivered, 0, 70000);  // 70 s
    c.record(UserKind::Sms, RecipientState::Sandbox, 0, 10);
    PrometheusText t;
    c.write(t);
    const std::string& s = t.text();
    EXPECT_NE(s.find("# TYPE sendcloud_delivery_outcomes_total counter\n"), std::string::npos);
    EXPECT_NE(
        s.find("sendcloud_delivery_outcomes_total{channel=\"email\",state=\"delivered\"} 2\n"),
        std::string::npos)
        << s;
    EXPECT_NE(s.find("sendcloud_delivery_outcomes_total{channel=\"sms\",state=\"sandbox\"} 1\n"),
              std::string::npos);
    EXPECT_NE(s.find("# TYPE sendcloud_delivery_latency_seconds histogram\n"), std::string::npos);
    // Buckets are cumulative: le=1 none, le=5 one, le=60 one, le=300 both.
    EXPECT_NE(s.find("_bucket{channel=\"email\",le=\"1\"} 0\n"), std::string::npos) << s;
    EXPECT_NE(s.find("_bucket{channel=\"email\",le=\"5\"} 1\n"), std::string::npos);
    EXPECT_NE(s.find("_bucket{channel=\"email\",le=\"60\"} 1\n"), std::string::npos);
    EXPECT_NE(s.find("_bucket{channel=\"email\",le=\"300\"} 2\n"), std::string::npos);
    EXPECT_NE(s.find("_bucket{channel=\"email\",le=\"+Inf\"} 2\n"), std::string::npos);
    EXPECT_NE(s.find("sendcloud_delivery_latency_seconds_sum{channel=\"email\"} 73\n"),
              std::string::npos);
    EXPECT_NE(s.find("sendcloud_delivery_latency_seconds_count{channel=\"email\"} 2\n"),
              std::string::npos);
    // Only delivered recipients have a latency.
    EXPECT_EQ(s.find("latency_seconds_count{channel=\"sms\"}"), std::string::npos);
}

TEST(DeliveryCountersTest, SmtpAttemptsByReplyClassAndTls) {
    DeliveryCounters c;
    c.recordSmtpAttempt(250, true);
    c.recordSmtpAttempt(250, true);
    c.recordSmtpAttempt(250, false);
    c.recordSmtpAttempt(451, false);
    c.recordSmtpAttempt(550, true);
    c.recordSmtpAttempt(0, false);  // connection refused: no reply
    PrometheusText t;
    c.write(t);
    const std::string& s = t.text();
    EXPECT_NE(s.find("# TYPE sendcloud_smtp_attempts_total counter\n"), std::string::npos);
    EXPECT_NE(s.find("sendcloud_smtp_attempts_total{reply_class=\"2xx\",tls=\"yes\"} 2\n"),
              std::string::npos)
        << s;
    EXPECT_NE(s.find("sendcloud_smtp_attempts_total{reply_class=\"2xx\",tls=\"no\"} 1\n"),
              std::string::npos);
    EXPECT_NE(s.find("sendcloud_smtp_attempts_total{reply_class=\"4xx\",tls=\"no\"} 1\n"),
              std::string::npos);
    EXPECT_NE(s.find("sendcloud_smtp_attempts_total{reply_class=\"5xx\",tls=\"yes\"} 1\n"),
              std::string::npos);
    EXPECT_NE(s.find("sendcloud_smtp_attempts_total{reply_class=\"none\",tls=\"no\"} 1\n"),
              std::string::npos);
}

TEST(StoreWriteMetricsTest, TheGaugeFollowsTheStoreAndTheCounterItsRefusals) {
    bool held = false;
    uint64_t refused = 0;
    auto provider = storeWriteMetrics({[&] { return held; }, [&] { return refused; }});
    auto scrape = [&] {
        PrometheusText t;
        provider(t);
        return t.text();
    };
    std::string s = scrape();
    EXPECT_NE(s.find("# TYPE sendcloud_store_writes_held gauge\n"), std::string::npos) << s;
    EXPECT_NE(s.find("\nsendcloud_store_writes_held 0\n"), std::string::npos) << s;
    EXPECT_NE(s.find("# TYPE sendcloud_store_writes_refused_total counter\n"), std::string::npos);
    EXPECT_NE(s.find("\nsendcloud_store_writes_refused_total 0\n"), std::string::npos) << s;
    held = true;
    refused = 12;
    s = scrape();
    EXPECT_NE(s.find("\nsendcloud_store_writes_held 1\n"), std::string::npos) << s;
    EXPECT_NE(s.find("\nsendcloud_store_writes_refused_total 12\n"), std::string::npos) << s;
}

TEST(SmsRouteMetricsTest, GaugesCountersAndACumulativeSubmitHistogramPerRoute) {
    queue::SmsRouteCounters smpp, kannel;
    smpp.bound = true;
    smpp.bindsUp = 3;
    smpp.bindsDown = 2;
    smpp.windowInUse = 7;
    smpp.throttlePauses = 4;
    using std::chrono::microseconds;
    smpp.observeSubmitLatency(microseconds(800));         // <= 1 ms
    smpp.observeSubmitLatency(microseconds(1000));        // exactly on the 1 ms bound
    smpp.observeSubmitLatency(microseconds(40'000));      // <= 50 ms
    smpp.observeSubmitLatency(microseconds(60'000'000));  // past the largest bound
    kannel.observeSubmitLatency(microseconds(200'000));
    PrometheusText t;
    smsRouteMetrics({{"carrier-a", true, &smpp}, {"kannel", false, &kannel}})(t);
    const std::string& s = t.text();
    auto has = [&](const std::string& line) {
        EXPECT_NE(s.find(line + "\n"), std::string::npos) << line << "\nin:\n" << s;
    };
    has("# TYPE sendcloud_sms_route_bound gauge");
    has("sendcloud_sms_route_bound{route=\"carrier-a\"} 1");
    has("sendcloud_sms_binds_total{route=\"carrier-a\",result=\"up\"} 3");
    has("sendcloud_sms_binds_total{route=\"carrier-a\",result=\"down\"} 2");
    has("sendcloud_sms_window_in_use{route=\"carrier-a\"} 7");
    has("sendcloud_sms_throttle_pauses_total{route=\"carrier-a\"} 4");
    has("# TYPE sendcloud_sms_submit_seconds histogram");
    has("sendcloud_sms_submit_seconds_bucket{route=\"carrier-a\",le=\"0.001\"} 2");
    has("sendcloud_sms_submit_seconds_bucket{route=\"carrier-a\",le=\"0.025\"} 2");
    has("sendcloud_sms_submit_seconds_bucket{route=\"carrier-a\",le=\"0.05\"} 3");
    has("sendcloud_sms_submit_seconds_bucket{route=\"carrier-a\",le=\"10\"} 3");
    has("sendcloud_sms_submit_seconds_bucket{route=\"carrier-a\",le=\"+Inf\"} 4");
    has("sendcloud_sms_submit_seconds_count{route=\"carrier-a\"} 4");
    has("sendcloud_sms_submit_seconds_sum{route=\"carrier-a\"} 60.0418");
    has("sendcloud_sms_submit_seconds_count{route=\"kannel\"} 1");
    has("sendcloud_sms_window_in_use{route=\"kannel\"} 0");
    // A route without a bind (kannel, http) has no bound gauge or binds counter.
    EXPECT_EQ(s.find("sendcloud_sms_route_bound{route=\"kannel\"}"), std::string::npos);
    EXPECT_EQ(s.find("sendcloud_sms_binds_total{route=\"kannel\""), std::string::npos);
    // Each family is announced once.
    EXPECT_EQ(s.find("# TYPE sendcloud_sms_submit_seconds"),
              s.rfind("# TYPE sendcloud_sms_submit_seconds"));
}

TEST(MetricsEndpointTest, ReadsTheStoreAtMostOnceASecondAndRunsProviders) {
    sc::testing::FakeClock clock;
    int reads = 0;
    DeliveryCounters counters;
    MetricsEndpoint m(
        clock,
        [&](int64_t now) -> Result<store::QueueStats, store::StoreError> {
            ++reads;
            store::QueueStats s;
            s.recipientsByState["queued"] = reads;
            s.due = 4;
            s.oldestDueAtMs = now - 90000;
            return s;
        },
        counters);
    m.addProvider([](PrometheusText& t) {
        t.family("sendcloud_smtp_connections", "open", "gauge");
        t.sample("sendcloud_smtp_connections", {{"destination", "gmail"}}, 2);
    });
    std::string first = m.render();
    EXPECT_NE(first.find("sendcloud_recipients{state=\"queued\"} 1\n"), std::string::npos) << first;
    EXPECT_NE(first.find("sendcloud_queue_due 4\n"), std::string::npos);
    EXPECT_NE(first.find("sendcloud_queue_oldest_waiting_seconds 90\n"), std::string::npos);
    EXPECT_NE(first.find("sendcloud_smtp_connections{destination=\"gmail\"} 2\n"),
              std::string::npos);
    clock.advance(std::chrono::milliseconds(999));
    m.render();
    EXPECT_EQ(reads, 1);
    clock.advance(std::chrono::milliseconds(1));
    EXPECT_NE(m.render().find("sendcloud_recipients{state=\"queued\"} 2\n"), std::string::npos);
    EXPECT_EQ(reads, 2);
}

}  // namespace
}  // namespace sc::metrics
