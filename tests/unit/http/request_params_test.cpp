#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "http/request.h"
#include "http/request_params.h"

namespace sc::http {
namespace {

Request makeRequest(std::string query, std::string body,
                    std::optional<std::string> contentType = std::nullopt) {
    Request r;
    r.method = body.empty() ? Method::Get : Method::Post;
    r.path = "/email/send";
    r.query = std::move(query);
    r.target = r.path + (r.query.empty() ? "" : "?" + r.query);
    r.body = std::move(body);
    if (contentType) r.headers.push_back(Header{"content-type", *contentType});
    return r;
}

FormData parseOk(const Request& req, const ParseLimits& limits = {}) {
    auto r = parseRequestParams(req, limits);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().code + ": " + r.error().message);
    return r.ok() ? std::move(r).value() : FormData{};
}

ParseError parseFail(const Request& req, const ParseLimits& limits = {}) {
    auto r = parseRequestParams(req, limits);
    EXPECT_FALSE(r.ok());
    return r.ok() ? ParseError{} : r.error();
}

const std::string kMultipartBody =
    "--b0undary\r\n"
    "Content-Disposition: form-data; name=\"subject\"\r\n\r\n"
    "Hi\r\n"
    "--b0undary\r\n"
    "Content-Disposition: form-data; name=\"attachments\"; filename=\"a.txt\"\r\n"
    "Content-Type: text/plain\r\n\r\n"
    "file body\r\n"
    "--b0undary--\r\n";

TEST(HttpRequestParams, QueryOnlyGet) {
    FormData f = parseOk(makeRequest("apiUser=u&to=%2B1", ""));
    ASSERT_EQ(f.params.size(), 2u);
    EXPECT_EQ(f.params.get("apiUser"), "u");
    EXPECT_EQ(f.params.get("to"), "+1");
    EXPECT_TRUE(f.files.empty());
}

TEST(HttpRequestParams, NoQueryNoBody) {
    FormData f = parseOk(makeRequest("", ""));
    EXPECT_EQ(f.params.size(), 0u);
}

TEST(HttpRequestParams, QueryIsParsedEvenWithABody) {
    FormData f =
        parseOk(makeRequest("apiUser=u", "apiKey=k&to=x", "application/x-www-form-urlencoded"));
    ASSERT_EQ(f.params.size(), 3u);
    EXPECT_EQ(f.params.items()[0].name, "apiUser");  // query first
    EXPECT_EQ(f.params.items()[1].name, "apiKey");
    EXPECT_EQ(f.params.items()[2].name, "to");
}

TEST(HttpRequestParams, QueryBeforeBodyKeepsConflictsVisible) {
    FormData f = parseOk(makeRequest("to=a", "to=b", "application/x-www-form-urlencoded"));
    EXPECT_EQ(f.params.all("to").size(), 2u);
    EXPECT_EQ(f.params.get("to"), "a");
    EXPECT_EQ(f.params.firstConflict(), "to");
}

TEST(HttpRequestParams, UrlEncodedContentTypeVariants) {
    for (std::string_view ct :
         {"application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=UTF-8",
          "Application/X-WWW-Form-URLEncoded;charset=iso-8859-1",
          "  application/x-www-form-urlencoded  ; charset=\"utf-8\""}) {
        FormData f = parseOk(makeRequest("", "a=1+2", std::string(ct)));
        EXPECT_EQ(f.params.get("a"), "1 2") << ct;
    }
}

TEST(HttpRequestParams, EmptyUrlEncodedBody) {
    FormData f = parseOk(makeRequest("a=1", "", "application/x-www-form-urlencoded"));
    EXPECT_EQ(f.params.size(), 1u);
}

TEST(HttpRequestParams, Multipart) {
    FormData f =
        parseOk(makeRequest("apiUser=u", kMultipartBody, "multipart/form-data; boundary=b0undary"));
    ASSERT_EQ(f.params.size(), 2u);
    EXPECT_EQ(f.params.items()[0].name, "apiUser");
    EXPECT_EQ(f.params.items()[1].name, "subject");
    ASSERT_EQ(f.files.size(), 1u);
    EXPECT_EQ(f.files[0].field, "attachments");
    EXPECT_EQ(f.files[0].contentType, "text/plain");
    EXPECT_EQ(f.files[0].data, "file body");
}

TEST(HttpRequestParams, MultipartContentTypeVariants) {
    for (std::string_view ct :
         {"multipart/form-data; boundary=\"b0undary\"", "MULTIPART/Form-Data; BOUNDARY=b0undary",
          "multipart/form-data; charset=utf-8; boundary=b0undary;",
          "multipart/form-data;boundary=b0undary"}) {
        FormData f = parseOk(makeRequest("", kMultipartBody, std::string(ct)));
        EXPECT_EQ(f.params.get("subject"), "Hi") << ct;
    }
}

TEST(HttpRequestParams, BoundaryIsCaseSensitive) {
    ParseError e =
        parseFail(makeRequest("", kMultipartBody, "multipart/form-data; boundary=B0UNDARY"));
    EXPECT_EQ(e.code, "multipart.malformed");
}

TEST(HttpRequestParams, QuotedBoundaryMayContainSeparators) {
    std::string body =
        "--a b;c\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--a b;c--\r\n";
    FormData f = parseOk(makeRequest("", body, "multipart/form-data; boundary=\"a b;c\""));
    EXPECT_EQ(f.params.get("x"), "1");
}

TEST(HttpRequestParams, MultipartNeedsAGoodBoundary) {
    for (std::string_view ct :
         {"multipart/form-data", "multipart/form-data; charset=utf-8",
          "multipart/form-data; boundary=", "multipart/form-data; boundary=\"\"",
          "multipart/form-data; boundary=\"unterminated",
          "multipart/form-data; boundary=a; boundary=b"}) {
        ParseError e = parseFail(makeRequest("", kMultipartBody, std::string(ct)));
        EXPECT_EQ(e.status, 400) << ct;
        EXPECT_EQ(e.code, "multipart.malformed") << ct;
    }
    std::string longBoundary(71, 'b');
    ParseError e = parseFail(makeRequest("", "--" + longBoundary + "--",
                                         "multipart/form-data; boundary=" + longBoundary));
    EXPECT_EQ(e.code, "multipart.malformed");
    std::string okBoundary(70, 'b');
    EXPECT_EQ(parseOk(makeRequest("", "--" + okBoundary + "--",
                                  "multipart/form-data; boundary=" + okBoundary))
                  .params.size(),
              0u);
}

TEST(HttpRequestParams, UnsupportedMediaTypes) {
    for (std::string_view ct : {"application/json", "text/plain", "multipart/mixed; boundary=x",
                                "application/x-www-form-urlencodedx", "", "form-data"}) {
        ParseError e = parseFail(makeRequest("a=1", "{\"a\":1}", std::string(ct)));
        EXPECT_EQ(e.status, 415) << ct;
        EXPECT_EQ(e.code, "request.unsupported_media_type") << ct;
        EXPECT_NE(e.message.find("application/x-www-form-urlencoded, multipart/form-data"),
                  std::string::npos)
            << e.message;
    }
}

TEST(HttpRequestParams, BodyWithoutContentTypeIs415) {
    ParseError e = parseFail(makeRequest("", "apiUser=u&apiKey=k"));
    EXPECT_EQ(e.status, 415);
    EXPECT_EQ(e.code, "request.unsupported_media_type");
    EXPECT_EQ(e.message.find("apiKey=k"), std::string::npos);
}

TEST(HttpRequestParams, ContentTypeIsCheckedEvenForAnEmptyBody) {
    ParseError e = parseFail(makeRequest("a=1", "", "application/json"));
    EXPECT_EQ(e.status, 415);
}

TEST(HttpRequestParams, HeaderLookupIsCaseInsensitive) {
    Request r = makeRequest("", "a=1");
    r.headers.push_back(Header{"Content-Type", "application/x-www-form-urlencoded"});
    EXPECT_EQ(parseOk(r).params.get("a"), "1");
}

TEST(HttpRequestParams, QueryErrorsComeFirst) {
    ParseError e = parseFail(makeRequest("apiKey=%zz", "{}", "application/json"));
    EXPECT_EQ(e.status, 400);
    EXPECT_EQ(e.code, "param.malformed_escape");
    EXPECT_EQ(e.param, "apiKey");
}

TEST(HttpRequestParams, BodyErrorsPropagate) {
    ParseError e = parseFail(makeRequest("", "apiKey=abc%4", "application/x-www-form-urlencoded"));
    EXPECT_EQ(e.code, "param.malformed_escape");
    EXPECT_EQ(e.param, "apiKey");
    EXPECT_EQ(e.message.find("abc"), std::string::npos);
}

TEST(HttpRequestParams, ParamLimitSpansQueryAndBody) {
    ParseLimits limits;
    limits.maxParams = 3;
    EXPECT_EQ(parseOk(makeRequest("a=1&b=2", "c=3", "application/x-www-form-urlencoded"), limits)
                  .params.size(),
              3u);
    ParseError e =
        parseFail(makeRequest("a=1&b=2", "c=3&d=4", "application/x-www-form-urlencoded"), limits);
    EXPECT_EQ(e.code, "request.too_many_params");
    e = parseFail(
        makeRequest("a=1&b=2&c=3", kMultipartBody, "multipart/form-data; boundary=b0undary"),
        limits);
    EXPECT_EQ(e.code, "request.too_many_params");
}

TEST(HttpRequestParams, FileLimitIs413) {
    ParseLimits limits;
    limits.maxFileBytes = 4;
    ParseError e = parseFail(
        makeRequest("", kMultipartBody, "multipart/form-data; boundary=b0undary"), limits);
    EXPECT_EQ(e.status, 413);
    EXPECT_EQ(e.code, "request.too_large");
}

}  // namespace
}  // namespace sc::http
