// SmtpAgent against real peers: dnsmasq serving MX/A records on loopback and aiosmtpd servers
// (tests/support/smtp_peer.py) on 127.0.0.2 and 127.0.0.3, all started by the tests.

#include "delivery/smtp/smtp_agent.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <thread>

#include "delivery/smtp/mx_resolver.h"
#include "delivery/smtp/traffic_shaping.h"
#include "fakes/fake_clock.h"
#include "unit/delivery/dns_server.h"
#include "unit/delivery/smtp_peer.h"

namespace sc::delivery::smtp {
namespace {

using Kind = queue::DeliveryOutcome::Kind;
using sc::testing::DnsServer;
using sc::testing::FakeClock;
using sc::testing::SmtpPeer;
using sc::testing::TempDir;

// A resolver that answers once dnsmasq is up (it starts asynchronously).
std::shared_ptr<MxResolver> resolverFor(const DnsServer& dns) {
    auto r = std::make_shared<MxResolver>(std::vector<std::string>{dns.address()},
                                          std::chrono::milliseconds(400));
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (r->resolve("ready.test").status == MxRoute::Status::TryAgain &&
           std::chrono::steady_clock::now() < until) {
    }
    return r;
}

const std::vector<std::string> kReadyRecord = {"--host-record=ready.test,127.0.0.9"};

std::vector<std::string> withReady(std::vector<std::string> records) {
    records.insert(records.end(), kReadyRecord.begin(), kReadyRecord.end());
    return records;
}

// The agent on its own io_context thread, and the outcomes it reports.
class AgentHarness {
public:
    AgentHarness(std::shared_ptr<MxResolver> resolver, SmtpAgentConfig config)
        : work_(io_.get_executor()) {
        config.connectTimeout = std::chrono::milliseconds(2000);
        config.commandTimeout = std::chrono::milliseconds(5000);
        config.dataTimeout = std::chrono::milliseconds(5000);
        auto agent = SmtpAgent::create(
            io_, clock, std::move(resolver),
            [](const queue::DeliveryJob& job) -> Result<OutgoingMessage, std::string> {
                OutgoingMessage m;
                m.envelopeFrom = "sender@acme.test";
                m.bytes = "From: sender@acme.test\r\nTo: " + job.address +
                          "\r\nSubject: " + job.recipientId + "\r\n\r\nhello\r\n";
                return m;
            },
            std::move(config));
        if (!agent) throw std::runtime_error(agent.error());
        agent_ = std::move(agent).value();
        thread_ = std::thread([this] { io_.run(); });
    }
    ~AgentHarness() {
        agent_->stop();
        work_.reset();
        thread_.join();
        agent_.reset();
    }

    // Delivers `addresses` as one batch and waits for every outcome.
    std::vector<queue::DeliveryOutcome> deliver(const std::vector<std::string>& addresses,
                                                bool testMode = false) {
        return deliverBatches({addresses}, testMode);
    }

    // Hands the agent every batch at once (as the scheduler does for several destinations)
    // and waits for every outcome.
    std::vector<queue::DeliveryOutcome> deliverBatches(
        const std::vector<std::vector<std::string>>& batches, bool testMode = false) {
        auto message = std::make_shared<queue::MessageContent>();
        message->testMode = testMode;
        std::mutex m;
        std::condition_variable cv;
        std::vector<queue::DeliveryOutcome> out;
        std::size_t expected = 0;
        for (const auto& addresses : batches) {
            std::vector<queue::DeliveryJob> jobs;
            for (const auto& a : addresses) {
                queue::DeliveryJob j;
                j.recipientId = "r" + std::to_string(++ids_);
                j.address = a;
                j.destination = a.substr(a.find('@') + 1);
                j.message = message;
                jobs.push_back(std::move(j));
            }
            expected += jobs.size();
            agent_->deliver(jobs, [&](queue::DeliveryOutcome o) {
                std::lock_guard lock(m);
                out.push_back(std::move(o));
                cv.notify_all();
            });
        }
        std::unique_lock lock(m);
        cv.wait_for(lock, std::chrono::seconds(30), [&] { return out.size() == expected; });
        return out;
    }

