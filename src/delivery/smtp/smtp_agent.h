#pragma once
// The e-mail delivery agent (docs/delivery.md): takes the leased recipients of one destination
// domain from the queue manager and reports one DeliveryOutcome for each, never touching the
// store. For each recipient: route (relay, a per-domain route, or the domain's MX hosts), then
// one SMTP transaction on a pooled connection to the first host that answers, trying the next
// host on connection failures and 4xx greetings; the reply becomes the outcome through
// reply_policy.h.
//
// Connections: a pool per MX host, at most `connectionsPerHost` open, each reused for up to
// `messagesPerConnection` messages (RSET between). A host that refused or timed out the
// connection is skipped for `deadHostTime`; a 421 or a destination none of whose hosts could be
// reached throttles the destination for `throttleTime`: its recipients are Deferred with
// retryAfter, without a connection attempt, until then. All of that runs on the injected Clock.
//
// Traffic shaping (traffic_shaping.h, docs/operations.md): every MX or route host belongs to a
// site (a suffix rule, or the host alone with the default limits); the relay is not shaped. On
// top of the per-host caps above, a site has at most `connections` open over all its hosts (an
// idle connection to another host of the site is closed to make room), closes a connection
// after min(messagesPerConnection, the site's messages_per_connection) messages, and spends a
// token per message from a messages_per_minute bucket: a recipient over budget is Deferred
// with retryAfter = when the bucket holds a token again, never bounced. A negative reply is
// matched against the reply rules *before* reply_policy.h classifies it: a matching rule
// throttles or suspends the whole site for its duration (its recipients Deferred with
// retryAfter, no connection made; a suspension is logged at warn level when it begins) and the
// recipient is Deferred whatever the code, so a 550 a provider throttles with never bounces.
//
// Threads: deliver() and stop() may be called from any thread; everything else runs on one
// strand of the delivery io_context. DNS look-ups run on the agent's own two-thread pool.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "delivery/smtp/traffic_shaping.h"
#include "queue/delivery.h"

namespace boost::asio {
class io_context;
}

namespace sc::delivery::smtp {

class MxResolver;

struct HostPort {
    std::string host;
    int port = 25;
};
// "HOST:PORT" (or "[v6]:PORT"); PORT defaults to `defaultPort` when absent.
Result<HostPort, std::string> parseHostPort(const std::string& text, int defaultPort);

struct SmtpAgentConfig {
    std::string ehloName = "localhost";
    std::optional<HostPort> relay;
    std::string relayUser;
    std::string relayPassword;               // read from --smtp-relay-password-file; never logged
    std::map<std::string, HostPort> routes;  // recipient domain (lower case) -> host
    int mxPort = 25;
    std::string tlsPolicy = "may";  // none | may | encrypt | verify
    std::string caFile;             // extra trust anchors for verify
    int connectionsPerHost = 20;
    int messagesPerConnection = 100;
    std::chrono::milliseconds connectTimeout{5000};
    std::chrono::milliseconds commandTimeout{300000};
    std::chrono::milliseconds dataTimeout{600000};
    std::chrono::milliseconds idleTimeout{10000};  // an idle pooled connection is closed after
    std::chrono::milliseconds deadHostTime{std::chrono::minutes(5)};
    std::chrono::milliseconds throttleTime{std::chrono::minutes(5)};
    // Sites and reply rules; the default (no sites, no rules) shapes each host alone with the
    // default limits. The server passes builtInShapingRules() or --smtp-shaping-file.
    ShapingRules shaping;
};

// What goes over the wire for one recipient: built by the MIME builder and signed by the DKIM
// signer in the server (sendcloudd/runtime.cpp), or made by hand in tests.
struct OutgoingMessage {
    std::string bytes;  // CRLF lines, not dot-stuffed
    std::string envelopeFrom;
    bool needsSmtpUtf8 = false;
    bool has8bit = false;
};
using MessageFactory =
    std::function<Result<OutgoingMessage, std::string>(const queue::DeliveryJob& job)>;

class SmtpAgent final : public queue::DeliveryAgent {
public:
    // `resolver` may be null when every destination goes to the relay or a route.
    static Result<std::unique_ptr<SmtpAgent>, std::string> create(
        boost::asio::io_context& io, Clock& clock, std::shared_ptr<const MxResolver> resolver,
        MessageFactory messages, SmtpAgentConfig config);
    ~SmtpAgent() override;

    void deliver(std::vector<queue::DeliveryJob> jobs, Report report) override;
    void stop() override;

    // For metrics and tests: connections open now to `host` (MX name, relay or route host).
    int openConnections(const std::string& host) const;
    // Every host with connections open now (host → how many, all its ports together): the
    // open-connections-per-destination gauge of /metrics.
    std::map<std::string, int> openConnectionsByHost() const;

private:
    struct Impl;
    explicit SmtpAgent(std::shared_ptr<Impl> impl);
    std::shared_ptr<Impl> impl_;
};

}  // namespace sc::delivery::smtp
