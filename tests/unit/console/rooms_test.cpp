// The console's rooms as the server wires them (the management API's rooms and the messages
// room on one http::Router): every route behind the one SessionGuard, path captures checked by
// the router, and the messages room's query.

#include "console/api_room.h"
#include "console/console_errors.h"
#include "console/messages_api.h"
#include "console_fixture.h"

namespace sc::console::testing {
namespace {

using M = http::Method;

class RoomsTest : public ConsoleTest {
protected:
    RoomsTest()
        : router_([](int status, std::string code, std::string hint) {
              return api::errorResponse(
                  api::ApiError{status, std::move(code), std::move(hint), {}});
          }),
          messages_(clock_, backend_.messages(), api_->sessionGuard()) {
        api_->registerRoutes(router_);
        messages_.registerRoutes(router_);
    }

    void route(const http::Request& req, http::Responder reply) override {
        router_.dispatch(req, std::move(reply));
    }

    http::Router router_;
    MessagesApi messages_;
};

struct Endpoint {
    M method;
    const char* path;
};

// Every console route but the login, one method each way it can be called.
const std::vector<Endpoint> kEndpoints = {
    {M::Post, "/console/api/logout"},
    {M::Get, "/console/api/session"},
    {M::Get, "/console/api/email-users"},
    {M::Post, "/console/api/email-users"},
    {M::Get, "/console/api/sms-users/alice_sms"},
    {M::Patch, "/console/api/sms-users/alice_sms"},
    {M::Delete, "/console/api/email-users/alice_mail"},
    {M::Post, "/console/api/email-users/alice_mail/key"},
    {M::Post, "/console/api/sms-users/alice_sms/reset"},
    {M::Get, "/console/api/auth-events"},
    {M::Get, "/console/api/usage"},
    {M::Get, "/console/api/templates"},
    {M::Post, "/console/api/templates"},
    {M::Patch, "/console/api/templates/welcome"},
    {M::Delete, "/console/api/sms-templates/1"},
    {M::Get, "/console/api/messages"},
};

TEST_F(RoomsTest, EveryRouteNeedsASessionAndEveryChangeItsCsrfToken) {
    Browser a = loginA();
    for (const auto& e : kEndpoints) {
        Reply anonymous = call(e.method, e.path, R"({"name":"x"})");
        EXPECT_EQ(anonymous.status, 401) << e.path;
        EXPECT_EQ(anonymous.code(), "console.session_required") << e.path;
        EXPECT_EQ(anonymous.header("cache-control"), "no-store") << e.path;
        if (!isStateChanging(e.method)) continue;
        Reply forged = as(a, e.method, e.path, R"({"name":"x"})", "not-the-token");
        EXPECT_EQ(forged.status, 403) << e.path;
        EXPECT_EQ(forged.code(), "console.csrf_failed") << e.path;
        Reply tokenless = as(a, e.method, e.path, R"({"name":"x"})", "");
        EXPECT_EQ(tokenless.code(), "console.csrf_failed") << e.path;
    }
    // The logout above was refused: the session still works.
    EXPECT_EQ(as(a, M::Get, "/console/api/session").status, 200);
}

TEST_F(RoomsTest, TheRoutersOwnErrorsHaveTheConsolesShape) {
    Browser a = loginA();
    Reply missing = as(a, M::Get, "/console/api/nothing/here");
    EXPECT_EQ(missing.status, 404);
    EXPECT_EQ(missing.code(), "request.not_found");
    EXPECT_EQ(missing.header("cache-control"), "no-store");
    Reply wrongMethod = as(a, M::Put, "/console/api/messages", "{}");
    EXPECT_EQ(wrongMethod.status, 405);
    EXPECT_EQ(wrongMethod.header("allow"), "GET");
    EXPECT_EQ(wrongMethod.header("cache-control"), "no-store");
}

TEST_F(RoomsTest, UserNamesInThePathAreDecodedAndBounded) {
    Browser a = loginA();
    createUser(a, "email-users", "alice_mail");
    EXPECT_EQ(as(a, M::Get, "/console/api/email-users/alice%5Fmail").status, 200);
    // A capture holding a '/' or longer than the router's cap matches no route at all.
    const std::vector<std::string> paths = {
        "/console/api/email-users/alice%2Fmail", "/console/api/email-users/alice%2fmail/key",
        std::string("/console/api/email-users/") + std::string(http::kMaxPathParamBytes + 1, 'a'),
        "/console/api/email-users/%zz"};
    for (const auto& path : paths) {
        Reply r = as(a, M::Get, path);
        EXPECT_EQ(r.status, 404) << path;
        EXPECT_EQ(r.code(), "request.not_found") << path;
    }
    // Within the cap, a name no user can have is the room's own "no such user".
    Reply tooLong = as(a, M::Get, std::string("/console/api/email-users/") + std::string(200, 'a'));
    EXPECT_EQ(tooLong.status, 404);
    EXPECT_EQ(tooLong.code(), "console.not_found");
}

TEST_F(RoomsTest, MessagesTakeOnlyAPositiveLimit) {
    Browser a = loginA();
    Reply r = as(a, M::Get, "/console/api/messages?limit=10");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_TRUE(r.info()["messages"].empty());
    EXPECT_TRUE(r.info().contains("serverTime"));
    for (const char* query : {"limit=0", "limit=-1", "limit=ten", "other=1", "limit=1&limit=2"}) {
        Reply bad = as(a, M::Get, std::string("/console/api/messages?") + query);
        EXPECT_EQ(bad.status, 400) << query;
        EXPECT_EQ(bad.code(), "console.bad_request") << query;
    }
}

}  // namespace
}  // namespace sc::console::testing
