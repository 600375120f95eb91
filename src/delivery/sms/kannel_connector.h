#pragma once
// A Kannel route, and the generic HTTP provider route (docs/delivery.md): each SMS goes to smsbox's
// `sendsms` over HTTP (username, password from a file, from, to, text, coding, dlr-mask, dlr-url);
// Kannel splits long texts itself. Its delivery reports come back to /sms/dlr/kannel/<route>
// carrying the route's token and our recipient id, which is also the id reported as the SMSC's.

#include <memory>
#include <string>

#include "common/clock.h"
#include "common/sms_routes.h"
#include "delivery/sms/sms_connector.h"

namespace boost::asio {
class io_context;
}

namespace sc::delivery::sms {

class KannelConnector final : public SmsConnector {
public:
    // `dlrToken`: the route's unguessable token, put into the dlr-url Kannel calls back.
    KannelConnector(boost::asio::io_context& io, const Clock& clock, SmsRouteConfig route,
                    std::string password, std::string dlrToken);
    // The `http` connector on the same client: a JSON POST
    // {"id":smsId,"to":E.164,"from":source_addr,"text":UTF-8} to the route's url, with the header
    // line read from auth_header_file ("Name: value"); 2xx is accepted.
    struct JsonPost {
        std::string headerName;
        std::string headerValue;
    };
    KannelConnector(boost::asio::io_context& io, const Clock& clock, SmsRouteConfig route,
                    JsonPost post);
    ~KannelConnector() override;

    void submit(SmsSubmission s) override;
    void stop() override;
    const RouteCounters& counters() const override;

    struct State;

private:
    std::shared_ptr<State> state_;
};

// A Kannel DLR's `type` (%d: 1 delivered, 2 undeliverable, 4 queued on the SMSC, 8 delivered
// to the SMSC, 16 rejected by the SMSC) as a receipt's stat word.
std::string kannelDlrStat(int type);

}  // namespace sc::delivery::sms
