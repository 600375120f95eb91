#include "delivery/sms/sms_agent.h"

#include <nlohmann/json.hpp>

#include "delivery/sms/kannel_connector.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>

namespace sc::delivery::sms {
namespace {

using Outcome = queue::DeliveryOutcome;

// test-mode routes and `connector = "sandbox"`: recorded, never sent.
class SandboxConnector final : public SmsConnector {
public:
    explicit SandboxConnector(const Clock& clock) : clock_(clock) {}
    void submit(SmsSubmission s) override {
        Outcome o;
        o.recipientId = s.job.recipientId;
        o.kind = Outcome::Kind::Sandbox;
        o.atMs = clock_.nowMillis();
        s.report(std::move(o));
    }
    void stop() override {}
    const RouteCounters& counters() const override { return counters_; }

private:
    const Clock& clock_;
    RouteCounters counters_;
};

// The text of a stored SMS content (api/send_validation.h), or none.
std::optional<std::string> messageText(const std::string& contentJson) {
    const auto content = nlohmann::json::parse(contentJson, nullptr, false);
    if (content.is_object() && content.contains("message") && content["message"].is_string()) {
        return content["message"].get<std::string>();
    }
    return std::nullopt;
}

}  // namespace

Result<std::string, std::string> readSecretFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail("cannot read " + path);
    std::string s;
    s.resize(4097);
    in.read(s.data(), static_cast<std::streamsize>(s.size()));
    s.resize(static_cast<size_t>(in.gcount()));
    if (s.size() > 4096) return fail(path + " is larger than 4 KiB");
    if (!s.empty() && s.back() == '\n') s.pop_back();
    if (!s.empty() && s.back() == '\r') s.pop_back();
    return s;
}

SmsAgent::SmsAgent(const Clock& clock, std::vector<SmsRouteConfig> routes, SmsAgentOptions options)
    : clock_(clock), routes_(std::move(routes)), options_(std::move(options)) {}

SmsAgent::~SmsAgent() {
    stop();
}

Result<std::unique_ptr<SmsAgent>, std::string> SmsAgent::create(
    boost::asio::io_context& io, const Clock& clock, const std::vector<SmsRouteConfig>& routes,
    queue::ReceiptSink& sink, SmsAgentOptions options) {
    std::unique_ptr<SmsAgent> agent(new SmsAgent(clock, routes, std::move(options)));
    for (const auto& r : routes) {
        using C = SmsRouteConfig::Connector;
        switch (r.connector) {
            case C::Smpp: {
                std::string password;
                if (!r.passwordFile.empty()) {
                    auto p = readSecretFile(r.passwordFile);
                    if (!p) return fail("sms_route '" + r.name + "': " + p.error());
                    password = std::move(*p);
                }
                SmppTimings timings = agent->options_.smppTimings;
                if (r.reconnectDelay) timings.reconnectFirst = *r.reconnectDelay;
                if (r.reconnectMax) timings.reconnectMax = *r.reconnectMax;
                // A ceiling set below the default first delay lowers that too.
                timings.reconnectFirst = std::min(timings.reconnectFirst, timings.reconnectMax);
                auto c = std::make_unique<SmppConnector>(io, clock, r, std::move(password), sink,
                                                         timings);
                c->start();
                agent->connectors_[r.name] = std::move(c);
                break;
            }
            case C::Sandbox:
                agent->connectors_[r.name] = std::make_unique<SandboxConnector>(clock);
                break;
            case C::Kannel: {
                auto p = readSecretFile(r.passwordFile);
                if (!p) return fail("sms_route '" + r.name + "': " + p.error());
                const auto token =
                    agent->options_.dlrToken ? agent->options_.dlrToken(r.name) : std::string();
                agent->connectors_[r.name] =
                    std::make_unique<KannelConnector>(io, clock, r, std::move(*p), token);
                break;
            }
            case C::Http: {
                KannelConnector::JsonPost post;
                if (!r.authHeaderFile.empty()) {
                    auto h = readSecretFile(r.authHeaderFile);
                    if (!h) return fail("sms_route '" + r.name + "': " + h.error());
                    const size_t colon = h->find(':');
                    if (colon == std::string::npos || colon == 0 ||
                        h->find_first_of("\r\n") != std::string::npos) {
                        return fail("sms_route '" + r.name + "': " + r.authHeaderFile +
                                    " must hold one header line, 'Name: value'");
                    }
                    post.headerName = h->substr(0, colon);
                    post.headerValue =
                        h->substr(h->find_first_not_of(' ', colon + 1) == std::string::npos
                                      ? h->size()
                                      : h->find_first_not_of(' ', colon + 1));
                }
                agent->connectors_[r.name] =
                    std::make_unique<KannelConnector>(io, clock, r, std::move(post));
                break;
            }
        }
    }
    return agent;
}

