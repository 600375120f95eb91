#include "http/router.h"

#include <gtest/gtest.h>

#include <optional>

namespace sc::http {
namespace {

Response plainError(int status, std::string code, std::string) {
    Response r;
    r.status = status;
    r.body = code;
    return r;
}

TEST(RouterTest, DispatchesByPathAndMethod) {
    Router router(plainError);
    router.add({Method::Get, Method::Post}, "/email/send", [](const Request&, Responder reply) {
        Response r;
        r.body = "sent";
        reply(r);
    });
    std::optional<Response> got;
    auto capture = [&got](Response r) { got = std::move(r); };

    Request req;
    req.method = Method::Post;
    req.path = "/email/send";
    router.dispatch(req, Responder(capture));
    ASSERT_TRUE(got);
    EXPECT_EQ(got->status, 200);
    EXPECT_EQ(got->body, "sent");

    req.path = "/nope";
    router.dispatch(req, Responder(capture));
    EXPECT_EQ(got->status, 404);

    req.path = "/email/send";
    req.method = Method::Delete;
    router.dispatch(req, Responder(capture));
    EXPECT_EQ(got->status, 405);
    ASSERT_FALSE(got->headers.empty());
    EXPECT_EQ(got->headers[0].value, "GET, POST");
}

TEST(RouterTest, AHandlerThatForgetsToAnswerYieldsA500) {
    Router router(plainError);
    router.add({Method::Get}, "/lost", [](const Request&, Responder) {});
    std::optional<Response> got;
    Request req;
    req.path = "/lost";
    router.dispatch(req, Responder([&got](Response r) { got = std::move(r); }));
    ASSERT_TRUE(got);
    EXPECT_EQ(got->status, 500);
}

TEST(RouterTest, OnlyTheFirstAnswerCounts) {
    int calls = 0;
    Responder reply([&calls](Response) { ++calls; });
    reply(Response{});
    reply(Response{});
    EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace sc::http
