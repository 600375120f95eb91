#include "sendcloudd/sms_delivery.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include "delivery/sms/kannel_dlr.h"
#include "delivery/sms/sms_agent.h"

namespace sc::app {

std::string kannelDlrToken(const Runtime& rt, const std::string& route) {
    // HMAC-SHA256 under the server secret's hashing subkey (src/auth/ keeps the secret). The
    // prefix separates the domains: an API_KEY is 32 letters and digits, never "kannel-dlr:...",
    // so no key's stored hash is a token, and a token says nothing about any key.
    const std::string mac = rt.keys->hash("kannel-dlr:" + route);
    std::string hex(2 * mac.size() + 1, '\0');
    sodium_bin2hex(hex.data(), hex.size(), reinterpret_cast<const unsigned char*>(mac.data()),
                   mac.size());
    hex.pop_back();
    return hex;
}

std::string dlrBaseUrlFor(const SmsRouteConfig& route, const Settings& settings) {
    std::string base = route.dlrBaseUrl.empty() ? settings.publicUrl : route.dlrBaseUrl;
    while (!base.empty() && base.back() == '/') base.pop_back();
    return base;
}

std::string registerSmsAgent(Delivery& d, Runtime& rt, const Settings& settings) {
    if (!settings.delivery) return {};
    if (settings.smsRoutes.empty()) {
        spdlog::info(
            "sms delivery: no [[sms_route]] in the configuration; SMS stay queued "
            "(docs/operations.md, \"Connecting to an SMS centre\")");
        return {};
    }
    std::vector<SmsRouteConfig> routes = settings.smsRoutes;
    for (auto& r : routes) {
        if (r.connector != SmsRouteConfig::Connector::Kannel) continue;
        r.dlrBaseUrl = dlrBaseUrlFor(r, settings);
        // Without a URL Kannel can reach, no report ever comes back and every SMS of the route
        // would stay `submitted` for good: refuse to start instead.
        if (r.dlrBaseUrl.empty()) {
            return "sms_route '" + r.name +
                   "': a kannel route needs dlr_base_url or --public-url (the address Kannel "
                   "calls back with its delivery reports)";
        }
    }
    delivery::sms::SmsAgentOptions options;
    const Runtime* runtime = &rt;
    options.dlrToken = [runtime](const std::string& route) {
        return kannelDlrToken(*runtime, route);
    };
    auto agent =
        delivery::sms::SmsAgent::create(d.io, rt.clock, routes, *d.recorder, std::move(options));
    if (!agent) return agent.error();
    d.scheduler->setAgent(store::UserKind::Sms, **agent);
    std::string names;
    for (const auto& r : routes) {
        names += (names.empty() ? "" : ", ") + r.name + " (" + connectorName(r.connector) + ")";
    }
    spdlog::info("sms delivery: routes {}", names);
    d.agents.push_back(std::move(*agent));
    return {};
}

void registerDlrRoutes(http::Router& router, Delivery& d, Runtime& rt, const Settings& settings) {
    for (const auto& r : settings.smsRoutes) {
        if (r.connector != SmsRouteConfig::Connector::Kannel) continue;
        const http::ErrorResponder* errors = &router.errors();
        router.add(
            {http::Method::Get}, "/sms/dlr/kannel/" + r.name,
            [&d, &rt, errors, route = r.name, token = kannelDlrToken(rt, r.name)](
                const http::Request& req, http::Responder reply) {
                auto receipt =
                    delivery::sms::parseKannelDlr(route, req.query, token, rt.clock.nowMillis());
                if (!receipt) {
                    if (receipt.error() == delivery::sms::DlrError::BadToken) {
                        reply((*errors)(403, "dlr.bad_token",
                                        "this delivery report URL's token is not the route's; "
                                        "Kannel gets it in the dlr-url of each sendsms"));
                    } else {
                        reply((*errors)(400, "dlr.malformed",
                                        "a delivery report needs id and a numeric type"));
                    }
                    return;
                }
                // The receipt's transaction runs on the delivery threads, never the HTTP ones;
                // Kannel hears 200 only after it (a failure goes to the recorder's error sink).
                boost::asio::post(d.io, [recorder = d.recorder.get(), r = std::move(*receipt),
                                         reply = std::move(reply)]() mutable {
                    recorder->receipt(std::move(r));
                    http::Response ok;
                    ok.contentType = "text/plain; charset=utf-8";
                    ok.body = "OK\n";
                    reply(std::move(ok));
                });
            });
    }
}

}  // namespace sc::app
