// appendResponseHead() must write exactly what Beast's serializer wrote for the message the server
// used to build, so these tests build that message and compare the bytes.
#include "http/response_head.h"

#include <utility>  // before Asio's headers (docs/architecture.md, "Library pitfalls")

#include <gtest/gtest.h>
#include <boost/beast/http.hpp>

#include <sstream>
#include <string>
#include <vector>

namespace sc::http {
namespace {

namespace bhttp = boost::beast::http;

std::string beastBytes(const Response& r, unsigned version, bool keepAlive) {
    bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(r.status), version};
    res.set(bhttp::field::server, "sendcloudd");
    res.set(bhttp::field::content_type, r.contentType);
    res.set(bhttp::field::cache_control, "no-store");
    for (const auto& h : r.headers) res.set(h.name, h.value);
    res.body() = r.body;
    res.keep_alive(keepAlive);
    res.prepare_payload();
    std::ostringstream out;
    out << res;
    return out.str();
}

std::string ourBytes(const Response& r, unsigned version, bool keepAlive) {
    std::string out = "left alone:";
    EXPECT_TRUE(appendResponseHead(out, r, version, keepAlive));
    return out.substr(11) + r.body;
}

Response withBody(int status, std::string body) {
    Response r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

TEST(ResponseHeadTest, MatchesBeastForEveryVersionAndConnectionChoice) {
    for (unsigned version : {10u, 11u}) {
        for (bool keepAlive : {true, false}) {
            Response r = withBody(200, R"({"result":true,"statusCode":200})");
            EXPECT_EQ(ourBytes(r, version, keepAlive), beastBytes(r, version, keepAlive))
                << version << " " << keepAlive;
        }
    }
}

TEST(ResponseHeadTest, MatchesBeastForEveryStatusItWrites) {
    for (int status = 200; status <= 999; ++status) {
        if (status == 204 || status == 304) continue;
        Response r = withBody(status, "{}");
        ASSERT_EQ(ourBytes(r, 11, true), beastBytes(r, 11, true)) << status;
    }
}

TEST(ResponseHeadTest, MatchesBeastWithHandlerHeadersThatRepeatOrOverrideOurs) {
    Response r = withBody(429, "slow down");
    r.contentType = "  text/plain; charset=utf-8\t";  // Beast trims values
    r.headers = {{"retry-after", "3"},  {"set-cookie", "a=1"}, {"Cache-Control", "no-cache"},
                 {"set-cookie", "b=2"}, {"SERVER", " other "}, {"x-empty", "  "}};
    EXPECT_EQ(ourBytes(r, 11, false), beastBytes(r, 11, false));
    EXPECT_EQ(ourBytes(r, 10, true), beastBytes(r, 10, true));
}

TEST(ResponseHeadTest, EmptyAndLargeBodies) {
    Response empty = withBody(200, "");
    EXPECT_EQ(ourBytes(empty, 11, true), beastBytes(empty, 11, true));
    Response large = withBody(200, std::string(3 * 1024 * 1024 + 7, 'x'));
    EXPECT_EQ(ourBytes(large, 11, true), beastBytes(large, 11, true));
}

TEST(ResponseHeadTest, LeavesToBeastWhatItDoesNotWrite) {
    std::string out;
    Response r = withBody(200, "x");
    EXPECT_FALSE(appendResponseHead(out, r, 20, true));
    EXPECT_FALSE(appendResponseHead(out, r, 9, true));
    for (int status : {100, 101, 199, 204, 304, 1000, 0}) {
        EXPECT_FALSE(appendResponseHead(out, withBody(status, ""), 11, true)) << status;
    }
    for (const char* name : {"Connection", "content-length", "Transfer-Encoding"}) {
        Response h = withBody(200, "x");
        h.headers.push_back({name, "close"});
        EXPECT_FALSE(appendResponseHead(out, h, 11, true)) << name;
    }
    EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace sc::http
