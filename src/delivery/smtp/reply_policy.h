#pragma once
// What a failed SMTP attempt means, in one place, modelled on Postfix's smtp_trouble.c
// (docs/delivery.md, "Outcomes"): the stage it failed at, how, and the reply if any decide
// between Deferred and Bounced, whether the next MX host is worth trying, and whether the whole
// destination should be throttled instead of burning every recipient's attempts.
//
//   connection refused / timed out / reset before MAIL  -> Deferred, next MX, host marked dead
//   4xx (or 5xx, as Postfix's smtp_skip_5xx_greeting) at the greeting -> Deferred, next MX
//   421 at any stage                                     -> Deferred, destination throttled
//   STARTTLS required by policy but not offered, or TLS failure -> Deferred, next MX
//   4xx to EHLO/MAIL/RCPT/DATA/end of data               -> Deferred
//   5xx to EHLO/MAIL/RCPT/DATA/end of data               -> Bounced, the reply kept
//   AUTH refused by the relay                            -> Deferred (our configuration, not
//                                                           the recipient's fault)
//   timeout or lost connection during a transaction      -> Deferred
//
// The basic code decides; the RFC 3463 enhanced code is kept for the attempt log. The reply's
// text is for the traffic shaping reply rules (traffic_shaping.h): the agent matches a negative
// reply against them *before* calling classify(), and a matching rule wins (the recipient is
// Deferred and the site held), so a provider's throttling 550 never reaches the 5xx -> Bounced
// line below.

#include <string>

#include "delivery/smtp/smtp_reply.h"
#include "queue/delivery.h"

namespace sc::delivery::smtp {

enum class Stage { Connect, Greeting, Helo, StartTls, Auth, Mail, Rcpt, Data, Dot, Rset, Quit };
const char* stageName(Stage s);

struct SessionFailure {
    enum class Kind {
        ConnectFailed,   // refused, unreachable, or the connect deadline passed
        Timeout,         // a stage's deadline passed
        Network,         // the connection broke
        Protocol,        // the server's bytes are not SMTP (or exceed the reply limits)
        Reply,           // a negative reply: see `reply`
        TlsUnavailable,  // policy requires STARTTLS; the server does not offer it
        TlsFailed,       // handshake or certificate verification failed
    };
    Kind kind = Kind::Network;
    Stage stage = Stage::Connect;
    SmtpReply reply;     // Kind::Reply only
    std::string detail;  // for the attempt log; never a secret
};

struct Verdict {
    queue::DeliveryOutcome::Kind kind = queue::DeliveryOutcome::Kind::Deferred;
    bool tryNextHost = false;          // another MX host may do better
    bool markHostDead = false;         // remember the host as unreachable for a while
    bool throttleDestination = false;  // defer the destination's other recipients too
};

Verdict classify(const SessionFailure& failure);

// The attempt-log text of a failure: the reply's summary, or "<stage>: <detail>".
std::string describe(const SessionFailure& failure);

}  // namespace sc::delivery::smtp
