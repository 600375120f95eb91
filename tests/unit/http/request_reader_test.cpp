// RequestReader fills a reused http::Request from Beast's parser. These tests feed it bytes the
// way the session does (header first, then the body, the rest of the buffer for the next
// request) and in pieces, as a socket may deliver them.
#include "http/request_reader.h"

#include <gtest/gtest.h>
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace sc::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

constexpr std::uint32_t kHeaderLimit = 16 * 1024;
constexpr std::uint64_t kBodyLimit = 1024;

// Feeds `pending` to the reader in pieces that end one byte past each line feed (the way a
// client writing line by line is read), until the request is done or fails. Consumed bytes are
// removed from `pending`, so what is left belongs to the next request.
beast::error_code readRequest(RequestReader& reader, std::string& pending, bool lineByLine) {
    reader.header_limit(kHeaderLimit);
    reader.body_limit(std::numeric_limits<std::uint64_t>::max());
    std::string buffer;
    size_t offered = 0;
    auto more = [&] {
        if (offered == pending.size()) return false;
        size_t n = pending.size() - offered;
        if (lineByLine) {
            const auto lf = pending.find('\n', offered + 1);
            if (lf != std::string::npos) n = std::min(n, lf - offered + 2);
        }
        buffer.append(pending, offered, n);
        offered += n;
        return true;
    };
    beast::error_code ec;
    size_t consumed = 0;
    bool headerDone = false;
    while (!reader.is_done()) {
        if (buffer.empty() && !more()) return bhttp::error::partial_message;
        const size_t used = reader.put(boost::asio::buffer(buffer.data(), buffer.size()), ec);
        buffer.erase(0, used);
        consumed += used;
        if (ec == bhttp::error::need_more) {
            ec = {};
            if (!more()) return bhttp::error::partial_message;
        } else if (ec) {
            return ec;
        }
        if (!headerDone && reader.is_header_done()) {
            headerDone = true;
            reader.body_limit(kBodyLimit);
            reader.eager(true);
        }
    }
    pending.erase(0, consumed);
    return ec;
}

std::string fields(int count) {
    std::string out;
    for (int i = 0; i < count; ++i) {
        out += "X-Filler-" + std::to_string(1000 + i) + ": " + std::string(100, 'v') + "\r\n";
    }
    return out;
}

TEST(RequestReader, FillsTheRequestWithLowerCaseNamesTrimmedValuesAndTheTargetSplit) {
    Request req;
    std::string otherMethod;
    std::string bytes =
        "POST /email/send?apiUser=u&x= HTTP/1.1\r\nHost: h\r\nX-Mixed-Case: \t padded \t\r\n"
        "Content-Length: 5\r\nExpect: 100-Continue\r\n\r\nhello";
    RequestReader reader(req, otherMethod);
    ASSERT_FALSE(readRequest(reader, bytes, false));
    EXPECT_EQ(req.method, Method::Post);
    EXPECT_EQ(req.target, "/email/send?apiUser=u&x=");
    EXPECT_EQ(req.path, "/email/send");
    EXPECT_EQ(req.query, "apiUser=u&x=");
    ASSERT_EQ(req.headers.size(), 4u);
    EXPECT_EQ(req.headers[1].name, "x-mixed-case");
    EXPECT_EQ(req.headers[1].value, "padded");
    EXPECT_EQ(req.body, "hello");
    EXPECT_TRUE(reader.expectsContinue());
    EXPECT_TRUE(reader.clientKeepAlive());
    EXPECT_EQ(reader.version(), 11u);
}

TEST(RequestReader, PipelinedRequestsLeaveNothingOfTheOneBefore) {
    Request req;
    std::string otherMethod;
    std::string bytes =
        "PURGE /a?q=1 HTTP/1.1\r\nA: 1\r\nB: 2\r\nTransfer-Encoding: chunked\r\n\r\n"
        "3\r\nabc\r\n0\r\n\r\n"
        "GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
    {
        RequestReader reader(req, otherMethod);
        ASSERT_FALSE(readRequest(reader, bytes, false));
        EXPECT_EQ(reader.methodText(), "PURGE");
        EXPECT_EQ(req.body, "abc");
    }
    req.body.clear();
    RequestReader reader(req, otherMethod);
    ASSERT_FALSE(readRequest(reader, bytes, false));
    EXPECT_TRUE(bytes.empty());
    EXPECT_EQ(reader.methodText(), "GET");
    EXPECT_EQ(req.path, "/b");
    EXPECT_EQ(req.query, "");
    ASSERT_EQ(req.headers.size(), 1u);
    EXPECT_EQ(req.headers[0].name, "connection");
    EXPECT_EQ(req.body, "");
    EXPECT_TRUE(reader.clientKeepAlive());
    EXPECT_EQ(reader.version(), 10u);
}

// Beast's own limit bounds only what one put() has not consumed, and put() consumes each field
// line as it completes: read line by line, a header of 2 MiB used to pass the 16 KiB limit.
TEST(RequestReader, RefusesAHeaderOverTheLimitThatArrivesLineByLine) {
    Request req;
    std::string otherMethod;
    std::string bytes = "GET / HTTP/1.1\r\n" + fields(20000) + "\r\n";
    RequestReader reader(req, otherMethod);
    EXPECT_EQ(readRequest(reader, bytes, true), bhttp::error::header_limit);
    EXPECT_LE(req.headers.size(), kHeaderLimit / 100);
}

TEST(RequestReader, RefusesTheSeedHeaderJustOverTheLimitInAnyPieces) {
    // ~16.9 KiB: the fuzz seed header_over_limit_line_by_line.
    for (bool lineByLine : {false, true}) {
        Request req;
        std::string otherMethod;
        std::string bytes = "GET /trickle HTTP/1.1\r\nHost: h\r\n" + fields(145) + "\r\n";
        RequestReader reader(req, otherMethod);
        EXPECT_EQ(readRequest(reader, bytes, lineByLine), bhttp::error::header_limit)
            << "line by line: " << lineByLine;
    }
}

// Without optional whitespace every byte of the header counts but the blank line that ends it.
TEST(RequestReader, TheLimitHoldsToTheByteInAnyPieces) {
    std::string head = "GET / HTTP/1.1\r\n";  // 16 bytes
    for (int i = 0; i < 139; ++i) {
        head += "X-Filler-" + std::to_string(1000 + i) + ":" + std::string(100, 'v') + "\r\n";
    }
    const size_t lastValue = kHeaderLimit - head.size() - std::string_view("X-Last:\r\n").size();
    for (bool lineByLine : {false, true}) {
        for (size_t extra : {0, 1}) {
            Request req;
            std::string otherMethod;
            std::string bytes = head + "X-Last:" + std::string(lastValue + extra, 'v') + "\r\n\r\n";
            ASSERT_EQ(bytes.size(), kHeaderLimit + extra + 2);
            RequestReader reader(req, otherMethod);
            const auto ec = readRequest(reader, bytes, lineByLine);
            if (extra == 0) {
                EXPECT_FALSE(ec) << "line by line: " << lineByLine;
                EXPECT_EQ(req.headers.size(), 140u);
            } else {
                EXPECT_EQ(ec, bhttp::error::header_limit) << "line by line: " << lineByLine;
            }
        }
    }
}

}  // namespace
}  // namespace sc::http
