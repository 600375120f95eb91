#pragma once
// Email delivery in the server (docs/delivery.md, docs/operations.md "Email delivery"): the SMTP
// agent built from the --smtp-* settings, with the MIME builder as its message factory, handed to
// the scheduler for the email channel.

#include <functional>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/result.h"
#include "metrics/metrics.h"
#include "sendcloudd/runtime.h"

namespace sc::app {

// Signs one built message for its From domain (DKIM). Answers the signed message (unchanged when
// the domain has no key) or why signing failed.
using EmailSigner = std::function<Result<std::string, std::string>(const std::string& fromDomain,
                                                                   const std::string& message)>;

// The server's signer: OpenSslDkimSigner with the keys of `sendcloudd domain add`
// (docs/operations.md, "Sending domains and DKIM"), a rotation picked up within 30 s. Thread-safe.
EmailSigner makeDkimSigner(Runtime& rt);

// The --dns-servers list ("HOST:PORT" entries; empty: the system resolver).
std::vector<std::string> dnsServers(const Settings& settings);

// With delivery on: creates the SMTP agent on the delivery io_context and registers it for the
// email channel. Delivery off: nothing. Returns why it could not start (naming the flag or file,
// never the relay password), or "" on success.
// /metrics: sendcloud_smtp_open_connections{host} from the email agent, if there is one.
void registerEmailMetrics(metrics::MetricsEndpoint& endpoint, const Delivery& d);

std::string registerEmailAgent(Delivery& d, Runtime& rt, const Settings& settings,
                               EmailSigner signer = nullptr);

}  // namespace sc::app
