#include "test_controls/test_controls.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <string>
#include <string_view>

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

}  // namespace
#endif

void TestControls::registerRoutes([[maybe_unused]] http::Router& router) {
#ifdef SC_TEST_CONTROLS
    router.add(
        {http::Method::Post}, "/test/clock/advance",
        [this](const http::Request& req, http::Responder reply) {
            int64_t ms = 0;
            if (!parseMs(req.query, ms)) {
                reply(jsonReply(400, R"({"result":false,"message":"use ?ms=N, 1..2592000000"})"));
                return;
            }
            clock_.advance(ms);
            spdlog::warn("test controls: clock advanced by {} ms (offset now {} ms)", ms,
                         clock_.offsetMillis());
            reply(jsonReply(200, "{\"result\":true,\"offsetMs\":" +
                                     std::to_string(clock_.offsetMillis()) + "}"));
        });
    spdlog::warn("test controls are ON: POST /test/clock/advance moves the server's clock");
#endif
}

}  // namespace sc::test_controls
