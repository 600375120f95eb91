#include "test_controls/test_controls.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sc::test_controls {

bool compiledIn() {
#ifdef SC_TEST_CONTROLS
    return true;
#else
    return false;
#endif
}

#ifdef SC_TEST_CONTROLS
namespace {

constexpr int64_t kMaxAdvanceMs = 30LL * 24 * 3600 * 1000;

http::Response jsonReply(int status, const std::string& body) {
    http::Response r;
    r.status = status;
    r.body = body;
    r.headers.push_back({"cache-control", "no-store"});
    return r;
}

// The query is exactly "ms=<digits>": nothing else is accepted, so there is nothing to decode.
bool parseMs(std::string_view query, int64_t& ms) {
    constexpr std::string_view kKey = "ms=";
    if (query.substr(0, kKey.size()) != kKey) return false;
    std::string_view digits = query.substr(kKey.size());
    if (digits.empty() || digits.size() > 12) return false;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), ms);
    return ec == std::errc() && end == digits.data() + digits.size() && ms > 0 &&
           ms <= kMaxAdvanceMs;
}

// "name=digits&name=digits": the only form the fault control takes.
bool parseCounts(std::string_view query, std::vector<std::pair<std::string, int64_t>>& out) {
    while (!query.empty()) {
        auto amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        auto eq = pair.find('=');
        if (eq == std::string_view::npos || out.size() >= 8) return false;
        std::string_view digits = pair.substr(eq + 1);
        int64_t v = 0;
        if (digits.empty() || digits.size() > 9) return false;
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
        if (ec != std::errc() || end != digits.data() + digits.size()) return false;
        out.emplace_back(std::string(pair.substr(0, eq)), v);
    }
    return true;
}

constexpr const char* kSendPaths[] = {
    "/email/send",
    "/mail/send",
    "/api/mail/send",
    "/apiv2/mail/send",
    "/webapi/mail.send.json",
    "/email/sendtemplate",
    "/api/mail/sendtemplate",
    "/apiv2/mail/sendtemplate",
    "/webapi/mail.send_template.json",
    "/smsapi/send",
    "/api/sms/send",
};

}  // namespace
#endif

void TestControls::registerRoutes([[maybe_unused]] http::Router& router) {
#ifdef SC_TEST_CONTROLS
    router.add({http::Method::Post}, "/test/clock/advance",
               [this](const http::Request& req, http::Responder reply) {
                   advanceClock(req, std::move(reply));
               });
    router.add({http::Method::Post, http::Method::Get}, "/test/faults",
               [this](const http::Request& req, http::Responder reply) {
                   setFaults(req, std::move(reply));
               });
    const http::ErrorResponder errors = router.errors();
    for (const char* path : kSendPaths) {
        router.wrap(path, [this, errors](http::Handler inner) {
            return withFaults(std::move(inner), errors);
        });
    }
    spdlog::warn(
        "test controls are ON: POST /test/clock/advance moves the server's clock, "
        "/test/faults injects faults into sends");
#endif
}

#ifdef SC_TEST_CONTROLS
void TestControls::advanceClock(const http::Request& req, http::Responder reply) {
    int64_t ms = 0;
    if (!parseMs(req.query, ms)) {
        reply(jsonReply(400, R"({"result":false,"message":"use ?ms=N, 1..2592000000"})"));
        return;
    }
    clock_.advance(ms);
    spdlog::warn("test controls: clock advanced by {} ms (offset now {} ms)", ms,
                 clock_.offsetMillis());
    reply(jsonReply(
        200, "{\"result\":true,\"offsetMs\":" + std::to_string(clock_.offsetMillis()) + "}"));
}

void TestControls::setFaults(const http::Request& req, http::Responder reply) {
    std::vector<std::pair<std::string, int64_t>> counts;
    if (!parseCounts(req.query, counts)) {
        reply(jsonReply(
            400,
            R"({"result":false,"message":"use ?fail=N&status=503|429&retryAfter=S or ?drop=N"})"));
        return;
    }
    std::lock_guard lk(faultsMu_);
    for (const auto& [name, v] : counts) {
        if (name == "fail")
            faults_.fail = v;
        else if (name == "status" && (v == 503 || v == 429))
            faults_.status = v;
        else if (name == "retryAfter")
            faults_.retryAfter = v;
        else if (name == "drop")
            faults_.drop = v;
        else {
            reply(jsonReply(400,
                            R"({"result":false,"message":"unknown or invalid fault parameter"})"));
            return;
        }
    }
    reply(jsonReply(200, "{\"result\":true,\"fail\":" + std::to_string(faults_.fail) +
                             ",\"drop\":" + std::to_string(faults_.drop) +
                             ",\"failed\":" + std::to_string(faults_.failed) +
                             ",\"dropped\":" + std::to_string(faults_.dropped) + "}"));
}

TestControls::Fault TestControls::takeFault() {
    std::lock_guard lk(faultsMu_);
    Fault f;
    if (faults_.fail > 0) {
        --faults_.fail;
        ++faults_.failed;
        f.failStatus = faults_.status;
        f.retryAfter = faults_.retryAfter;
    } else if (faults_.drop > 0) {
        --faults_.drop;
        ++faults_.dropped;
        f.drop = true;
    }
    return f;
}

http::Handler TestControls::withFaults(http::Handler inner, http::ErrorResponder errors) {
    return [this, errors = std::move(errors), inner = std::move(inner)](const http::Request& req,
                                                                        http::Responder reply) {
        const Fault fault = takeFault();
        if (fault.failStatus != 0) {
            http::Response r = fault.failStatus == 429
                                   ? errors(429, "limit.rate_exceeded",
                                            "test controls: this request was refused on purpose")
                                   : errors(503, "store.unavailable",
                                            "test controls: this request was refused on purpose");
            r.headers.push_back({"retry-after", std::to_string(fault.retryAfter)});
            reply(std::move(r));
            return;
        }
        if (!fault.drop) {
            inner(req, std::move(reply));
            return;
        }
        inner(req, http::Responder([reply](http::Response r) {
                  r.dropConnection = true;
                  reply(std::move(r));
              }));
    };
}
#endif

}  // namespace sc::test_controls
