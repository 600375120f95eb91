// The SMS agent over SMPP against a real peer on loopback: tests/sms/fake_smsc.py, a small SMSC
// that can throttle, stay silent, drop sessions, and send receipts and MO messages.
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "delivery/sms/sms_agent.h"
#include "peer_process.h"

namespace sc::delivery::sms {
namespace {

using namespace std::chrono_literals;
using Kind = queue::DeliveryOutcome::Kind;
using nlohmann::json;

class Recorder final : public queue::ReceiptSink {
public:
    void receipt(queue::SmsReceipt r) override {
        std::lock_guard lock(mutex_);
        receipts.push_back(std::move(r));
        changed_.notify_all();
    }
    void inbound(queue::InboundSms s) override {
        std::lock_guard lock(mutex_);
        inbounds.push_back(std::move(s));
        changed_.notify_all();
    }
    void outcome(queue::DeliveryOutcome o) {
        std::lock_guard lock(mutex_);
        outcomes.push_back(std::move(o));
        changed_.notify_all();
    }
    template <typename Pred>
    bool waitFor(Pred pred, std::chrono::milliseconds timeout = 10s) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, timeout, [&] { return pred(); });
    }

    std::vector<queue::SmsReceipt> receipts;
    std::vector<queue::InboundSms> inbounds;
    std::vector<queue::DeliveryOutcome> outcomes;

private:
    std::mutex mutex_;
    std::condition_variable changed_;
};

class SmppAgentTest : public ::testing::Test {
protected:
    void startSmsc(std::vector<std::string> options = {}) {
        std::vector<std::string> argv = {"/usr/bin/python3", SC_FAKE_SMSC};
        argv.insert(argv.end(), options.begin(), options.end());
        smsc_ = std::make_unique<testing::PeerProcess>(argv);
        auto first = nextEvent("listening");
        port_ = first["port"].get<int>();
    }

    // The next event of that name from the SMSC (earlier ones of other names are skipped).
    json nextEvent(const std::string& name, std::chrono::milliseconds timeout = 10s) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            auto line = smsc_->readLine(std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now()));
            if (!line) break;
            json e = json::parse(*line);
            if (e["event"] == name) return e;
        }
        ADD_FAILURE() << "no '" << name << "' event from the SMSC";
        return json::object();
    }

    void startAgent(int window = 10, double rate = 0,
                    std::function<void(SmsRouteConfig&, SmsAgentOptions&)> adjust = {}) {
        SmsRouteConfig r;
        r.name = "carrier-a";
        r.connector = SmsRouteConfig::Connector::Smpp;
        r.host = "127.0.0.1";
        r.port = port_;
        r.systemId = "acme";
        r.window = window;
        r.rate = rate;
        r.sourceAddr = "Acme";
        r.isDefault = true;
        SmsAgentOptions options;
        options.smppTimings.reconnectFirst = 200ms;
        options.smppTimings.throttlePause = 100ms;
        options.smppTimings.responseTimeout = 2s;
        if (adjust) adjust(r, options);
        auto agent = SmsAgent::create(io_, clock_, {r}, recorder_, options);
        ASSERT_TRUE(agent) << agent.error();
        agent_ = std::move(*agent);
        thread_ = std::thread([this] { io_.run(); });
        nextEvent("bind");
    }

    void TearDown() override {
        if (agent_) agent_->stop();
        work_.reset();
        // The agent unbinds, then its coroutines end and run() returns.
        if (thread_.joinable()) {
            std::this_thread::yield();
            io_.stop();
            thread_.join();
        }
        agent_.reset();
    }

    queue::DeliveryJob job(const std::string& id, const std::string& to, const std::string& text) {
        auto m = std::make_shared<queue::MessageContent>();
        m->messageId = "m" + id;
        m->channel = store::UserKind::Sms;
        m->contentJson = json{{"encoding", "gsm7"}, {"message", text}, {"segments", 1}}.dump();
        queue::DeliveryJob j;
        j.recipientId = id;
        j.address = to;
        j.role = "to";
        j.message = m;
        return j;
    }

    void send(std::vector<queue::DeliveryJob> jobs) {
        agent_->deliver(std::move(jobs),
                        [this](queue::DeliveryOutcome o) { recorder_.outcome(std::move(o)); });
    }

    size_t outcomes() { return recorder_.outcomes.size(); }

    SystemClock clock_;
    boost::asio::io_context io_;
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_{
        io_.get_executor()};
    Recorder recorder_;
    std::unique_ptr<testing::PeerProcess> smsc_;
    int port_ = 0;
    std::unique_ptr<SmsAgent> agent_;
    std::thread thread_;
};