    SmtpAgent& agent() { return *agent_; }
    FakeClock clock;

private:
    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    std::unique_ptr<SmtpAgent> agent_;
    std::thread thread_;
    int ids_ = 0;
};

// Two SMTP peers on the same port, 127.0.0.2 and 127.0.0.3, as two MX hosts would be.
struct TwoPeers {
    explicit TwoPeers(std::vector<std::string> args = {})
        : first(args, "127.0.0.2"), second(withPort(args, first.port()), "127.0.0.3") {}
    static std::vector<std::string> withPort(std::vector<std::string> a, int port) {
        a.push_back("--port");
        a.push_back(std::to_string(port));
        return a;
    }
    SmtpPeer first, second;
};

SmtpAgentConfig configFor(int port) {
    SmtpAgentConfig c;
    c.mxPort = port;
    c.tlsPolicy = "none";
    c.ehloName = "sender.acme.test";
    return c;
}

TEST(MxResolver, OrdersByPreferenceAndShufflesEquals) {
    std::vector<MxHost> hosts = {{"c", 20, {}}, {"a", 10, {}}, {"b", 10, {}}, {"d", 30, {}}};
    orderByPreference(hosts, [](uint32_t n) { return n - 1; });  // swap with the last each time
    ASSERT_EQ(hosts.size(), 4u);
    EXPECT_EQ(hosts[0].preference, 10);
    EXPECT_EQ(hosts[1].preference, 10);
    EXPECT_EQ(hosts[2].name, "c");
    EXPECT_EQ(hosts[3].name, "d");
    std::vector<MxHost> again = {{"a", 10, {}}, {"b", 10, {}}};
    orderByPreference(again, [](uint32_t) { return 0; });
    EXPECT_EQ(again[0].name, "b");  // Fisher-Yates with pick 0 moves the first to the end
}

TEST(MxResolver, AnswersFromDnsmasq) {
    DnsServer dns(withReady(
        {"--mx-host=order.test,mx2.order.test,20", "--mx-host=order.test,mx1.order.test,10",
         "--host-record=mx1.order.test,127.0.0.2", "--host-record=mx2.order.test,127.0.0.3",
         "--mx-host=null.test,.,0", "--host-record=plain.test,127.0.0.5"}));
    auto r = resolverFor(dns);
    auto order = r->resolve("order.test");
    ASSERT_EQ(order.status, MxRoute::Status::Ok) << order.detail;
    ASSERT_EQ(order.hosts.size(), 2u);
    EXPECT_EQ(order.hosts[0].name, "mx1.order.test");
    EXPECT_EQ(order.hosts[0].addresses, std::vector<std::string>{"127.0.0.2"});
    EXPECT_EQ(order.hosts[1].name, "mx2.order.test");

    auto nullMx = r->resolve("null.test");
    EXPECT_EQ(nullMx.status, MxRoute::Status::Bounce);
    EXPECT_NE(nullMx.detail.find("null MX"), std::string::npos) << nullMx.detail;

    auto nx = r->resolve("nowhere.test");
    EXPECT_EQ(nx.status, MxRoute::Status::Bounce);
    EXPECT_NE(nx.detail.find("NXDOMAIN"), std::string::npos) << nx.detail;

    auto implicit = r->resolve("plain.test");
    ASSERT_EQ(implicit.status, MxRoute::Status::Ok) << implicit.detail;
    EXPECT_EQ(implicit.hosts[0].name, "plain.test");
    EXPECT_EQ(implicit.hosts[0].addresses, std::vector<std::string>{"127.0.0.5"});

    // No server answers: temporary, never a bounce.
    MxResolver silent({"127.0.0.1:" + std::to_string(sc::testing::freeUdpPort())},
                      std::chrono::milliseconds(200));
    EXPECT_EQ(silent.resolve("order.test").status, MxRoute::Status::TryAgain);
}

TEST(SmtpAgent, DeliversToTheMostPreferredMx) {
    TwoPeers peers;
    DnsServer dns(withReady(
        {"--mx-host=order.test,mx2.order.test,20", "--mx-host=order.test,mx1.order.test,10",
         "--host-record=mx1.order.test,127.0.0.2", "--host-record=mx2.order.test,127.0.0.3"}));
    AgentHarness h(resolverFor(dns), configFor(peers.first.port()));
    auto out = h.deliver({"alice@order.test"});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].kind, Kind::Delivered) << out[0].replyText;
    EXPECT_EQ(out[0].remoteHost, "mx1.order.test");
    EXPECT_EQ(out[0].remoteIp, "127.0.0.2");
    EXPECT_EQ(out[0].replyCode, 250);
    EXPECT_EQ(peers.first.waitFor(1).size(), 1u);
    EXPECT_TRUE(peers.second.captured().empty());
}

