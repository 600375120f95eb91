#include "delivery/smtp/reply_policy.h"

namespace sc::delivery::smtp {

using Kind = queue::DeliveryOutcome::Kind;

const char* stageName(Stage s) {
    switch (s) {
        case Stage::Connect:
            return "connect";
        case Stage::Greeting:
            return "greeting";
        case Stage::Helo:
            return "EHLO";
        case Stage::StartTls:
            return "STARTTLS";
        case Stage::Auth:
            return "AUTH";
        case Stage::Mail:
            return "MAIL FROM";
        case Stage::Rcpt:
            return "RCPT TO";
        case Stage::Data:
            return "DATA";
        case Stage::Dot:
            return "end of data";
        case Stage::Rset:
            return "RSET";
        case Stage::Quit:
            return "QUIT";
    }
    return "?";
}

namespace {

// Before MAIL FROM nothing about the message has been said: a failure is the host's, so
// another MX host may do better (Postfix tries the next MX only for session-level trouble).
bool beforeTransaction(Stage s) {
    return s == Stage::Connect || s == Stage::Greeting || s == Stage::Helo || s == Stage::StartTls;
}

}  // namespace

Verdict classify(const SessionFailure& f) {
    Verdict v;
    switch (f.kind) {
        case SessionFailure::Kind::ConnectFailed:
            v.tryNextHost = true;
            v.markHostDead = true;
            return v;
        case SessionFailure::Kind::Timeout:
        case SessionFailure::Kind::Network:
        case SessionFailure::Kind::Protocol:
            v.tryNextHost = beforeTransaction(f.stage);
            return v;
        case SessionFailure::Kind::TlsUnavailable:
        case SessionFailure::Kind::TlsFailed:
            v.tryNextHost = true;
            return v;
        case SessionFailure::Kind::Reply:
            break;
    }
    const int code = f.reply.code;
    if (code == 421) {
        // "Service not available, closing transmission channel": the site asks us to back off.
        v.throttleDestination = true;
        v.tryNextHost = beforeTransaction(f.stage);
        return v;
    }
    if (f.stage == Stage::Greeting) {
        v.tryNextHost = true;
        return v;
    }
    if (f.stage == Stage::Auth || f.stage == Stage::StartTls) {
        v.tryNextHost = f.stage == Stage::StartTls;
        return v;
    }
    if (code >= 500 && code < 600) {
        v.kind = Kind::Bounced;
        return v;
    }
    v.tryNextHost = f.stage == Stage::Helo;
    return v;
}

std::string describe(const SessionFailure& f) {
    if (f.kind == SessionFailure::Kind::Reply) return f.reply.summary();
    std::string s = std::string(stageName(f.stage)) + ": " + f.detail;
    if (s.size() > 512) s.resize(512);
    return s;
}

}  // namespace sc::delivery::smtp
