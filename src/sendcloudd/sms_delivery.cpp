#include "sendcloudd/sms_delivery.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <mutex>
#include <unordered_map>

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

namespace {

// The route each SMS_USER chose (`sms-user set-route`, the console), read through the credential
// store and kept 30 s, so an SMS costs no store read and a change reaches a running server (and
// every node) within that time. A store failure answers the last known choice, or none.
class SmsUserRoutes {
public:
    SmsUserRoutes(store::CredentialStore& credentials, const Clock& clock)
        : credentials_(credentials), clock_(clock) {}

    std::string routeOf(int64_t userId) {
        const int64_t now = clock_.nowMillis();
        std::lock_guard lock(mutex_);
        auto it = cache_.find(userId);
        if (it != cache_.end() && now - it->second.readAtMs < kCacheMs) return it->second.route;
        auto user = credentials_.findUserById(userId);
        if (!user) return it != cache_.end() ? it->second.route : std::string();
        std::string route = user.value() ? user.value()->policy.smsRoute : std::string();
        // Bounded: one entry per SMS user that sent in the last 30 s, dropped wholesale when the
        // map grows past what any deployment has.
        if (cache_.size() >= kMaxEntries) cache_.clear();
        cache_[userId] = Entry{route, now};
        return route;
    }

private:
    static constexpr int64_t kCacheMs = 30'000;
    static constexpr size_t kMaxEntries = 100'000;
    struct Entry {
        std::string route;
        int64_t readAtMs = 0;
    };
    store::CredentialStore& credentials_;
    const Clock& clock_;
    std::mutex mutex_;
    std::unordered_map<int64_t, Entry> cache_;
};

}  // namespace

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
    auto userRoutes = std::make_shared<SmsUserRoutes>(rt.backend->credentials(), rt.clock);
    options.userRoute = [userRoutes](const queue::MessageContent& m) {
        return userRoutes->routeOf(m.apiUserId);
    };
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

void registerSmsMetrics(metrics::MetricsEndpoint& endpoint, const Delivery& d) {
    // Delivery keeps its agents as the queue's DeliveryAgent; the SMS one is found by its type
    // rather than by a field of its own, so the agents' registration stays in one place.
    for (const auto& a : d.agents) {
        const auto* agent = dynamic_cast<const delivery::sms::SmsAgent*>(a.get());
        if (!agent) continue;
        std::vector<metrics::SmsRouteSource> sources;
        for (const auto& r : agent->routes()) {
            sources.push_back(
                {r.name, r.connector == SmsRouteConfig::Connector::Smpp, agent->counters(r.name)});
        }
        endpoint.addProvider(metrics::smsRouteMetrics(std::move(sources)));
    }
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
