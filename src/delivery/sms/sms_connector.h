#pragma once
// What the SMS agent hands a route's connector (docs/delivery.md): one job, already encoded,
// and where its one outcome goes. Connectors run on the delivery io_context.

#include <string>

#include "delivery/sms/sms_encoding.h"
#include "queue/delivery.h"

namespace sc::delivery::sms {

struct SmsSubmission {
    queue::DeliveryJob job;
    std::string text;  // UTF-8 (Kannel and HTTP send text; SMPP sends `encoded`)
    EncodedSms encoded;
    queue::DeliveryAgent::Report report;
};

// Counters a connector keeps for /metrics (defined with the delivery contract, where
// src/metrics can read them).
using RouteCounters = queue::SmsRouteCounters;

class SmsConnector {
public:
    virtual ~SmsConnector() = default;
    // Must not block; the outcome is reported later from the connector's strand.
    virtual void submit(SmsSubmission s) = 0;
    // Stop taking work; what has not been sent is reported Deferred.
    virtual void stop() = 0;
    virtual const RouteCounters& counters() const = 0;
};

}  // namespace sc::delivery::sms
