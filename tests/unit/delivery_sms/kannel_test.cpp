// The Kannel route against real Kannel on loopback: bearerbox + smsbox from tests/sms/kannel.conf
// and fakesmsc as the SMS centre; its DLRs come back through tests/sms/dlr_listener.py (standing
// in for our HTTP endpoint) and are read by parseKannelDlr.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "delivery/sms/kannel_dlr.h"
#include "delivery/sms/sms_agent.h"
#include "one_outcome.h"
#include "peer_process.h"

namespace sc::delivery::sms {
namespace {

using namespace std::chrono_literals;
using Kind = queue::DeliveryOutcome::Kind;
using nlohmann::json;

// Distinct free loopback ports: every socket stays bound until all are picked, or the kernel
// may hand out one port twice.
std::vector<int> freePorts(size_t n) {
    std::vector<int> fds, ports;
    for (size_t i = 0; i < n; ++i) {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
        socklen_t len = sizeof a;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        fds.push_back(fd);
        ports.push_back(ntohs(a.sin_port));
    }
    for (const int fd : fds) ::close(fd);
    return ports;
}

// Waits until something accepts connections on the loopback port.
bool waitForPort(int port, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(static_cast<uint16_t>(port));
        const bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        ::close(fd);
        if (up) return true;
        std::this_thread::sleep_for(50ms);  // polling a port with a deadline
    }
    return false;
}

class NullSink final : public queue::ReceiptSink {
public:
    void receipt(queue::SmsReceipt) override {}
    void inbound(queue::InboundSms) override {}
};

TEST(KannelDlr, TokenIdAndType) {
    auto r = parseKannelDlr("k", "token=abc&id=m1-0%2B1&type=1", "abc", 5);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->route, "k");
    EXPECT_EQ(r->smscMessageId, "m1-0+1");
    EXPECT_EQ(r->stat, "DELIVRD");
    EXPECT_EQ(r->atMs, 5);
    EXPECT_EQ(parseKannelDlr("k", "token=abc&id=x&type=16", "abc", 0)->stat, "REJECTD");
    EXPECT_EQ(parseKannelDlr("k", "token=abc&id=x&type=8", "abc", 0)->stat, "ACCEPTD");
    EXPECT_EQ(parseKannelDlr("k", "token=abd&id=x&type=1", "abc", 0).error(), DlrError::BadToken);
    EXPECT_EQ(parseKannelDlr("k", "id=x&type=1", "abc", 0).error(), DlrError::BadToken);
    EXPECT_EQ(parseKannelDlr("k", "token=&id=x&type=1", "", 0).error(), DlrError::BadToken);
    EXPECT_EQ(parseKannelDlr("k", "token=abc&type=1", "abc", 0).error(), DlrError::Malformed);
    EXPECT_EQ(parseKannelDlr("k", "token=abc&id=x&type=x", "abc", 0).error(), DlrError::Malformed);
    EXPECT_EQ(parseKannelDlr("k", "token=abc&id=%zz&type=1", "abc", 0).error(),
              DlrError::Malformed);
}

class KannelTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("sc-kannel-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::create_directories(dir_);
        const auto ports = freePorts(4);
        fakesmscPort_ = ports[0];
        sendsmsPort_ = ports[1];
        smsboxPort_ = ports[2];
        std::ifstream in(SC_KANNEL_CONF);
        std::stringstream conf;
        conf << in.rdbuf();
        std::string text = conf.str();
        auto set = [&](const std::string& key, const std::string& value) {
            text = std::regex_replace(text, std::regex("@" + key + "@"), value);
        };
        set("ADMIN_PORT", std::to_string(ports[3]));
        set("ADMIN_PASSWORD", "admin-pass-for-tests");
        set("SMSBOX_PORT", std::to_string(smsboxPort_));
        set("FAKESMSC_PORT", std::to_string(fakesmscPort_));
        set("SENDSMS_PORT", std::to_string(sendsmsPort_));
        set("SENDSMS_PASSWORD", "sendsms-pass");
        set("DIR", dir_.string());
        std::ofstream(dir_ / "kannel.conf") << text;
        std::ofstream(dir_ / "password") << "sendsms-pass\n";
        startKannel();
        dlr_ = std::make_unique<testing::PeerProcess>(
            std::vector<std::string>{"/usr/bin/python3", SC_DLR_LISTENER});
        dlrPort_ = json::parse(*dlr_->readLine(10s))["port"].get<int>();
    }

    void startKannel() {
        const std::string conf = (dir_ / "kannel.conf").string();
        bearerbox_ = std::make_unique<testing::PeerProcess>(
            std::vector<std::string>{"/usr/sbin/bearerbox", conf}, false);
        // smsbox gives up at once when bearerbox is not listening yet.
        ASSERT_TRUE(waitForPort(smsboxPort_, 20s));
        smsbox_ = std::make_unique<testing::PeerProcess>(
            std::vector<std::string>{"/usr/sbin/smsbox", conf}, false);
        // fakesmsc retries its connection to bearerbox until it is up; it logs each MT message
        // it receives ("Got message N: <from to text ...>") on stderr, sent to our pipe.
        fakesmsc_ = std::make_unique<testing::PeerProcess>(std::vector<std::string>{
            "/bin/sh", "-c",
            "exec /usr/lib/kannel/test/fakesmsc -H 127.0.0.1 -r " + std::to_string(fakesmscPort_) +
                " -i 100000 -m 0 'x y text unused' 2>&1"});
    }

    // smsbox answers sendsms before it has connected to bearerbox, and panics on a request that
    // comes then (Kannel 1.4.5): wait for its `n`th "Connected to bearerbox" in its log.
    bool waitForSmsboxConnected(int n) {
        const auto deadline = std::chrono::steady_clock::now() + 20s;
        while (std::chrono::steady_clock::now() < deadline) {
            std::ifstream log(dir_ / "smsbox.log");
            std::string line;
            int seen = 0;
            while (std::getline(log, line))
                seen += line.find("Connected to bearerbox") != std::string::npos;
            if (seen >= n) return true;
            std::this_thread::sleep_for(50ms);  // polling a log file with a deadline
        }
        return false;
    }

    void TearDown() override {
        if (agent_) agent_->stop();
        io_.stop();
        if (thread_.joinable()) thread_.join();
        agent_.reset();
        fakesmsc_.reset();
        smsbox_.reset();
        bearerbox_.reset();
        dlr_.reset();
        if (!HasFailure()) std::filesystem::remove_all(dir_);  // else kept: Kannel's logs
    }

    void startAgent() {
        SmsRouteConfig r;
        r.name = "kannel";
        r.connector = SmsRouteConfig::Connector::Kannel;
        r.url = "http://127.0.0.1:" + std::to_string(sendsmsPort_) + "/cgi-bin/sendsms";
        r.username = "sendcloud";
        r.passwordFile = (dir_ / "password").string();
        r.sourceAddr = "Acme";
        r.dlrBaseUrl = "http://127.0.0.1:" + std::to_string(dlrPort_);
        r.isDefault = true;
        SmsAgentOptions options;
        options.dlrToken = [](const std::string&) { return std::string("route-token-1"); };
        auto agent = SmsAgent::create(io_, clock_, {r}, sink_, options);
        ASSERT_TRUE(agent) << agent.error();
        agent_ = std::move(*agent);
        thread_ = std::thread([this] { io_.run(); });
    }

    queue::DeliveryOutcome sendOne(const std::string& id, const std::string& to,
                                   const std::string& text) {
        testing::OneOutcome outcome;
        agent_->deliver({testing::smsJob(id, to, text)}, outcome.report());
        auto got = outcome.wait(40s);
        EXPECT_TRUE(got.has_value());
        return got.value_or(queue::DeliveryOutcome{});
    }

    // Waits for fakesmsc to print a message it received.
    std::string nextMessage(std::chrono::seconds timeout = 20s) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            auto line = fakesmsc_->readLine(1s);
            if (!line) continue;
            if (auto at = line->find("Got message"); at != std::string::npos) {
                return line->substr(line->find('<', at));
            }
        }
        return {};
    }

    SystemClock clock_;
    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
        io_.get_executor()};
    NullSink sink_;
    std::filesystem::path dir_;
    int fakesmscPort_ = 0;
    int sendsmsPort_ = 0;
    int smsboxPort_ = 0;
    int dlrPort_ = 0;
    std::unique_ptr<testing::PeerProcess> bearerbox_, smsbox_, fakesmsc_, dlr_;
    std::unique_ptr<SmsAgent> agent_;
    std::thread thread_;
};

TEST_F(KannelTest, TextAndNumberArriveAndTheDlrFlowsBack) {
    ASSERT_TRUE(waitForSmsboxConnected(1));
    startAgent();
    // smsbox may still be connecting to bearerbox: the first attempts can be deferred.
    queue::DeliveryOutcome o;
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    do {
        o = sendOne("m1-0", "+14155550100", "Hello € world");
    } while (o.kind == Kind::Deferred && std::chrono::steady_clock::now() < deadline);
    ASSERT_EQ(o.kind, Kind::Submitted) << o.replyText;
    EXPECT_EQ(o.smscMessageIds, std::vector<std::string>{"m1-0"});
    EXPECT_EQ(o.remoteIp, "127.0.0.1");
    EXPECT_EQ(nextMessage(), "<Acme +14155550100 text Hello € world>");

    // Kannel calls the dlr-url: first "delivered to SMSC" (8), then "delivered" (1).
    std::optional<queue::SmsReceipt> delivered;
    const auto dlrDeadline = std::chrono::steady_clock::now() + 20s;
    while (!delivered && std::chrono::steady_clock::now() < dlrDeadline) {
        auto line = dlr_->readLine(1s);
        if (!line) continue;
        const std::string target = json::parse(*line)["target"];
        ASSERT_TRUE(target.starts_with("/sms/dlr/kannel/kannel?")) << target;
        auto r = parseKannelDlr("kannel", target.substr(target.find('?') + 1), "route-token-1", 0);
        ASSERT_TRUE(r) << target;
        EXPECT_EQ(r->smscMessageId, "m1-0");
        if (r->stat == "DELIVRD") delivered = *r;
    }
    ASSERT_TRUE(delivered.has_value());
}

TEST_F(KannelTest, KannelDownIsDeferredThenSubmittedOnceBack) {
    ASSERT_TRUE(waitForSmsboxConnected(1));
    smsbox_.reset();  // smsbox gone: sendsms refuses connections
    startAgent();
    auto o = sendOne("m2-0", "+14155550100", "first");
    EXPECT_EQ(o.kind, Kind::Deferred);
    ASSERT_TRUE(o.retryAfter.has_value());
    smsbox_ = std::make_unique<testing::PeerProcess>(
        std::vector<std::string>{"/usr/sbin/smsbox", (dir_ / "kannel.conf").string()}, false);
    ASSERT_TRUE(waitForSmsboxConnected(2));
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    do {
        o = sendOne("m2-0", "+14155550100", "first");
    } while (o.kind == Kind::Deferred && std::chrono::steady_clock::now() < deadline);
    EXPECT_EQ(o.kind, Kind::Submitted) << o.replyText;
    EXPECT_EQ(nextMessage(), "<Acme +14155550100 text first>");
}

}  // namespace
}  // namespace sc::delivery::sms