TEST(SmtpAgent, DeadFirstMxFallsBackToTheSecond) {
    TwoPeers peers;
    DnsServer dns(
        withReady({"--mx-host=dead.test,mx1.dead.test,10", "--mx-host=dead.test,mx2.dead.test,20",
                   "--host-record=mx1.dead.test,127.0.0.4",  // nothing listens there
                   "--host-record=mx2.dead.test,127.0.0.3"}));
    AgentHarness h(resolverFor(dns), configFor(peers.first.port()));
    auto out = h.deliver({"bob@dead.test"});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].kind, Kind::Delivered) << out[0].replyText;
    EXPECT_EQ(out[0].remoteHost, "mx2.dead.test");
    EXPECT_EQ(peers.second.waitFor(1).size(), 1u);
}

TEST(SmtpAgent, NullMxAndNxdomainBounceAtOnce) {
    DnsServer dns(withReady({"--mx-host=null.test,.,0"}));
    AgentHarness h(resolverFor(dns), configFor(25));
    auto nullMx = h.deliver({"x@null.test"});
    ASSERT_EQ(nullMx.size(), 1u);
    EXPECT_EQ(nullMx[0].kind, Kind::Bounced);
    EXPECT_NE(nullMx[0].replyText.find("null MX"), std::string::npos);
    auto nx = h.deliver({"y@nowhere.test"});
    ASSERT_EQ(nx.size(), 1u);
    EXPECT_EQ(nx[0].kind, Kind::Bounced);
}

TEST(SmtpAgent, TemporaryFailureThenDelivered) {
    SmtpPeer peer({"--data-reply", "451 4.3.0 try again later"});
    SmtpAgentConfig c = configFor(25);
    c.routes["retry.test"] = HostPort{"127.0.0.1", peer.port()};
    AgentHarness h(nullptr, c);
    auto first = h.deliver({"c@retry.test"});
    ASSERT_EQ(first.size(), 1u);
    EXPECT_EQ(first[0].kind, Kind::Deferred);
    EXPECT_EQ(first[0].replyCode, 451);
    EXPECT_EQ(first[0].enhancedCode, "4.3.0");
    EXPECT_FALSE(first[0].retryAfter.has_value());
    auto second = h.deliver({"c@retry.test"});
    ASSERT_EQ(second.size(), 1u);
    EXPECT_EQ(second[0].kind, Kind::Delivered) << second[0].replyText;
    EXPECT_EQ(peer.waitFor(1).size(), 1u);
}

TEST(SmtpAgent, PermanentRejectionBouncesWithTheReply) {
    SmtpPeer peer({"--rcpt-reply", "550 5.1.1 <d@reject.test>: Recipient address rejected"});
    SmtpAgentConfig c = configFor(25);
    c.routes["reject.test"] = HostPort{"127.0.0.1", peer.port()};
    AgentHarness h(nullptr, c);
    auto out = h.deliver({"d@reject.test"});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].kind, Kind::Bounced);
    EXPECT_EQ(out[0].replyCode, 550);
    EXPECT_EQ(out[0].replyText, "550 5.1.1 <d@reject.test>: Recipient address rejected");
}

