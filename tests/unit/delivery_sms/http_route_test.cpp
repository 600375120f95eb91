// The `http` route against a provider API on loopback (tests/sms/http_provider.py).
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "delivery/sms/sms_agent.h"
#include "one_outcome.h"
#include "peer_process.h"

namespace sc::delivery::sms {
namespace {

using namespace std::chrono_literals;
using Kind = queue::DeliveryOutcome::Kind;
using nlohmann::json;

class NullSink final : public queue::ReceiptSink {
public:
    void receipt(queue::SmsReceipt) override {}
    void inbound(queue::InboundSms) override {}
};

class HttpRouteTest : public ::testing::TestWithParam<int> {
protected:
    void SetUp() override {
        provider_ = std::make_unique<testing::PeerProcess>(std::vector<std::string>{
            "/usr/bin/python3", SC_HTTP_PROVIDER, std::to_string(GetParam())});
        port_ = json::parse(*provider_->readLine(10s))["port"].get<int>();
        headerFile_ =
            std::filesystem::temp_directory_path() / ("sc-http-auth-" + std::to_string(::getpid()));
        std::ofstream(headerFile_) << "Authorization: Bearer provider-secret\n";
        SmsRouteConfig r;
        r.name = "web";
        r.connector = SmsRouteConfig::Connector::Http;
        r.url = "http://127.0.0.1:" + std::to_string(port_) + "/v1/sms";
        r.authHeaderFile = headerFile_.string();
        r.sourceAddr = "Acme";
        r.isDefault = true;
        auto agent = SmsAgent::create(io_, clock_, {r}, sink_);
        ASSERT_TRUE(agent) << agent.error();
        agent_ = std::move(*agent);
        thread_ = std::thread([this] { io_.run(); });
    }
    void TearDown() override {
        agent_->stop();
        io_.stop();
        thread_.join();
        std::filesystem::remove(headerFile_);
    }

    SystemClock clock_;
    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
        io_.get_executor()};
    NullSink sink_;
    std::unique_ptr<testing::PeerProcess> provider_;
    int port_ = 0;
    std::filesystem::path headerFile_;
    std::unique_ptr<SmsAgent> agent_;
    std::thread thread_;
};

TEST_P(HttpRouteTest, PostsJsonWithTheAuthHeader) {
    testing::OneOutcome outcome;
    agent_->deliver({testing::smsJob("m1-0", "+14155550100", "Hi Жanna")}, outcome.report());
    auto line = provider_->readLine(10s);
    ASSERT_TRUE(line);
    const json post = json::parse(*line);
    EXPECT_EQ(post["path"], "/v1/sms");
    EXPECT_EQ(post["authorization"], "Bearer provider-secret");
    EXPECT_EQ(post["content_type"], "application/json");
    EXPECT_EQ(
        post["body"],
        (json{{"id", "m1-0"}, {"to", "+14155550100"}, {"from", "Acme"}, {"text", "Hi Жanna"}}));
    auto got = outcome.wait(10s);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->replyCode, GetParam());
    if (GetParam() / 100 == 2) {
        EXPECT_EQ(got->kind, Kind::Submitted);
    } else if (GetParam() >= 500) {
        EXPECT_EQ(got->kind, Kind::Deferred);
    } else {
        EXPECT_EQ(got->kind, Kind::Failed);
    }
}

INSTANTIATE_TEST_SUITE_P(Statuses, HttpRouteTest, ::testing::Values(200, 202, 400, 503));

}  // namespace
}  // namespace sc::delivery::sms
