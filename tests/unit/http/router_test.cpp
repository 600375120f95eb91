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

// ---- path templates ----------------------------------------------------------------------------

// Records which handler answered and what it captured.
struct TemplateProbe {
    std::optional<Response> got;
    Responder responder() {
        return Responder([this](Response r) { got = std::move(r); });
    }
};

TemplateHandler echo(std::string label, std::vector<std::string> names) {
    return [label, names](const Request&, const PathParams& params, Responder reply) {
        Response r;
        r.body = label;
        for (const auto& n : names) r.body += "|" + n + "=" + std::string(params.get(n));
        reply(std::move(r));
    };
}

Response dispatchTo(const Router& router, Method method, std::string path) {
    TemplateProbe probe;
    Request req;
    req.method = method;
    req.path = std::move(path);
    router.dispatch(req, probe.responder());
    return probe.got.value_or(Response{});
}

Router consoleLikeRouter() {
    Router router(plainError);
    router.addTemplate({Method::Get, Method::Post}, "/api/users", echo("users", {}));
    router.addTemplate({Method::Get, Method::Patch, Method::Delete}, "/api/users/{name}",
                       echo("user", {"name"}));
    router.addTemplate({Method::Post}, "/api/users/{name}/key", echo("key", {"name"}));
    router.addTemplate({Method::Post}, "/api/{kind}/{name}/rotate",
                       echo("rotate", {"kind", "name"}));
    return router;
}

TEST(RouterTemplateTest, CapturesNamedSegments) {
    Router router = consoleLikeRouter();
    EXPECT_EQ(dispatchTo(router, Method::Get, "/api/users").body, "users");
    EXPECT_EQ(dispatchTo(router, Method::Get, "/api/users/alice").body, "user|name=alice");
    EXPECT_EQ(dispatchTo(router, Method::Post, "/api/users/alice/key").body, "key|name=alice");
    EXPECT_EQ(dispatchTo(router, Method::Post, "/api/domains/acme.io/rotate").body,
              "rotate|kind=domains|name=acme.io");
    // A name the template does not capture reads as empty.
    router.addTemplate({Method::Get}, "/x/{a}", echo("x", {"b"}));
    EXPECT_EQ(dispatchTo(router, Method::Get, "/x/1").body, "x|b=");
}

TEST(RouterTemplateTest, CapturesArePercentDecodedAndOneTrailingSlashIsIgnored) {
    Router router = consoleLikeRouter();
    EXPECT_EQ(dispatchTo(router, Method::Get, "/api/users/al%69ce%20b").body, "user|name=alice b");
    EXPECT_EQ(dispatchTo(router, Method::Get, "/api/users/a+b").body, "user|name=a+b");
    EXPECT_EQ(dispatchTo(router, Method::Get, "/api/users/").body, "users");
    EXPECT_EQ(dispatchTo(router, Method::Get, "/api/users/alice/").body, "user|name=alice");
    EXPECT_EQ(dispatchTo(router, Method::Get, "/api/users//").status, 404);
    // Literal segments are compared as sent.
    EXPECT_EQ(dispatchTo(router, Method::Get, "/api/user%73").status, 404);
}

TEST(RouterTemplateTest, RefusesEmptySlashedOverlongAndMalformedCaptures) {
    Router router = consoleLikeRouter();
    const std::string overlong(kMaxPathParamBytes + 1, 'a');
    const std::vector<std::string> paths = {"/api/users//key",
                                            "/api/users/a%2Fb",
                                            "/api/users/a%2fb/key",
                                            "/api/users/%zz",
                                            "/api/users/%4",
                                            std::string("/api/users/%00") + overlong.substr(1),
                                            std::string("/api/users/") + overlong,
                                            "/api/users/a/b/c/d",
                                            std::string("/api") + std::string(40, '/') + "x"};
    for (const auto& path : paths) {
        Response r = dispatchTo(router, Method::Get, path);
        EXPECT_EQ(r.status, 404) << path;
        EXPECT_EQ(r.body, "request.not_found") << path;
    }
    // Exactly at the cap is still a name.
    const std::string longest(kMaxPathParamBytes, 'a');
    EXPECT_EQ(dispatchTo(router, Method::Get, std::string("/api/users/") + longest).body,
              std::string("user|name=") + longest);
    const std::string rest = longest.substr(1);
    EXPECT_EQ(dispatchTo(router, Method::Get, std::string("/api/users/%41") + rest).body,
              std::string("user|name=A") + rest);
}

TEST(RouterTemplateTest, AMatchingPathWithTheWrongMethodIsA405NamingTheMethods) {
    Router router = consoleLikeRouter();
    Response put = dispatchTo(router, Method::Put, "/api/users/alice");
    EXPECT_EQ(put.status, 405);
    ASSERT_EQ(put.headers.size(), 1u);
    EXPECT_EQ(put.headers[0].name, "allow");
    EXPECT_EQ(put.headers[0].value, "GET, PATCH, DELETE");
    EXPECT_EQ(dispatchTo(router, Method::Delete, "/api/users").headers.at(0).value, "GET, POST");
    // Two templates of the same shape: the 405 names the methods of both.
    router.addTemplate({Method::Put}, "/api/{kind}/{name}", echo("put", {"kind"}));
    EXPECT_EQ(dispatchTo(router, Method::Put, "/api/users/alice").body, "put|kind=users");
    Response head = dispatchTo(router, Method::Head, "/api/users/alice");
    EXPECT_EQ(head.status, 405);
    EXPECT_EQ(head.headers.at(0).value, "GET, PATCH, DELETE, PUT");
    // A capture the template refuses is a 404, not a 405.
    EXPECT_EQ(dispatchTo(router, Method::Put, "/api/users/a%2Fb").status, 404);
}

TEST(RouterTemplateTest, ExactRoutesComeFirstAndPrefixesLast) {
    Router router = consoleLikeRouter();
    router.add({Method::Get}, "/api/users/me", [](const Request&, Responder reply) {
        Response r;
        r.body = "exact";
        reply(std::move(r));
    });
    router.addPrefix("/api/", [](const Request&, Responder reply) {
        Response r;
        r.body = "prefix";
        reply(std::move(r));
    });
    EXPECT_EQ(dispatchTo(router, Method::Get, "/api/users/me").body, "exact");
    EXPECT_EQ(dispatchTo(router, Method::Get, "/api/users/you").body, "user|name=you");
    EXPECT_EQ(dispatchTo(router, Method::Get, "/api/other/thing/here").body, "prefix");
    // The exact route's methods hold even though a template would take the method.
    EXPECT_EQ(dispatchTo(router, Method::Delete, "/api/users/me").status, 405);
}

TEST(RouterTemplateTest, ErrorsUnderAPrefixComeFromItsResponder) {
    Router router = consoleLikeRouter();
    router.setErrorsUnder("/api/", [](int status, std::string code, std::string) {
        Response r;
        r.status = status;
        r.body = "scoped:" + code;
        return r;
    });
    EXPECT_EQ(dispatchTo(router, Method::Get, "/api/nothing").body, "scoped:request.not_found");
    EXPECT_EQ(dispatchTo(router, Method::Put, "/api/users").body,
              "scoped:request.method_not_allowed");
    EXPECT_EQ(dispatchTo(router, Method::Get, "/elsewhere").body, "request.not_found");
}

}  // namespace
}  // namespace sc::http