TEST(SmtpAgent, GreetingWith421ThrottlesTheDestinationOnTheClock) {
    TempDir d;
    auto countFile = (d.path() / "connections").string();
    SmtpPeer peer({"--greeting", "421 4.7.0 slow down", "--count-file", countFile});
    SmtpAgentConfig c = configFor(25);
    c.routes["busy.test"] = HostPort{"127.0.0.1", peer.port()};
    c.throttleTime = std::chrono::minutes(10);
    AgentHarness h(nullptr, c);
    auto connections = [&] {
        std::ifstream in(countFile);
        int n = 0;
        in >> n;
        return n;
    };
    auto first = h.deliver({"e@busy.test", "f@busy.test"});
    ASSERT_EQ(first.size(), 2u);
    for (const auto& o : first) {
        EXPECT_EQ(o.kind, Kind::Deferred);
        ASSERT_TRUE(o.retryAfter.has_value());
        EXPECT_GT(o.retryAfter->count(), 0);
    }
    const int afterFirst = connections();
    EXPECT_GE(afterFirst, 1);
    // Throttled: no connection at all until the clock has moved past the throttle.
    auto second = h.deliver({"g@busy.test"});
    ASSERT_EQ(second.size(), 1u);
    EXPECT_EQ(second[0].kind, Kind::Deferred);
    EXPECT_EQ(connections(), afterFirst);
    h.clock.advance(std::chrono::minutes(11));
    auto third = h.deliver({"g@busy.test"});
    ASSERT_EQ(third.size(), 1u);
    EXPECT_EQ(third[0].replyCode, 421);
    EXPECT_EQ(connections(), afterFirst + 1);
}

TEST(SmtpAgent, ReusesOneConnectionUpToTheCap) {
    TempDir d;
    auto countFile = (d.path() / "connections").string();
    SmtpPeer peer({"--count-file", countFile});
    SmtpAgentConfig c = configFor(25);
    c.routes["pool.test"] = HostPort{"127.0.0.1", peer.port()};
    c.connectionsPerHost = 1;
    c.messagesPerConnection = 2;
    AgentHarness h(nullptr, c);
    auto out = h.deliver({"a@pool.test", "b@pool.test", "c@pool.test"});
    ASSERT_EQ(out.size(), 3u);
    for (const auto& o : out) EXPECT_EQ(o.kind, Kind::Delivered) << o.replyText;
    EXPECT_EQ(peer.waitFor(3).size(), 3u);
    std::ifstream in(countFile);
    int n = 0;
    in >> n;
    EXPECT_EQ(n, 2);  // two messages on the first connection, the third on a new one
}

TEST(SmtpAgent, RelayWithAuthentication) {
    TempDir d;
    std::ofstream(d.path() / "pw") << "relay-secret\n";
    SmtpPeer peer({"--auth", "relayuser:" + (d.path() / "pw").string()});
    SmtpAgentConfig c = configFor(25);
    c.relay = HostPort{"127.0.0.1", peer.port()};
    c.relayUser = "relayuser";
    c.relayPassword = "relay-secret";
    AgentHarness h(nullptr, c);
    auto out = h.deliver({"h@anywhere.example"});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].kind, Kind::Delivered) << out[0].replyText;
    auto got = peer.waitFor(1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_NE(got[0].find("h@anywhere.example"), std::string::npos);
}

TEST(SmtpAgent, TestModeNeverConnects) {
    SmtpAgentConfig c = configFor(25);
    c.relay = HostPort{"127.0.0.1", sc::testing::freeUdpPort()};
    AgentHarness h(nullptr, c);
    auto out = h.deliver({"i@anywhere.example"}, true);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].kind, Kind::Sandbox);
    EXPECT_EQ(out[0].remoteIp, "");
}

