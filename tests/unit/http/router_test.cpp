#include "http/router.h"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

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

// A channel the test owns, as the server owns one per connection.
class RecordingChannel final : public ReplyChannel {
public:
    RecordingChannel() { retain(); }
    std::vector<Response> got;
    bool destroyed = false;

protected:
    void deliver(Response r) override { got.push_back(std::move(r)); }
    void destroy() override { destroyed = true; }
};

TEST(ResponderTest, AChannelTakesOneAnswerPerRequestAndServesTheNext) {
    RecordingChannel channel;
    {
        Responder reply(channel);
        Responder copy = reply;
        EXPECT_FALSE(channel.soleOwner());
        Response first;
        first.body = "first";
        copy(first);
        reply(Response{});  // a second answer is dropped
    }
    ASSERT_EQ(channel.got.size(), 1u);
    EXPECT_EQ(channel.got[0].body, "first");
    EXPECT_TRUE(channel.soleOwner());

    channel.rearm();
    { Responder unanswered(channel); }
    ASSERT_EQ(channel.got.size(), 2u);
    EXPECT_EQ(channel.got[1].status, 500);

    channel.release();
    EXPECT_TRUE(channel.destroyed);
}

TEST(ResponderTest, AssignmentsMoveTheReferencesWithThem) {
    RecordingChannel a;
    RecordingChannel b;
    {
        Responder toA(a);
        Responder toB(b);
        Responder moved(std::move(toA));
        toA = toB;               // toA now answers b
        toB = std::move(moved);  // toB now answers a; b keeps toA's reference
        Responder& same = toB;
        toB = same;  // self-assignment keeps the reference
        toA(Response{});
        EXPECT_EQ(b.got.size(), 1u);
        EXPECT_TRUE(a.got.empty());
    }
    // The last reference to a went unanswered: its client gets a 500.
    ASSERT_EQ(a.got.size(), 1u);
    EXPECT_EQ(a.got[0].status, 500);
    EXPECT_EQ(b.got.size(), 1u);
    EXPECT_TRUE(a.soleOwner());
    EXPECT_TRUE(b.soleOwner());
    a.release();
    b.release();
}

}  // namespace
}  // namespace sc::http
