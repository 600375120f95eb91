// The send path writes its JSON as text (api/json_text.h, api_error.cpp, contentJsonText): each
// writer is compared byte for byte with the nlohmann value it replaced, on the awkward inputs
// (escapes, control bytes, multi-byte and invalid UTF-8) as well as the usual ones.

#include "api/json_text.h"

#include <gtest/gtest.h>

#include <random>

#include <nlohmann/json.hpp>

#include "api/api_error.h"
#include "api/send_validation.h"

namespace sc::api {
namespace {

template <class Json>
std::string nlohmannText(const Json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string written(std::string_view s) {
    std::string out;
    json_text::appendString(out, s);
    return out;
}

const std::vector<std::string>& awkwardStrings() {
    static const std::vector<std::string> strings = {
        "",
        "plain ascii",
        "quote \" backslash \\ slash /",
        "\b\f\n\r\t",
        std::string("nul \0 inside", 12),
        "\x01\x1f\x7f",
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",  // é € 😀
        "\xc3",                                       // truncated
        "a\xc3(b",                                    // bad continuation
        "\xc0\xaf",                                   // overlong
        "\xe0\x80\xaf",                               // overlong, three bytes
        "\xed\xa0\x80",                               // a surrogate
        "\xf4\x90\x80\x80",                           // above U+10FFFF
        "\xf8\x88\x80\x80\x80",                       // five bytes
        "\xff\xfe",
        "tail \xe2\x82",
        "<p>Hello</p>",
        "1795827000000_0_12345678.sc-host0$ann@x.io",
    };
    return strings;
}

TEST(JsonTextTest, StringsAreWhatNlohmannWrites) {
    for (const auto& s : awkwardStrings()) {
        EXPECT_EQ(written(s), nlohmannText(nlohmann::json(s)))
            << nlohmann::json(s).dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
    }
    for (int c = 0; c < 256; ++c) {
        const std::string one(1, static_cast<char>(c));
        EXPECT_EQ(written(one), nlohmannText(nlohmann::json(one))) << c;
    }
}

TEST(JsonTextTest, RandomBytesAreWhatNlohmannWrites) {
    std::mt19937 rng(20261128);  // fixed: the same cases on every run
    std::uniform_int_distribution<int> length(0, 24);
    // Biased towards the bytes that matter: ASCII specials, lead and continuation bytes.
    const std::string alphabet =
        std::string("a\"\\\n\x01\x7f", 6) + "\x80\xbf\xc2\xdf\xe0\xed\xef\xf0\xf4\xf5\xff";
    std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
    for (int i = 0; i < 20000; ++i) {
        std::string s;
        for (int n = length(rng); n > 0; --n) s.push_back(alphabet[pick(rng)]);
        ASSERT_EQ(written(s), nlohmannText(nlohmann::json(s))) << i;
    }
}

TEST(JsonTextTest, Numbers) {
    std::string out;
    json_text::appendInt(out, -9223372036854775807 - 1);
    out += ',';
    json_text::appendUint(out, 18446744073709551615u);
    out += ',';
    json_text::appendInt(out, 0);
    EXPECT_EQ(out, "-9223372036854775808,18446744073709551615,0");
}

// The envelopes as api_error.cpp built them with nlohmann::ordered_json.
std::string referenceError(const ApiError& e, ResponseShape shape) {
    if (shape == ResponseShape::V1) {
        return nlohmannText(nlohmann::ordered_json{{"message", "error"},
                                                   {"errors", {e.hint}},
                                                   {"errorCode", e.code},
                                                   {"statusCode", e.status}});
    }
    return nlohmannText(nlohmann::ordered_json{{"result", false},
                                               {"statusCode", e.status},
                                               {"errorCode", e.code},
                                               {"message", statusMessage(e.status)},
                                               {"hint", e.hint}});
}

TEST(EnvelopeTextTest, ErrorEnvelopesAreByteIdentical) {
    for (int status : {400, 401, 403, 404, 413, 429, 500, 503, 418}) {
        for (const auto& hint : awkwardStrings()) {
            ApiError e{status, "auth.failed", hint, {{"retry-after", "3"}}};
            for (auto shape : {ResponseShape::V2, ResponseShape::V1}) {
                auto r = errorResponse(e, shape);
                EXPECT_EQ(r.body, referenceError(e, shape)) << status;
                EXPECT_EQ(r.status, status);
                ASSERT_EQ(r.headers.size(), 1u);
                EXPECT_EQ(r.headers[0].value, "3");
            }
        }
    }
    EXPECT_EQ(errorResponse(ApiError{401, "auth.failed", "wrong \"key\"", {}}).body,
              R"({"result":false,"statusCode":401,"errorCode":"auth.failed",)"
              R"("message":"Authentication failed, please check API credentials",)"
              R"("hint":"wrong \"key\""})");
}

TEST(EnvelopeTextTest, SuccessFromTextMatchesSuccessFromJson) {
    nlohmann::json info = {{"emailIdList", {"a$x@y.io", "b\"$z@y.io"}}};
    EXPECT_EQ(successResponseText(nlohmannText(info)).body, successResponse(info).body);
    EXPECT_EQ(emailSuccessResponseV1(nlohmannText(info["emailIdList"])).body,
              successResponse(info, ResponseShape::V1).body);
    EXPECT_EQ(emailSuccessResponseV1(std::nullopt).body,
              successResponse(nlohmann::json::object(), ResponseShape::V1).body);
    EXPECT_EQ(successResponseText("{}").body,
              R"({"result":true,"statusCode":200,"message":"request was successful","info":{}})");
}

domain::EmailAddress address(std::string addr, std::string name = "") {
    domain::EmailAddress a;
    a.address = std::move(addr);
    a.displayName = std::move(name);
    return a;
}

TEST(ContentJsonTextTest, IsTheDumpOfContentJson) {
    ValidatedEmail m;
    m.from = address("news@acme.io", "News");
    m.fromName = "News \"Desk\"";
    m.subject = "Hi\tthere \xe2\x82\xac";
    m.html = "<p>Hello</p>\n";
    EXPECT_EQ(m.contentJsonText(), nlohmannText(m.contentJson()));

    m.to = {address("ann@x.io"), address("bob@x.io", "Bob \\ B")};
    m.cc = {address("c@x.io")};
    m.bcc = {address("d@x.io", "D")};
    m.replyTo = {address("r@acme.io")};
    m.plain = "plain \x01 text";
    m.headers = {{"X-Campaign", "spring"}, {"X-A", "1"}};
    EXPECT_EQ(m.contentJsonText(), nlohmannText(m.contentJson()));

    m.html.clear();
    m.subject = "bad \xc3( utf-8";
    EXPECT_EQ(m.contentJsonText(), nlohmannText(m.contentJson()));
}

}  // namespace
}  // namespace sc::api