// The number of connections a peer started with --count-file has seen (0 before the first).
int connectionsIn(const std::string& countFile) {
    std::ifstream in(countFile);
    int n = 0;
    in >> n;
    return n;
}

ShapingRules rulesFrom(const std::string& text) {
    auto rules = parseShapingRules(text, "test rules");
    if (!rules) throw std::runtime_error(rules.error());
    return std::move(rules).value();
}

std::size_t countKind(const std::vector<queue::DeliveryOutcome>& out, Kind kind) {
    return static_cast<std::size_t>(
        std::count_if(out.begin(), out.end(), [&](const auto& o) { return o.kind == kind; }));
}

TEST(SmtpAgentShaping, DomainsWhoseMxShareASiteShareOneConnectionCap) {
    TempDir d;
    const auto countA = (d.path() / "a").string(), countB = (d.path() / "b").string();
    SmtpPeer peerA({"--count-file", countA}, "127.0.0.2");
    SmtpPeer peerB({"--count-file", countB, "--port", std::to_string(peerA.port())}, "127.0.0.3");
    DnsServer dns(withReady(
        {"--mx-host=a.test,mx.a.shared.test,10", "--host-record=mx.a.shared.test,127.0.0.2",
         "--mx-host=b.test,mx.b.shared.test,10", "--host-record=mx.b.shared.test,127.0.0.3"}));
    auto resolver = resolverFor(dns);
    SmtpAgentConfig c = configFor(peerA.port());
    c.shaping = rulesFrom(
        "[[site]]\nname = \"shared\"\nmx_suffixes = [\".shared.test\"]\nconnections = 1\n");
    AgentHarness h(resolver, c);

    auto first = h.deliver({"a1@a.test", "a2@a.test"});
    EXPECT_EQ(countKind(first, Kind::Delivered), 2u);
    EXPECT_EQ(h.agent().openConnections("mx.a.shared.test"), 1);  // idle, kept for reuse
    // b.test's MX is another host of the same site: a's idle connection is closed first.
    auto second = h.deliver({"b1@b.test"});
    EXPECT_EQ(countKind(second, Kind::Delivered), 1u);
    EXPECT_EQ(h.agent().openConnections("mx.a.shared.test"), 0);
    EXPECT_EQ(h.agent().openConnections("mx.b.shared.test"), 1);
    // The /metrics gauge's view: only hosts with connections open.
    EXPECT_EQ(h.agent().openConnectionsByHost(),
              (std::map<std::string, int>{{"mx.b.shared.test", 1}}));
    auto third = h.deliver({"a3@a.test"});
    EXPECT_EQ(countKind(third, Kind::Delivered), 1u);
    EXPECT_EQ(connectionsIn(countA), 2);
    EXPECT_EQ(connectionsIn(countB), 1);

    // Both domains at once under a cap of one: everything still goes, one connection at a time.
    auto both = h.deliverBatches(
        {{"a4@a.test", "a5@a.test", "a6@a.test"}, {"b2@b.test", "b3@b.test", "b4@b.test"}});
    ASSERT_EQ(both.size(), 6u);
    EXPECT_EQ(countKind(both, Kind::Delivered), 6u);
    EXPECT_LE(h.agent().openConnections("mx.a.shared.test") +
                  h.agent().openConnections("mx.b.shared.test"),
              1);
    EXPECT_EQ(peerA.waitFor(6).size() + peerB.waitFor(4).size(), 10u);

    // Without the site each host keeps its own idle connection: no reconnect for a.test.
    SmtpAgentConfig unshaped = configFor(peerA.port());
    AgentHarness h2(resolver, unshaped);
    const int beforeA = connectionsIn(countA);
    EXPECT_EQ(countKind(h2.deliver({"a7@a.test"}), Kind::Delivered), 1u);
    EXPECT_EQ(countKind(h2.deliver({"b5@b.test"}), Kind::Delivered), 1u);
    EXPECT_EQ(countKind(h2.deliver({"a8@a.test"}), Kind::Delivered), 1u);
    EXPECT_EQ(connectionsIn(countA), beforeA + 1);
}