TEST_F(SmppAgentTest, SubmitsTextAndNumberAndReportsTheSmscIdAfterTheResponse) {
    startSmsc();
    startAgent();
    send({job("r1", "+14155550100", "Hello {world} €")});
    auto submit = nextEvent("submit");
    EXPECT_EQ(submit["dest"], "14155550100");
    EXPECT_EQ(submit["dest_ton"], 1);
    EXPECT_EQ(submit["dest_npi"], 1);
    EXPECT_EQ(submit["source"], "Acme");
    EXPECT_EQ(submit["coding"], 0);
    EXPECT_EQ(submit["registered"], 1);
    EXPECT_EQ(submit["sm"], "48656c6c6f201b28776f726c641b29201b65");
    ASSERT_TRUE(recorder_.waitFor([&] { return outcomes() == 1; }));
    const auto& o = recorder_.outcomes[0];
    EXPECT_EQ(o.kind, Kind::Submitted);
    EXPECT_EQ(o.recipientId, "r1");
    EXPECT_EQ(o.route, "carrier-a");  // the receipts' SmsReceipt::route, matched against it
    EXPECT_EQ(o.smscMessageIds, std::vector<std::string>{submit["id"].get<std::string>()});
    EXPECT_EQ(o.remoteIp, "127.0.0.1");
    EXPECT_EQ(agent_->counters("carrier-a")->bindsUp.load(), 1);
    EXPECT_TRUE(agent_->counters("carrier-a")->bound.load());
    EXPECT_EQ(agent_->counters("carrier-a")->windowInUse.load(), 0);
}

