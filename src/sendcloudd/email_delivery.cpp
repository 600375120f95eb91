#include "sendcloudd/email_delivery.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

#include "delivery/dkim/domain_keys.h"
#include "delivery/dkim/openssl_signer.h"
#include "delivery/mime/message_builder.h"
#include "delivery/smtp/mx_resolver.h"
#include "delivery/smtp/smtp_agent.h"

namespace sc::app {

EmailSigner makeDkimSigner(Runtime& rt) {
    // Owned by the signer (and so by the agent's message factory); Runtime outlives both.
    struct Dkim {
        explicit Dkim(Runtime& rt)
            : domains(rt.backend->domains(), *rt.keys, rt.random, rt.clock),
              signer(domains.keySource()) {}
        delivery::dkim::DomainKeys domains;
        delivery::dkim::OpenSslDkimSigner signer;
    };
    auto dkim = std::make_shared<Dkim>(rt);
    return [dkim](const std::string& fromDomain, const std::string& message) {
        return dkim->signer.sign(fromDomain, message);
    };
}

namespace {

std::string machineHostName(const Settings& s) {
    if (!s.hostname.empty()) return s.hostname;
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
    return buf;
}

std::vector<std::string> splitList(const std::string& text) {
    std::vector<std::string> out;
    std::string item;
    std::istringstream in(text);
    while (std::getline(in, item, ',')) {
        while (!item.empty() && item.front() == ' ') item.erase(item.begin());
        while (!item.empty() && item.back() == ' ') item.pop_back();
        if (!item.empty()) out.push_back(item);
    }
    return out;
}

bool isIpAddress(const std::string& host) {
    unsigned char buf[sizeof(in6_addr)];
    return ::inet_pton(AF_INET, host.c_str(), buf) == 1 ||
           ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

std::string lower(std::string s) {
    for (char& c : s) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return s;
}

Result<delivery::smtp::SmtpAgentConfig, std::string> agentConfig(const Settings& settings) {
    delivery::smtp::SmtpAgentConfig config;
    config.ehloName = settings.ehloName.empty() ? machineHostName(settings) : settings.ehloName;
    if (!settings.smtpRelay.empty()) {
        auto relay = delivery::smtp::parseHostPort(settings.smtpRelay, 25);
        if (!relay) return fail("--smtp-relay: " + relay.error());
        config.relay = *relay;
    }
    config.relayUser = settings.smtpRelayUser;
    if (!settings.smtpRelayPasswordFile.empty()) {
        std::ifstream in(settings.smtpRelayPasswordFile, std::ios::binary);
        if (!in) {
            return fail("--smtp-relay-password-file: cannot read " +
                        settings.smtpRelayPasswordFile);
        }
        std::string password((std::istreambuf_iterator<char>(in)), {});
        // A file written by `echo` ends with a newline that is not part of the password.
        while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) {
            password.pop_back();
        }
        config.relayPassword = std::move(password);
    }
    if (!config.relayUser.empty() && config.relayPassword.empty()) {
        return fail("--smtp-relay-user needs --smtp-relay-password-file");
    }
    for (const auto& entry : splitList(settings.smtpRoute)) {
        const auto eq = entry.find('=');
        if (eq == std::string::npos || eq == 0) {
            return fail("--smtp-route: '" + entry + "' is not DOMAIN=HOST:PORT");
        }
        auto host = delivery::smtp::parseHostPort(entry.substr(eq + 1), 25);
        if (!host) return fail("--smtp-route: " + host.error());
        config.routes[lower(entry.substr(0, eq))] = *host;
    }
    config.mxPort = static_cast<int>(settings.smtpPort);
    config.tlsPolicy = settings.smtpTls;
    config.caFile = settings.smtpCaFile;
    config.connectionsPerHost = static_cast<int>(settings.smtpConnectionsPerHost);
    config.messagesPerConnection = static_cast<int>(settings.smtpMessagesPerConnection);
    // A rules file that does not parse stops start-up: the error names the file and line.
    auto shaping = settings.smtpShapingFile.empty()
                       ? delivery::smtp::builtInShapingRules()
                       : delivery::smtp::loadShapingRules(settings.smtpShapingFile);
    if (!shaping) return fail("--smtp-shaping-file: " + shaping.error());
    config.shaping = std::move(shaping).value();
    return config;
}

}  // namespace

void registerEmailMetrics(metrics::MetricsEndpoint& endpoint, const Delivery& d) {
    // As for SMS (sms_delivery.cpp): the agent is found among the queue's agents by its type.
    for (const auto& a : d.agents) {
        const auto* agent = dynamic_cast<const delivery::smtp::SmtpAgent*>(a.get());
        if (!agent) continue;
        endpoint.addProvider([agent](metrics::PrometheusText& out) {
            out.family("sendcloud_smtp_open_connections",
                       "SMTP connections open now, by destination host (MX, relay or route)",
                       "gauge");
            for (const auto& [host, n] : agent->openConnectionsByHost()) {
                out.sample("sendcloud_smtp_open_connections", {{"host", host}},
                           static_cast<double>(n));
            }
        });
    }
}

std::vector<std::string> dnsServers(const Settings& settings) {
    return splitList(settings.dnsServers);
}

std::string registerEmailAgent(Delivery& d, Runtime& rt, const Settings& settings,
                               EmailSigner signer) {
    if (!settings.delivery) return {};
    auto config = agentConfig(settings);
    if (!config) return config.error();

    // A relay given by address takes every message and needs no look-up at all; otherwise the
    // resolver serves MX look-ups and the host names of the relay and the routes.
    std::shared_ptr<const delivery::smtp::MxResolver> resolver;
    if (!config->relay || !isIpAddress(config->relay->host)) {
        resolver = std::make_shared<const delivery::smtp::MxResolver>(
            dnsServers(settings), std::chrono::milliseconds(5000));
    }

    const std::string hostname = machineHostName(settings);
    Clock* clock = &rt.clock;
    delivery::smtp::MessageFactory factory =
        [hostname, clock, signer = std::move(signer)](
            const queue::DeliveryJob& job) -> Result<delivery::smtp::OutgoingMessage, std::string> {
        if (!job.message) return fail(std::string("the message content is missing"));
        delivery::mime::BuildOptions options;
        options.hostname = hostname;
        options.nowMs = clock->nowMillis();
        auto built = delivery::mime::buildEmail(job, options);
        if (!built) return fail(built.error());
        delivery::smtp::OutgoingMessage out;
        out.bytes = std::move(built->bytes);
        if (signer) {
            auto signed_ = signer(built->fromDomain, out.bytes);
            if (!signed_) return fail("DKIM: " + signed_.error());
            out.bytes = std::move(*signed_);
        }
        out.envelopeFrom = std::move(built->envelopeFrom);
        out.needsSmtpUtf8 = built->needsSmtpUtf8;
        out.has8bit = built->has8bit;
        return out;
    };

    const std::string mode = config->relay ? "relay " + settings.smtpRelay : std::string("MX");
    auto agent = delivery::smtp::SmtpAgent::create(d.io, rt.clock, std::move(resolver),
                                                   std::move(factory), std::move(*config));
    if (!agent) return "email delivery: " + agent.error();
    d.scheduler->setAgent(store::UserKind::Email, **agent);
    spdlog::info(
        "email delivery: {} (tls {}, routes: {}, shaping: {})", mode, settings.smtpTls,
        settings.smtpRoute.empty() ? std::string("none") : settings.smtpRoute,
        settings.smtpShapingFile.empty() ? std::string("built-in") : settings.smtpShapingFile);
    d.agents.push_back(std::move(*agent));
    return {};
}

}  // namespace sc::app
