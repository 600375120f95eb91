#pragma once
// The send APIs: /email/send and /smsapi/send (DESIGN §1.2-1.4), plus /healthz and /readyz.
// Each request is parsed, authenticated, validated and, on success, queued durably; the 200 goes
// out only after the store has committed every recipient row.

#include <cstddef>

#include "api/api_error.h"
#include "api/ids.h"
#include "audit/audit_recorder.h"
#include "auth/credential_verifier.h"
#include "auth/lockout.h"
#include "common/clock.h"
#include "domain/phone_number.h"
#include "http/request_params.h"
#include "http/router.h"
#include "policy/daily_quota.h"
#include "policy/rate_limiter.h"
#include "store/message_store.h"

namespace sc::api {

struct SendLimits {
    http::ParseLimits parse;
    size_t maxRecipients = 100;
    size_t maxContentBytes = 10u << 20;  // html+plain together; attachments together
    size_t maxSmsCharacters = 1000;
};

struct SendApiDeps {
    const auth::CredentialVerifier& verifier;
    store::MessageStore& messages;
    IdGenerator& ids;
    const domain::PhoneNumberValidator& phones;
    const Clock& clock;
    auth::LockoutTracker& lockout;
    policy::RateLimiter& rateLimiter;
    policy::DailyQuota& quota;
    audit::AuditRecorder& audit;
};

class SendApi {
public:
    SendApi(SendApiDeps deps, SendLimits limits);

    void registerRoutes(http::Router& router);

    void sendEmail(const http::Request& req, http::Responder reply) const;
    void sendSms(const http::Request& req, http::Responder reply) const;
    void healthz(const http::Request& req, http::Responder reply) const;
    void readyz(const http::Request& req, http::Responder reply) const;

private:
    struct Admission;
    // Parameters, credentials, lockout, IP allowlist and rate limit: everything before content.
    Result<Admission, http::Response> admit(auth::Api api, const http::Request& req) const;
    void finish(const Admission& a, http::Response& resp) const;

    SendApiDeps deps_;
    SendLimits limits_;
};

// The error body of the router's own errors (404, 405, 500).
http::Response routerError(int status, std::string code, std::string hint);

}  // namespace sc::api