TEST_F(SmppAgentTest, SubmitLatencyIsObservedFromSubmitToResponse) {
    startSmsc({"--delay-ms", "300"});
    startAgent();
    send({job("r1", "+14155550100", "one"), job("r2", "+14155550101", "two")});
    ASSERT_TRUE(recorder_.waitFor([&] { return outcomes() == 2; }));
    const auto* c = agent_->counters("carrier-a");
    const auto& bounds = queue::SmsRouteCounters::kSubmitBuckets;
    uint64_t below = 0, total = 0;
    for (size_t i = 0; i < c->submitLatencyBuckets.size(); ++i) {
        const uint64_t n = c->submitLatencyBuckets[i].load();
        total += n;
        if (i < bounds.size() && bounds[i] < 0.3) below += n;
    }
    EXPECT_EQ(total, 2u);  // one observation per submit_sm_resp
    EXPECT_EQ(below, 0u);  // both waited the SMSC's 300 ms
    EXPECT_GE(c->submitLatencyMicrosTotal.load(), 2 * 300'000);
    EXPECT_LT(c->submitLatencyMicrosTotal.load(), 2 * 10'000'000);
}

TEST_F(SmppAgentTest, LongUcs2TextGoesAsConcatenatedPartsEachAskingForAReceipt) {
    startSmsc({"--ids", "dec"});
    startAgent();
    std::string text;
    for (int i = 0; i < 80; ++i) text += "Ж";
    send({job("r1", "+447700900123", text)});
    auto p1 = nextEvent("submit");
    auto p2 = nextEvent("submit");
    for (const auto* p : {&p1, &p2}) {
        EXPECT_EQ((*p)["coding"], 8);
        EXPECT_EQ((*p)["esm"], 0x40);
        EXPECT_EQ((*p)["registered"], 1);
    }
    const std::string sm1 = p1["sm"], sm2 = p2["sm"];
    EXPECT_EQ(sm1.substr(0, 6), "050003");
    EXPECT_EQ(sm1.substr(8, 4), "0201");
    EXPECT_EQ(sm2.substr(8, 4), "0202");
    EXPECT_EQ(sm1.substr(6, 2), sm2.substr(6, 2));  // one reference
    EXPECT_EQ(sm1.size(), (6 + 67 * 2) * 2u);
    ASSERT_TRUE(recorder_.waitFor([&] { return outcomes() == 1; }));
    EXPECT_EQ(recorder_.outcomes[0].kind, Kind::Submitted);
    EXPECT_EQ(recorder_.outcomes[0].smscMessageIds, (std::vector<std::string>{p1["id"], p2["id"]}));
}

TEST_F(SmppAgentTest, RecipientsOfOneLongMessageShareItsTextEachWithItsOwnReference) {
    startSmsc();
    startAgent();
    std::string text;
    for (int i = 0; i < 200; ++i) text += static_cast<char>('a' + i % 26);
    auto first = job("r1", "+447700900123", text);
    auto second = first;  // the same stored message, as the scheduler hands out its recipients
    second.recipientId = "r2";
    second.address = "+447700900124";
    send({first, second});
    std::map<std::string, std::vector<std::string>> parts;  // number -> short_message, in order
    for (int i = 0; i < 4; ++i) {
        auto p = nextEvent("submit");
        parts[p["dest"]].push_back(p["sm"]);
    }
    ASSERT_EQ(parts.size(), 2u);
    const auto& a = parts["447700900123"];
    const auto& b = parts["447700900124"];
    ASSERT_EQ(a.size(), 2u);
    ASSERT_EQ(b.size(), 2u);
    EXPECT_EQ(a[0].substr(6, 2), a[1].substr(6, 2));  // one reference per recipient's parts
    EXPECT_EQ(b[0].substr(6, 2), b[1].substr(6, 2));
    EXPECT_NE(a[0].substr(6, 2), b[0].substr(6, 2));  // and its own
    EXPECT_EQ(a[0].substr(8), b[0].substr(8));        // the same text
    EXPECT_EQ(a[1].substr(8), b[1].substr(8));
    ASSERT_TRUE(recorder_.waitFor([&] { return outcomes() == 2; }));
}

TEST_F(SmppAgentTest, ResponsesSplitAcrossReadsArePutTogether) {
    startSmsc({"--split-responses"});
    startAgent();
    send({job("r1", "+14155550100", "one"), job("r2", "+14155550101", "two")});
    std::map<std::string, std::string> ids;  // number -> the SMSC's id
    for (int i = 0; i < 2; ++i) {
        auto p = nextEvent("submit");
        ids[p["dest"]] = p["id"];
    }
    ASSERT_TRUE(recorder_.waitFor([&] { return outcomes() == 2; }));
    for (const auto& o : recorder_.outcomes) {
        EXPECT_EQ(o.kind, Kind::Submitted);
        const std::string number = o.recipientId == "r1" ? "14155550100" : "14155550101";
        EXPECT_EQ(o.smscMessageIds, std::vector<std::string>{ids[number]});
    }
}

TEST_F(SmppAgentTest, ManyResponsesInOneReadEachReachTheirMessage) {
    startSmsc({"--coalesce", "5"});
    startAgent(/*window=*/10);
    std::vector<queue::DeliveryJob> jobs;
    for (int i = 0; i < 5; ++i) {
        jobs.push_back(job("r" + std::to_string(i), "+1415555010" + std::to_string(i), "hi"));
    }
    send(std::move(jobs));
    std::map<std::string, std::string> ids;
    for (int i = 0; i < 5; ++i) {
        auto p = nextEvent("submit");
        ids[p["dest"]] = p["id"];
    }
    ASSERT_TRUE(recorder_.waitFor([&] { return outcomes() == 5; }));
    std::set<std::string> seen;
    for (const auto& o : recorder_.outcomes) {
        EXPECT_EQ(o.kind, Kind::Submitted);
        const std::string number = "1415555010" + o.recipientId.substr(1);
        ASSERT_EQ(o.smscMessageIds.size(), 1u);
        EXPECT_EQ(o.smscMessageIds[0], ids[number]);
        seen.insert(o.smscMessageIds[0]);
    }
    EXPECT_EQ(seen.size(), 5u);
}

TEST_F(SmppAgentTest, ThrottlingPausesTheRouteAndRetriesNeverFails) {
    startSmsc({"--throttle", "3"});
    startAgent(/*window=*/1);
    send({job("r1", "+14155550100", "one"), job("r2", "+14155550101", "two")});
    ASSERT_TRUE(recorder_.waitFor([&] { return outcomes() == 2; }));
    for (const auto& o : recorder_.outcomes) EXPECT_EQ(o.kind, Kind::Submitted) << o.replyText;
    EXPECT_EQ(agent_->counters("carrier-a")->throttlePauses.load(), 3);
}

TEST_F(SmppAgentTest, LongThrottlingGoesBackToTheQueueDeferred) {
    startSmsc({"--throttle", "100"});
    startAgent(1);
    send({job("r1", "+14155550100", "one")});
    ASSERT_TRUE(recorder_.waitFor([&] { return outcomes() == 1; }));
    const auto& o = recorder_.outcomes[0];
    EXPECT_EQ(o.kind, Kind::Deferred);
    EXPECT_EQ(o.replyCode, 0x58);
    ASSERT_TRUE(o.retryAfter.has_value());
}

TEST_F(SmppAgentTest, PermanentErrorFails) {
    startSmsc({"--status", "0x0B"});  // ESME_RINVDSTADR
    startAgent();
    send({job("r1", "+14155550100", "one")});
    ASSERT_TRUE(recorder_.waitFor([&] { return outcomes() == 1; }));
    EXPECT_EQ(recorder_.outcomes[0].kind, Kind::Failed);
    EXPECT_EQ(recorder_.outcomes[0].replyCode, 0x0B);
}

TEST_F(SmppAgentTest, WindowLimitsOutstandingSubmits) {
    startSmsc({"--answer", "0"});  // never answers
    startAgent(/*window=*/3);
    std::vector<queue::DeliveryJob> jobs;
    for (int i = 0; i < 6; ++i) jobs.push_back(job("r" + std::to_string(i), "+14155550100", "x"));
    send(std::move(jobs));
    for (int i = 0; i < 3; ++i) nextEvent("submit");
    EXPECT_EQ(smsc_->readLine(500ms), std::nullopt);  // a fourth would have come by now
    EXPECT_EQ(agent_->counters("carrier-a")->windowInUse.load(), 3);
}

TEST_F(SmppAgentTest, DroppedSessionRebindsAndLosesNothing) {
    startSmsc({"--answer", "2"});
    startAgent(/*window=*/5);
    std::vector<queue::DeliveryJob> jobs;
    for (int i = 0; i < 8; ++i) jobs.push_back(job("r" + std::to_string(i), "+14155550100", "x"));
    send(std::move(jobs));
    for (int i = 0; i < 5; ++i) nextEvent("submit");
    smsc_->writeLine(R"({"cmd":"drop"})");
    nextEvent("bind");  // rebound
    // Every job gets exactly one outcome: submitted, or deferred back to the queue, never failed.
    ASSERT_TRUE(recorder_.waitFor([&] { return outcomes() == 8; }));
    std::set<std::string> ids;
    int submitted = 0;
    for (const auto& o : recorder_.outcomes) {
        EXPECT_TRUE(o.kind == Kind::Submitted || o.kind == Kind::Deferred) << o.replyText;
        submitted += o.kind == Kind::Submitted;
        ids.insert(o.recipientId);
    }
    EXPECT_EQ(ids.size(), 8u);
    EXPECT_GE(submitted, 2);
    // Rebound at least once (the silent SMSC can cost a further rebind by now).
    EXPECT_GE(agent_->counters("carrier-a")->bindsUp.load(), 2);
    EXPECT_GE(agent_->counters("carrier-a")->bindsDown.load(), 1);
}

// The agent's own first delay is an hour here: a second bind attempt within the test's time
// comes only from the route's settings.
TEST_F(SmppAgentTest, RouteReconnectDelayOverridesTheDefault) {
    startSmsc({"--password", "right"});  // the route sends none: every bind is refused
    startAgent(10, 0, [](SmsRouteConfig& r, SmsAgentOptions& o) {
        o.smppTimings.reconnectFirst = 1h;
        r.reconnectDelay = 100ms;
    });
    EXPECT_EQ(nextEvent("bind")["ok"], false);  // the first retry, 100 ms later
    EXPECT_EQ(agent_->counters("carrier-a")->bindsUp.load(), 0);
    EXPECT_FALSE(agent_->counters("carrier-a")->bound.load());
}

TEST_F(SmppAgentTest, RouteReconnectCeilingBelowTheFirstDelayLowersIt) {
    startSmsc({"--password", "right"});
    startAgent(10, 0, [](SmsRouteConfig& r, SmsAgentOptions& o) {
        o.smppTimings.reconnectFirst = 1h;
        r.reconnectMax = 100ms;
    });
    nextEvent("bind");
    nextEvent("bind");
}

TEST_F(SmppAgentTest, ReceiptsAndMobileOriginatedMessagesReachTheSink) {
    startSmsc();
    startAgent();
    smsc_->writeLine(R"({"cmd":"receipt","id":"00A1F","stat":"DELIVRD","tlv":false})");
    smsc_->writeLine(R"({"cmd":"receipt","id":"999","tlv_id":"3E7","stat":"UNDELIV","tlv":true})");
    smsc_->writeLine(R"({"cmd":"mo","from":"447700900123","to":"14155550100","text":"STOP"})");
    ASSERT_TRUE(recorder_.waitFor(
        [&] { return recorder_.receipts.size() == 2 && recorder_.inbounds.size() == 1; }));
    EXPECT_EQ(recorder_.receipts[0].smscMessageId, "00A1F");
    EXPECT_EQ(recorder_.receipts[0].stat, "DELIVRD");
    EXPECT_EQ(recorder_.receipts[0].errorCode, "000");
    EXPECT_EQ(recorder_.receipts[0].route, "carrier-a");
    // The TLVs win over the text when both are there.
    EXPECT_EQ(recorder_.receipts[1].smscMessageId, "3E7");
    EXPECT_EQ(recorder_.receipts[1].stat, "UNDELIV");
    EXPECT_EQ(recorder_.inbounds[0].from, "+447700900123");
    EXPECT_EQ(recorder_.inbounds[0].to, "+14155550100");
    EXPECT_EQ(recorder_.inbounds[0].text, "STOP");
    for (int i = 0; i < 3; ++i) EXPECT_EQ(nextEvent("deliver_sm_resp")["status"], 0);
}

TEST_F(SmppAgentTest, RateLimitSpacesParts) {
    startSmsc();
    startAgent(10, /*rate=*/20);
    std::vector<queue::DeliveryJob> jobs;
    for (int i = 0; i < 30; ++i) jobs.push_back(job("r" + std::to_string(i), "+14155550100", "x"));
    const auto start = std::chrono::steady_clock::now();
    send(std::move(jobs));
    ASSERT_TRUE(recorder_.waitFor([&] { return outcomes() == 30; }));
    // A burst of 20, then 10 more at 20/s: at least half a second.
    EXPECT_GE(std::chrono::steady_clock::now() - start, 450ms);
}

TEST_F(SmppAgentTest, StopUnbinds) {
    startSmsc();
    startAgent();
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!agent_->counters("carrier-a")->bound.load() &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(10ms);  // polling a flag with a deadline, not a stand-in
    }
    ASSERT_TRUE(agent_->counters("carrier-a")->bound.load());
    agent_->stop();
    nextEvent("unbind");
    nextEvent("closed");
}

