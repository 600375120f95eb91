#pragma once
// An SMPP 3.4 route (docs/delivery.md): one bind_transceiver session to the SMSC, a window of
// outstanding submit_sm, a parts-per-second token bucket on the injected Clock, enquire_link,
// reconnect with backoff, and deliver_sm (receipts and MO messages) to the ReceiptSink.

#include <chrono>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/sms_routes.h"
#include "delivery/sms/sms_connector.h"

namespace boost::asio {
class io_context;
}

namespace sc::delivery::sms {

struct SmppTimings {
    std::chrono::milliseconds reconnectFirst{10000};  // doubles up to reconnectMax
    std::chrono::milliseconds reconnectMax{300000};
    std::chrono::milliseconds enquireLink{30000};
    std::chrono::milliseconds throttlePause{1000};  // after a temporary submit_sm_resp error
    std::chrono::milliseconds responseTimeout{30000};
};

class SmppConnector final : public SmsConnector {
public:
    SmppConnector(boost::asio::io_context& io, const Clock& clock, SmsRouteConfig route,
                  std::string password, queue::ReceiptSink& sink, SmppTimings timings = {});
    ~SmppConnector() override;

    // Connects and binds in the background; submissions wait for the bind.
    void start();
    void submit(SmsSubmission s) override;
    void stop() override;
    const RouteCounters& counters() const override;

    struct State;

private:
    std::shared_ptr<State> state_;
};

}  // namespace sc::delivery::sms