TEST(SmtpAgentShaping, MessagesPerSiteConnectionCloseTheConnection) {
    TempDir d;
    const auto count = (d.path() / "n").string();
    SmtpPeer peer({"--count-file", count}, "127.0.0.2");
    DnsServer dns(
        withReady({"--mx-host=few.test,mx.few.test,10", "--host-record=mx.few.test,127.0.0.2"}));
    SmtpAgentConfig c = configFor(peer.port());
    c.connectionsPerHost = 1;
    c.shaping = rulesFrom(
        "[[site]]\nname = \"few\"\nmx_suffixes = [\"mx.few.test\"]\n"
        "messages_per_connection = 2\n");
    AgentHarness h(resolverFor(dns), c);
    auto out = h.deliver({"a@few.test", "b@few.test", "c@few.test", "d@few.test", "e@few.test"});
    EXPECT_EQ(countKind(out, Kind::Delivered), 5u);
    EXPECT_EQ(connectionsIn(count), 3);  // 2 + 2 + 1 (the agent's own cap is 100)
}

TEST(SmtpAgentShaping, MessagesPerMinuteDefersTheExcessUntilTheBudgetAllows) {
    SmtpPeer peer({}, "127.0.0.2");
    DnsServer dns(
        withReady({"--mx-host=rate.test,mx.rate.test,10", "--host-record=mx.rate.test,127.0.0.2"}));
    SmtpAgentConfig c = configFor(peer.port());
    c.shaping = rulesFrom(
        "[[site]]\nname = \"rate\"\nmx_suffixes = [\".rate.test\"]\n"
        "messages_per_minute = 2\n");
    AgentHarness h(resolverFor(dns), c);
    auto out = h.deliver({"a@rate.test", "b@rate.test", "c@rate.test"});
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(countKind(out, Kind::Delivered), 2u);
    ASSERT_EQ(countKind(out, Kind::Deferred), 1u);
    auto deferred = *std::find_if(out.begin(), out.end(),
                                  [](const auto& o) { return o.kind == Kind::Deferred; });
    ASSERT_TRUE(deferred.retryAfter.has_value());
    EXPECT_EQ(*deferred.retryAfter, std::chrono::seconds(30));  // one message every 30 s
    EXPECT_NE(deferred.replyText.find("messages_per_minute"), std::string::npos);
    EXPECT_EQ(peer.waitFor(2).size(), 2u);

    // Not a second earlier...
    h.clock.advance(std::chrono::seconds(29));
    EXPECT_EQ(h.deliver({"c@rate.test"}).at(0).kind, Kind::Deferred);
    // ...and then it goes.
    h.clock.advance(std::chrono::seconds(1));
    auto later = h.deliver({"c@rate.test"});
    ASSERT_EQ(later.size(), 1u);
    EXPECT_EQ(later[0].kind, Kind::Delivered) << later[0].replyText;
    EXPECT_EQ(peer.waitFor(3).size(), 3u);
}

