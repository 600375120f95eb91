#pragma once
// The SMS delivery agent (docs/delivery.md): picks each job's route (the SMS_USER's own route,
// then the first route whose prefixes match the number, then the default route), encodes the
// text (GSM-7 or UCS-2, split with a concatenation UDH) and hands it to the route's connector.
// Outcomes go to the queue's Report; receipts and MO messages to the ReceiptSink.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "common/sms_routes.h"
#include "delivery/sms/smpp_connector.h"
#include "delivery/sms/sms_connector.h"
#include "queue/delivery.h"

namespace sc::delivery::sms {

struct SmsAgentOptions {
    // The route an SMS_USER chose, if any (empty: prefixes and the default decide).
    std::function<std::string(const queue::MessageContent&)> userRoute;
    SmppTimings smppTimings;
    // The unguessable token of a route's DLR URL (kannel routes; see runtime.cpp).
    std::function<std::string(const std::string& route)> dlrToken;
};

class SmsAgent final : public queue::DeliveryAgent {
public:
    // Reads each route's secret files and starts its connector. Fails with a message that names
    // the route and the file (never the secret).
    static Result<std::unique_ptr<SmsAgent>, std::string> create(
        boost::asio::io_context& io, const Clock& clock, const std::vector<SmsRouteConfig>& routes,
        queue::ReceiptSink& sink, SmsAgentOptions options = {});
    ~SmsAgent() override;

    void deliver(std::vector<queue::DeliveryJob> jobs, Report report) override;
    void stop() override;

    // The route a job goes to, or null when none takes the number.
    const SmsRouteConfig* routeFor(const queue::DeliveryJob& job) const;
    // Per-route counters for /metrics (null for an unknown name).
    const RouteCounters* counters(const std::string& route) const;
    const std::vector<SmsRouteConfig>& routes() const { return routes_; }

private:
    SmsAgent(const Clock& clock, std::vector<SmsRouteConfig> routes, SmsAgentOptions options);

    const Clock& clock_;
    std::vector<SmsRouteConfig> routes_;
    SmsAgentOptions options_;
    std::map<std::string, std::unique_ptr<SmsConnector>> connectors_;
    std::atomic<uint8_t> reference_{0};
};

// A secret from a file: at most 4 KiB, one trailing newline removed.
Result<std::string, std::string> readSecretFile(const std::string& path);

}  // namespace sc::delivery::sms
