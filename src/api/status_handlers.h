#pragma once
// The status APIs (docs/api.md "Delivery status"): /email/status and /smsapi/status (one entry
// per asked id), SendCloud's /apiv2/data/emailStatus and /smsapi/status/query. They
// authenticate exactly as the send paths do (SendApi::authenticate) and read recipients through
// a lookup function, so that tests can use a store in a temporary directory. A recipient of
// another account, or of the other channel, reads exactly as an unknown id: the answer must not
// tell whether an id exists.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "api/send_handlers.h"
#include "common/result.h"
#include "http/router.h"
#include "store/queue_store.h"

namespace sc::api {

using StatusAuthenticator = std::function<Result<AuthenticatedRequest, http::Response>(
    const SendRoute&, const http::Request&)>;
using StatusLookup = std::function<Result<std::vector<store::RecipientStatus>, store::StoreError>(
    const std::vector<std::string>&)>;

struct StatusLimits {
    size_t maxIds = 100;      // ids per request
    size_t maxIdLength = 64;  // characters per id (ours are far shorter)
    size_t maxPageSize = 100;
};

class StatusApi {
public:
    StatusApi(StatusAuthenticator authenticate, StatusLookup lookup, StatusLimits limits = {});

    void registerRoutes(http::Router& router);

    void emailStatus(const http::Request& req, http::Responder reply) const;
    void smsStatus(const http::Request& req, http::Responder reply) const;
    void emailStatusQuery(const http::Request& req, http::Responder reply) const;
    void smsStatusQuery(const http::Request& req, http::Responder reply) const;

    // What a status request asks for: the ids, and for SendCloud's queries the page of them.
    struct Query {
        std::vector<std::string> ids;
        size_t start = 0;
        size_t limit = 0;
    };

private:
    enum class Form { PerId, SendCloudEmail, SendCloudSms };
    void answer(Form form, bool sms, const http::Request& req, http::Responder& reply) const;
    Result<Query, ApiError> readQuery(Form form, bool sms, const http::ParamMap& params) const;

    StatusAuthenticator authenticate_;
    StatusLookup lookup_;
    StatusLimits limits_;
};

// A time as SendCloud writes it: "yyyy-MM-dd HH:mm:ss", in UTC.
std::string formatStatusTime(int64_t epochMs);

}  // namespace sc::api
