#pragma once
// Admission: everything the send paths (and the status paths, through SendApi::authenticate) do
// to a request before they look at its content, as named steps in a fixed order: parse the
// parameters, refuse a locked-out address, verify the credentials (docs/api.md §2: a failure
// counts towards the lockout, is audited and, throttled, logged), then the IP allowlist and the
// rate limit. An admitted request leaves one "success" row in the authentication log; a refused
// one leaves its answer, ready to send in the route's shape.

#include <cstdint>
#include <optional>
#include <string>

#include "api/api_error.h"
#include "api/wire_compat.h"
#include "audit/audit_recorder.h"
#include "auth/credential_verifier.h"
#include "auth/lockout.h"
#include "common/clock.h"
#include "common/log_throttle.h"
#include "common/result.h"
#include "http/request_params.h"
#include "policy/rate_limiter.h"

namespace sc::api {

// Which handler a path reaches and how it answers (SendCloud's paths, wire_compat.h).
struct SendRoute {
    Endpoint endpoint = Endpoint::EmailSend;
    ResponseShape shape = ResponseShape::V2;
};

// A request that passed admission: its parameters (v1 aliases renamed), who sent it, and the
// route it came by.
struct Admitted {
    http::FormData form;
    auth::AuthContext ctx;
    SendRoute route;
};

struct AdmissionDeps {
    const auth::CredentialVerifier& verifier;
    const Clock& clock;
    auth::LockoutTracker& lockout;
    policy::RateLimiter& rateLimiter;
    audit::AuditRecorder& audit;
};

// What every answer to an admitted request carries: the user for the access log, and the Sunset
// header while the request's key is in its grace period.
void markAdmitted(const std::string& userName, std::optional<int64_t> keySunsetAtMs,
                  http::Response& resp);
inline void markAdmitted(const auth::AuthContext& ctx, http::Response& resp) {
    markAdmitted(ctx.userName, ctx.keySunsetAtMs, resp);
}

class Admission {
public:
    // `authFailureLogLinesPerSecond`: authentication-failure lines written to the log per
    // second (0: every one).
    Admission(AdmissionDeps deps, http::ParseLimits parse, uint32_t authFailureLogLinesPerSecond);

    // The request admitted, or the refusal to send (its logUser set; once the caller is known,
    // with the Sunset header of a key in its grace period).
    Result<Admitted, http::Response> admit(const SendRoute& route, const http::Request& req) const;

private:
    struct Attempt;
    struct Parsed;

    Result<Parsed, http::Response> parseParams(const Attempt& at) const;
    std::optional<http::Response> refuseLockedAddress(const Attempt& at) const;
    Result<auth::AuthContext, auth::AuthFailure> verify(const Attempt& at,
                                                        const Parsed& parsed) const;
    http::Response refuseFailure(Attempt& at, const auth::AuthFailure& failure) const;
    // The failure's answer, or the 429 when this failure locked the address or the user.
    ApiError countTowardsLockout(Attempt& at, const auth::AuthFailure& failure,
                                 const std::string& user) const;
    void logFailure(const Attempt& at, const auth::AuthFailure& failure, const std::string& user,
                    const ApiError& answer) const;
    // The IP allowlist and the rate limit; the refusal is audited and counted.
    std::optional<http::Response> refuseByPolicy(Attempt& at, const Admitted& admitted) const;
    http::Response refuseAuthenticated(Attempt& at, const Admitted& admitted, ApiError error,
                                       store::AuthOutcome outcome, audit::UsageIncrement inc) const;

    AdmissionDeps deps_;
    http::ParseLimits parse_;
    // Authentication failures are written to the log at most this often: a client can cause
    // one per request. Every failure is still recorded in the authentication log (audit).
    mutable LogThrottle failureLog_;
    // Requests refused because their address is locked: one line a second, with a count.
    mutable LogThrottle lockedLog_;
};

}  // namespace sc::api
