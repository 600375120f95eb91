#pragma once
// SMS delivery in the server (docs/delivery.md, docs/operations.md): the SMS agent built from
// the [[sms_route]] tables and handed to the scheduler, and the endpoint Kannel calls back with
// its delivery reports, /sms/dlr/kannel/<route>. Each kannel route's DLR URL carries a token
// derived from the server secret: unguessable, stable across restarts and nodes that share the
// secret, never an SMS_KEY.

#include <string>

#include "common/config.h"
#include "http/router.h"
#include "metrics/metrics.h"
#include "sendcloudd/runtime.h"

namespace sc::app {

// With delivery on and at least one route: creates the SMS agent on the delivery io_context,
// with the outcome recorder as its ReceiptSink, and registers it for the SMS channel. No route:
// one info line, and SMS stay queued. Returns why it could not start (naming the route and the
// file, never a secret), or "" on success.
std::string registerSmsAgent(Delivery& d, Runtime& rt, const Settings& settings);

// Adds each SMS route's gauges, counters and submit latency (its connector's counters) to
// /metrics; nothing when this node runs no SMS agent. `d` must outlive `endpoint`'s scrapes.
void registerSmsMetrics(metrics::MetricsEndpoint& endpoint, const Delivery& d);

// GET and POST /sms/dlr/kannel/<route> for every kannel route, whether or not this node
// delivers (an API-only node behind the same address records the reports too). A report with
// the wrong token is 403; a good one is recorded on the delivery threads, then answered 200.
void registerDlrRoutes(http::Router& router, Delivery& d, Runtime& rt, const Settings& settings);

// The DLR token of a route: HMAC-SHA256 of "kannel-dlr:<route>" under the server secret's
// hashing subkey (auth::KeyMaterial), as 64 hex digits.
std::string kannelDlrToken(const Runtime& rt, const std::string& route);

// A kannel route's base URL for its DLRs: its own dlr_base_url, else --public-url.
std::string dlrBaseUrlFor(const SmsRouteConfig& route, const Settings& settings);

}  // namespace sc::app