const SmsRouteConfig* SmsAgent::routeFor(const queue::DeliveryJob& job) const {
    if (options_.userRoute && job.message) {
        const std::string chosen = options_.userRoute(*job.message);
        for (const auto& r : routes_) {
            if (!chosen.empty() && r.name == chosen) return &r;
        }
    }
    for (const auto& r : routes_) {
        for (const auto& p : r.prefixes) {
            if (job.address.starts_with(p)) return &r;
        }
    }
    for (const auto& r : routes_) {
        if (r.isDefault) return &r;
    }
    return nullptr;
}

void SmsAgent::deliver(std::vector<queue::DeliveryJob> jobs, Report report) {
    // The jobs of one message share its text (a request may name a thousand numbers): read and
    // encoded once, then copied with each job's own concatenation reference. A recipient with
    // content of its own is read on its own.
    std::shared_ptr<const queue::MessageContent> preparedFor;
    std::optional<std::string> preparedText;  // unset: the stored message has no text
    Result<EncodedSms, std::string> prepared = fail(std::string());
    for (auto& job : jobs) {
        auto refuse = [&](Outcome::Kind kind, std::string why) {
            Outcome o;
            o.recipientId = job.recipientId;
            o.kind = kind;
            o.atMs = clock_.nowMillis();
            o.replyText = std::move(why);
            if (kind == Outcome::Kind::Deferred) o.retryAfter = std::chrono::minutes(5);
            report(std::move(o));
        };
        const SmsRouteConfig* route = routeFor(job);
        if (!route) {
            // A configuration gap the operator can close: retried until the queue lifetime ends.
            refuse(Outcome::Kind::Deferred, "no sms_route takes this number and none is default");
            continue;
        }
        const bool shared = job.contentJson.empty() && job.message;
        if (!shared || preparedFor != job.message) {
            preparedFor = shared ? job.message : nullptr;
            preparedText = messageText(job.content());
            if (preparedText) prepared = encodeSms(*preparedText, 0);
        }
        if (!preparedText) {
            refuse(Outcome::Kind::Failed, "the stored message has no text");
            continue;
        }
        if (!prepared) {
            refuse(Outcome::Kind::Failed, prepared.error());
            continue;
        }
        SmsSubmission s;
        s.job = std::move(job);
        s.text = *preparedText;
        s.encoded = *prepared;
        setConcatenationReference(s.encoded, reference_.fetch_add(1, std::memory_order_relaxed));
        // Every outcome names its route: SMSC ids are unique per route only, and the receipts to
        // come are matched under it.
        s.report = [report, name = route->name](Outcome o) {
            o.route = name;
            report(std::move(o));
        };
        connectors_.at(route->name)->submit(std::move(s));
    }
}

void SmsAgent::stop() {
    for (auto& [name, c] : connectors_) c->stop();
}

const RouteCounters* SmsAgent::counters(const std::string& route) const {
    auto it = connectors_.find(route);
    return it == connectors_.end() ? nullptr : &it->second->counters();
}

}  // namespace sc::delivery::sms