TEST(SmtpAgentShaping, YahooTss04SuspendsTheWholeSiteForTwoHours) {
    TempDir d;
    const auto countA = (d.path() / "a").string(), countB = (d.path() / "b").string();
    SmtpPeer peerA({"--count-file", countA, "--greeting",
                    "421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to "
                    "unexpected volume or user complaints"},
                   "127.0.0.2");
    SmtpPeer peerB({"--count-file", countB, "--port", std::to_string(peerA.port())}, "127.0.0.3");
    // The shipped rules, with the real MX names served by dnsmasq on loopback.
    DnsServer dns(withReady({"--mx-host=yahoo.test,mta5.am0.yahoodns.net,1",
                             "--host-record=mta5.am0.yahoodns.net,127.0.0.2",
                             "--mx-host=aol.test,mta6.am0.yahoodns.net,1",
                             "--host-record=mta6.am0.yahoodns.net,127.0.0.3"}));
    SmtpAgentConfig c = configFor(peerA.port());
    auto builtIn = builtInShapingRules();
    ASSERT_TRUE(builtIn) << builtIn.error();
    c.shaping = *builtIn;
    AgentHarness h(resolverFor(dns), c);

    auto first = h.deliver({"x@yahoo.test"});
    ASSERT_EQ(first.size(), 1u);
    EXPECT_EQ(first[0].kind, Kind::Deferred);
    EXPECT_EQ(first[0].replyCode, 421);
    ASSERT_TRUE(first[0].retryAfter.has_value());
    EXPECT_EQ(*first[0].retryAfter, std::chrono::hours(2));
    EXPECT_EQ(connectionsIn(countA), 1);

    // Another domain hosted by the same site: deferred without a connection.
    h.clock.advance(std::chrono::minutes(30));
    auto second = h.deliver({"y@aol.test"});
    ASSERT_EQ(second.size(), 1u);
    EXPECT_EQ(second[0].kind, Kind::Deferred);
    EXPECT_NE(second[0].replyText.find("site yahoo is suspended"), std::string::npos)
        << second[0].replyText;
    ASSERT_TRUE(second[0].retryAfter.has_value());
    EXPECT_EQ(*second[0].retryAfter, std::chrono::minutes(90));
    EXPECT_EQ(connectionsIn(countB), 0);

    h.clock.advance(std::chrono::minutes(90));
    auto after = h.deliver({"y@aol.test"});
    ASSERT_EQ(after.size(), 1u);
    EXPECT_EQ(after[0].kind, Kind::Delivered) << after[0].replyText;
    EXPECT_EQ(connectionsIn(countB), 1);
}

TEST(SmtpAgentShaping, QqThrottlingWith550IsDeferredNotBounced) {
    TempDir d;
    const auto count = (d.path() / "n").string();
    SmtpPeer peer({"--count-file", count, "--rcpt-reply", "550 Ip frequency limited [192.0.2.1]"},
                  "127.0.0.2");
    DnsServer dns(withReady(
        {"--mx-host=foxmail.test,mx3.qq.com,10", "--host-record=mx3.qq.com,127.0.0.2",
         "--mx-host=other.test,mx.other.test,10", "--host-record=mx.other.test,127.0.0.2"}));
    SmtpAgentConfig c = configFor(peer.port());
    c.shaping = *builtInShapingRules();
    AgentHarness h(resolverFor(dns), c);
    auto out = h.deliver({"a@foxmail.test"});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].kind, Kind::Deferred);
    EXPECT_EQ(out[0].replyCode, 550);
    EXPECT_EQ(out[0].replyText, "550 Ip frequency limited [192.0.2.1]");
    ASSERT_TRUE(out[0].retryAfter.has_value());
    EXPECT_EQ(*out[0].retryAfter, std::chrono::minutes(30));
    const int afterFirst = connectionsIn(count);
    // Throttled: the next recipient of the site waits without a connection.
    EXPECT_EQ(h.deliver({"b@foxmail.test"}).at(0).kind, Kind::Deferred);
    EXPECT_EQ(connectionsIn(count), afterFirst);
    // The same reply from a host outside the qq site is a plain 5xx: bounced.
    EXPECT_EQ(h.deliver({"c@other.test"}).at(0).kind, Kind::Bounced);
}

TEST(SmtpAgent, ParsesHostPort) {
    auto a = parseHostPort("mx.example:2525", 25);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->host, "mx.example");
    EXPECT_EQ(a->port, 2525);
    auto b = parseHostPort("[::1]:26", 25);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->host, "::1");
    EXPECT_EQ(parseHostPort("relay.example", 587)->port, 587);
    EXPECT_FALSE(parseHostPort("relay:0", 25));
    EXPECT_FALSE(parseHostPort(":25", 25));
}

}  // namespace
}  // namespace sc::delivery::smtp