TEST_F(SmppAgentTest, UnreachableSmscDefersWithTheReconnectDelay) {
    startSmsc();
    const int port = port_;
    smsc_->kill();
    port_ = port;
    SmsRouteConfig r;
    r.name = "down";
    r.host = "127.0.0.1";
    r.port = port_;
    r.systemId = "acme";
    r.isDefault = true;
    SmsAgentOptions options;
    options.smppTimings.reconnectFirst = 300ms;
    auto agent = SmsAgent::create(io_, clock_, {r}, recorder_, options);
    ASSERT_TRUE(agent);
    agent_ = std::move(*agent);
    thread_ = std::thread([this] { io_.run(); });
    send({job("r1", "+14155550100", "x")});
    ASSERT_TRUE(recorder_.waitFor([&] { return outcomes() == 1; }));
    EXPECT_EQ(recorder_.outcomes[0].kind, Kind::Deferred);
    EXPECT_EQ(recorder_.outcomes[0].remoteIp, "");
}

TEST(SmsAgentRoutes, UserRouteThenPrefixThenDefault) {
    boost::asio::io_context io;
    SystemClock clock;
    Recorder sink;
    auto route = [](std::string name, std::vector<std::string> prefixes, bool isDefault) {
        SmsRouteConfig r;
        r.name = std::move(name);
        r.connector = SmsRouteConfig::Connector::Sandbox;
        r.prefixes = std::move(prefixes);
        r.isDefault = isDefault;
        return r;
    };
    SmsAgentOptions options;
    options.userRoute = [](const queue::MessageContent& m) {
        return m.apiUserName == "vip_user" ? std::string("vip") : std::string();
    };
    auto agent = SmsAgent::create(
        io, clock, {route("uk", {"+44"}, false), route("vip", {}, false), route("rest", {}, true)},
        sink, options);
    ASSERT_TRUE(agent);
    auto j = [](std::string to, std::string user) {
        auto m = std::make_shared<queue::MessageContent>();
        m->apiUserName = std::move(user);
        queue::DeliveryJob job;
        job.address = std::move(to);
        job.message = m;
        return job;
    };
    EXPECT_EQ((*agent)->routeFor(j("+447700900123", "someone"))->name, "uk");
    EXPECT_EQ((*agent)->routeFor(j("+14155550100", "someone"))->name, "rest");
    EXPECT_EQ((*agent)->routeFor(j("+447700900123", "vip_user"))->name, "vip");
}

}  // namespace
}  // namespace sc::delivery::sms
