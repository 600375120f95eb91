#pragma once
// The send APIs: /email/send, /email/sendtemplate and /smsapi/send with every SendCloud path
// that reaches them (docs/api.md §1-§6), plus /healthz and /readyz.
// Each request is parsed, authenticated, validated and, on success, queued durably; the 200 goes
// out only after the store has committed every recipient row.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "api/admission.h"
#include "api/api_error.h"
#include "api/ids.h"
#include "api/quota_reservation.h"
#include "api/send_validation.h"
#include "api/sms_composer.h"
#include "api/wire_compat.h"
#include "audit/audit_recorder.h"
#include "auth/credential_verifier.h"
#include "auth/lockout.h"
#include "common/clock.h"
#include "common/log_throttle.h"
#include "domain/phone_number.h"
#include "http/request_params.h"
#include "http/router.h"
#include "policy/daily_quota.h"
#include "policy/rate_limiter.h"
#include "store/message_intake.h"
#include "store/template_store.h"

namespace sc::api {

struct SendLimits {
    http::ParseLimits parse;
    size_t maxRecipients = 100;
    size_t maxContentBytes = 10u << 20;  // html+plain together; attachments together
    size_t maxSmsCharacters = 1000;
    // Authentication-failure lines written to the log per second (0: every one).
    uint32_t authFailureLogLinesPerSecond = 20;
};

struct SendApiDeps {
    const auth::CredentialVerifier& verifier;
    store::MessageIntake& messages;
    IdGenerator& ids;
    const domain::PhoneNumberValidator& phones;
    const Clock& clock;
    auth::LockoutTracker& lockout;
    policy::RateLimiter& rateLimiter;
    policy::DailyQuota& quota;
    audit::AuditRecorder& audit;
    store::TemplateStore& templates;
};

// A request that passed the send paths' admission (admission.h), for the read APIs that share it
// (status_handlers.h).
struct AuthenticatedRequest {
    http::FormData form;
    auth::AuthContext ctx;
};

class SendApi {
public:
    SendApi(SendApiDeps deps, SendLimits limits);

    // The send paths' authentication for another API's request: the refusal, answered in
    // `route.shape`, is ready to send. `finishAuthenticated` adds what every answer to an
    // admitted request carries (the log user, the Sunset header of a key in its grace period).
    Result<AuthenticatedRequest, http::Response> authenticate(const SendRoute& route,
                                                              const http::Request& req) const;
    static void finishAuthenticated(const AuthenticatedRequest& a, http::Response& resp);

    void registerRoutes(http::Router& router);

    void sendEmail(const SendRoute& route, const http::Request& req, http::Responder reply) const;
    void sendSms(const SendRoute& route, const http::Request& req, http::Responder reply) const;
    void sendEmail(const http::Request& req, http::Responder reply) const {
        sendEmail(SendRoute{}, req, std::move(reply));
    }
    void sendSms(const http::Request& req, http::Responder reply) const {
        sendSms(SendRoute{Endpoint::SmsSend, ResponseShape::V2}, req, std::move(reply));
    }
    void healthz(const http::Request& req, http::Responder reply) const;
    void readyz(const http::Request& req, http::Responder reply) const;

private:
    struct EmailOptions;
    struct ComposedEmail;
    struct PendingSend;
    // What every send shares once admitted: the admission, the reply channel and the
    // sendRequestId if any. Answers go through answer() and refuse() (Sunset header, log user,
    // usage), with no per-request std::function of their own.
    struct Exchange {
        Admitted admitted;
        http::Responder reply;
        std::optional<std::string> requestId;
    };

    // The steps every send takes before its content: admission, then the sendRequestId.
    // nullopt when the request has been answered already (refused, or a repeat of an earlier
    // sendRequestId).
    std::optional<Exchange> open(const SendRoute& route, const http::Request& req,
                                 http::Responder reply) const;
    void answer(const Exchange& x, http::Response resp) const;
    // A refusal after admission: counted as a request, answered in the route's shape.
    void refuse(const Exchange& x, const ApiError& e) const;
    // sendRequestId: the first request's answer when this one repeats it within the hour.
    Result<std::optional<std::string>, ApiError> sendRequestIdOf(const Admitted& a) const;
    std::optional<http::Response> priorAnswer(const Admitted& a,
                                              const std::string& requestId) const;

    // The email send's steps, in order.
    Result<EmailOptions, ApiError> emailOptions(const Admitted& a) const;
    Result<ComposedEmail, ApiError> composeEmail(const Admitted& a,
                                                 const EmailOptions& options) const;
    // A template send's parameters with the template's subject, html and plain put in.
    Result<http::FormData, ApiError> withEmailTemplate(const Admitted& a,
                                                       const EmailOptions& options) const;
    void queueEmail(const Exchange& x, ComposedEmail email, bool respEmailId,
                    QuotaReservation reservation) const;
    void queueSms(const Exchange& x, ValidatedSms sms, QuotaReservation reservation) const;

    // `count` recipients of the user's daily quota, or the 429 that says it would be exceeded.
    Result<QuotaReservation, http::Response> reserveQuota(const Admitted& a, int64_t count) const;
    store::NewMessage newMessage(const Admitted& a, store::UserKind kind) const;
    // Enqueues and answers once the commit is done (or a repeated sendRequestId is found).
    // `infoJson` is the answer's info object (kept for a repeated sendRequestId) and `ok` the
    // whole answer, both made here on the I/O thread: the store runs the callback on its one
    // writer thread, the serial part of every send, which then only hands `ok` over.
    void queue(const Exchange& x, store::NewMessage msg, QuotaReservation reservation,
               std::string infoJson, http::Response ok) const;
    // On the writer thread: the enqueue's outcome, answered, and the reservation settled.
    void settle(PendingSend& pending, const Result<Ok, store::StoreError>& outcome) const;

    SendApiDeps deps_;
    SendLimits limits_;
    Admission admission_;
    SmsComposer smsComposer_;
    // Sends the store could not take (disk full, I/O errors): one line a second, with a count.
    // A full disk refuses every send, and a line per refusal would fill the log's disk too,
    // often the same one (docs/operations.md, "Disk full").
    mutable LogThrottle storeFailureLog_;
};

// The error body of the router's own errors (404, 405, 500).
http::Response routerError(int status, std::string code, std::string hint);

}  // namespace sc::api
