// SmtpSession against a real SMTP server (python3-aiosmtpd, tests/support/smtp_peer.py).

#include "delivery/smtp/smtp_session.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fstream>

#include "unit/delivery/smtp_peer.h"

namespace sc::delivery::smtp {
namespace {

namespace net = boost::asio;
using sc::testing::SmtpPeer;
using sc::testing::TempDir;
using sc::testing::TestCertificates;

struct RunResult {
    Status<SessionFailure> opened = Ok{};
    std::vector<Result<SmtpReply, SessionFailure>> sent;
    std::string tlsVersion, tlsCipher, remoteIp;
};

// Opens one session to 127.0.0.1:port and sends each message in turn on it.
RunResult run(SessionOptions options, int port,
              std::vector<std::pair<Envelope, std::string>> msgs) {
    net::io_context io;
    RunResult out;
    net::co_spawn(
        io,
        [&]() -> net::awaitable<void> {
            auto s = SmtpSession::create(io.get_executor(), options);
            out.opened =
                co_await s->open(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
            if (out.opened) {
                for (auto& [env, msg] : msgs) out.sent.push_back(co_await s->send(env, msg));
            }
            out.tlsVersion = s->tlsVersion();
            out.tlsCipher = s->tlsCipher();
            out.remoteIp = s->remoteIp();
            co_await s->quit();
        },
        net::detached);
    io.run();
    return out;
}

Envelope env(std::string to = "rcpt@dest.test") {
    return Envelope{"sender@acme.test", std::move(to), false, false};
}

const std::string kMessage =
    "From: sender@acme.test\r\nTo: rcpt@dest.test\r\nSubject: hi\r\n\r\nline one\r\n.hidden dot\r\n"
    "..two dots\r\nlast";

TEST(SmtpSession, DeliversWithDotStuffingAndExtensions) {
    SmtpPeer peer({});
    SessionOptions o;
    o.tls = TlsPolicy::None;
    auto e = env();
    e.has8bit = true;
    auto r = run(o, peer.port(), {{e, kMessage}});
    ASSERT_TRUE(r.opened) << describe(r.opened.error());
    ASSERT_EQ(r.sent.size(), 1u);
    ASSERT_TRUE(r.sent[0]) << describe(r.sent[0].error());
    EXPECT_EQ(r.sent[0]->code, 250);
    EXPECT_EQ(r.remoteIp, "127.0.0.1");
    EXPECT_EQ(r.tlsVersion, "");
    auto got = peer.waitFor(1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_NE(got[0].find("\"rcpt_tos\": [\"rcpt@dest.test\"]"), std::string::npos) << got[0];
    EXPECT_NE(got[0].find("BODY=8BITMIME"), std::string::npos) << got[0];
    EXPECT_NE(got[0].find("SIZE="), std::string::npos) << got[0];
    // The server undoes dot-stuffing: what arrives is the message as given, plus the final CRLF.
    std::string b64 = got[0].substr(got[0].find("\"data_b64\": \"") + 13);
    b64 = b64.substr(0, b64.find('"'));
    std::ofstream(peer.dir() / "b64") << b64;
    std::string cmd =
        "base64 -d " + (peer.dir() / "b64").string() + " > " + (peer.dir() / "raw").string();
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    std::ifstream raw(peer.dir() / "raw", std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(raw)), {});
    EXPECT_EQ(data, kMessage + "\r\n");
}

TEST(SmtpSession, PermanentRcptRejectionBouncesWithTheReplyKept) {
    SmtpPeer peer({"--rcpt-reply", "550 5.1.1 <rcpt@dest.test>: no such user"});
    SessionOptions o;
    o.tls = TlsPolicy::None;
    auto r = run(o, peer.port(), {{env(), kMessage}});
    ASSERT_TRUE(r.opened);
    ASSERT_FALSE(r.sent[0]);
    const auto& f = r.sent[0].error();
    EXPECT_EQ(f.kind, SessionFailure::Kind::Reply);
    EXPECT_EQ(f.stage, Stage::Rcpt);
    EXPECT_EQ(f.reply.code, 550);
    EXPECT_EQ(f.reply.enhancedCode, "5.1.1");
    EXPECT_EQ(classify(f).kind, queue::DeliveryOutcome::Kind::Bounced);
    EXPECT_EQ(describe(f), "550 5.1.1 <rcpt@dest.test>: no such user");
    EXPECT_TRUE(peer.captured().empty());
}

TEST(SmtpSession, TemporaryFailureThenSuccessOnTheSameConnectionAfterRset) {
    SmtpPeer peer({"--data-reply", "451 4.3.0 try again later"});
    SessionOptions o;
    o.tls = TlsPolicy::None;
    auto r = run(o, peer.port(), {{env(), kMessage}, {env(), kMessage}});
    ASSERT_TRUE(r.opened);
    ASSERT_EQ(r.sent.size(), 2u);
    ASSERT_FALSE(r.sent[0]);
    EXPECT_EQ(r.sent[0].error().stage, Stage::Dot);
    EXPECT_EQ(r.sent[0].error().reply.code, 451);
    auto v = classify(r.sent[0].error());
    EXPECT_EQ(v.kind, queue::DeliveryOutcome::Kind::Deferred);
    EXPECT_FALSE(v.throttleDestination);
    ASSERT_TRUE(r.sent[1]) << describe(r.sent[1].error());
    EXPECT_EQ(peer.waitFor(1).size(), 1u);
}

TEST(SmtpSession, GreetingWith421ThrottlesAndTriesTheNextHost) {
    SmtpPeer peer({"--greeting", "421 4.7.0 too many connections, slow down"});
    SessionOptions o;
    auto r = run(o, peer.port(), {{env(), kMessage}});
    ASSERT_FALSE(r.opened);
    EXPECT_EQ(r.opened.error().stage, Stage::Greeting);
    EXPECT_EQ(r.opened.error().reply.code, 421);
    auto v = classify(r.opened.error());
    EXPECT_EQ(v.kind, queue::DeliveryOutcome::Kind::Deferred);
    EXPECT_TRUE(v.throttleDestination);
    EXPECT_TRUE(v.tryNextHost);
}

TEST(SmtpSession, ConnectionRefusedIsAConnectFailure) {
    int port;
    {
        SmtpPeer peer({});
        port = peer.port();
    }  // stopped: nothing listens there now
    SessionOptions o;
    auto r = run(o, port, {});
    ASSERT_FALSE(r.opened);
    EXPECT_EQ(r.opened.error().kind, SessionFailure::Kind::ConnectFailed);
    auto v = classify(r.opened.error());
    EXPECT_TRUE(v.markHostDead);
    EXPECT_TRUE(v.tryNextHost);
}

TEST(SmtpSession, SilentServerTimesOutAtTheGreeting) {
    net::io_context acceptIo;
    net::ip::tcp::acceptor acceptor(acceptIo, {net::ip::make_address("127.0.0.1"), 0});
    SessionOptions o;
    o.timeouts.greeting = std::chrono::milliseconds(200);
    auto r = run(o, acceptor.local_endpoint().port(), {});
    ASSERT_FALSE(r.opened);
    EXPECT_EQ(r.opened.error().kind, SessionFailure::Kind::Timeout);
    EXPECT_EQ(r.opened.error().stage, Stage::Greeting);
}

struct TlsSetup {
    TempDir dir;
    TestCertificates certs{dir.path(), "mx.dest.test"};
    net::ssl::context ctx{net::ssl::context::tls_client};
    explicit TlsSetup(bool trustCa) {
        ctx.set_verify_mode(net::ssl::verify_peer);
        if (trustCa) ctx.load_verify_file(certs.ca);
    }
};

TEST(SmtpSession, StartTlsVerifyAgainstTheGivenCaDelivers) {
    TlsSetup tls(true);
    SmtpPeer peer({"--tls-cert", tls.certs.cert, "--tls-key", tls.certs.key});
    SessionOptions o;
    o.tls = TlsPolicy::Verify;
    o.tlsContext = &tls.ctx;
    o.hostName = "mx.dest.test";
    auto r = run(o, peer.port(), {{env(), kMessage}});
    ASSERT_TRUE(r.opened) << describe(r.opened.error());
    ASSERT_TRUE(r.sent[0]) << describe(r.sent[0].error());
    EXPECT_EQ(r.tlsVersion.rfind("TLSv1", 0), 0u) << r.tlsVersion;
    EXPECT_FALSE(r.tlsCipher.empty());
    auto got = peer.waitFor(1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_NE(got[0].find("\"tls\": true"), std::string::npos) << got[0];
}

TEST(SmtpSession, StartTlsVerifyRefusesAnUntrustedChainAndAWrongName) {
    {
        TlsSetup tls(false);  // the test CA is not a trust anchor
        SmtpPeer peer({"--tls-cert", tls.certs.cert, "--tls-key", tls.certs.key});
        SessionOptions o;
        o.tls = TlsPolicy::Verify;
        o.tlsContext = &tls.ctx;
        o.hostName = "mx.dest.test";
        auto r = run(o, peer.port(), {{env(), kMessage}});
        ASSERT_FALSE(r.opened);
        EXPECT_EQ(r.opened.error().kind, SessionFailure::Kind::TlsFailed);
        EXPECT_TRUE(peer.captured().empty());
    }
    {
        TlsSetup tls(true);
        SmtpPeer peer({"--tls-cert", tls.certs.cert, "--tls-key", tls.certs.key});
        SessionOptions o;
        o.tls = TlsPolicy::Verify;
        o.tlsContext = &tls.ctx;
        o.hostName = "other.dest.test";
        auto r = run(o, peer.port(), {{env(), kMessage}});
        ASSERT_FALSE(r.opened);
        EXPECT_EQ(r.opened.error().kind, SessionFailure::Kind::TlsFailed);
        EXPECT_NE(r.opened.error().detail.find("certificate"), std::string::npos)
            << r.opened.error().detail;
    }
}

TEST(SmtpSession, EncryptAgainstAServerWithoutStartTlsDefersAndSendsNothing) {
    SmtpPeer peer({});
    for (auto policy : {TlsPolicy::Encrypt, TlsPolicy::Verify}) {
        net::ssl::context ctx(net::ssl::context::tls_client);
        SessionOptions o;
        o.tls = policy;
        o.tlsContext = &ctx;
        o.hostName = "mx.dest.test";
        auto r = run(o, peer.port(), {{env(), kMessage}});
        ASSERT_FALSE(r.opened);
        EXPECT_EQ(r.opened.error().kind, SessionFailure::Kind::TlsUnavailable);
        EXPECT_EQ(classify(r.opened.error()).kind, queue::DeliveryOutcome::Kind::Deferred);
    }
    EXPECT_TRUE(peer.captured().empty());
}

TEST(SmtpSession, MayUsesStartTlsWhenOfferedWithAnyCertificate) {
    TlsSetup tls(false);
    net::ssl::context anyCert(net::ssl::context::tls_client);
    SmtpPeer peer({"--tls-cert", tls.certs.cert, "--tls-key", tls.certs.key});
    SessionOptions o;
    o.tls = TlsPolicy::May;
    o.tlsContext = &anyCert;
    o.hostName = "mx.dest.test";
    auto r = run(o, peer.port(), {{env(), kMessage}});
    ASSERT_TRUE(r.opened) << describe(r.opened.error());
    ASSERT_TRUE(r.sent[0]);
    EXPECT_FALSE(r.tlsVersion.empty());
}

TEST(SmtpSession, AuthenticatesToARelay) {
    TempDir d;
    std::ofstream(d.path() / "pw") << "s3cret-relay-pw\n";
    SmtpPeer peer({"--auth", "relayuser:" + (d.path() / "pw").string()});
    SessionOptions o;
    o.tls = TlsPolicy::None;
    o.auth = RelayCredentials{"relayuser", "s3cret-relay-pw"};
    o.timeouts.command = std::chrono::milliseconds(5000);
    auto r = run(o, peer.port(), {{env(), kMessage}});
    ASSERT_TRUE(r.opened) << describe(r.opened.error());
    ASSERT_TRUE(r.sent[0]) << describe(r.sent[0].error());

    o.auth = RelayCredentials{"relayuser", "wrong"};
    auto bad = run(o, peer.port(), {{env(), kMessage}});
    ASSERT_FALSE(bad.opened);
    EXPECT_EQ(bad.opened.error().stage, Stage::Auth);
    EXPECT_EQ(bad.opened.error().reply.code / 100, 5);
    EXPECT_EQ(classify(bad.opened.error()).kind, queue::DeliveryOutcome::Kind::Deferred);
    EXPECT_EQ(describe(bad.opened.error()).find("wrong"), std::string::npos);
}

TEST(SmtpSession, DotStuffing) {
    EXPECT_EQ(dotStuff(".a\r\nb\r\n.\r\n"), "..a\r\nb\r\n..\r\n.\r\n");
    EXPECT_EQ(dotStuff("x"), "x\r\n.\r\n");
}

}  // namespace
}  // namespace sc::delivery::smtp
