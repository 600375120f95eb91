#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "http/request_params.h"

namespace sc::http {
namespace {

std::string decodeOk(std::string_view in, bool plusIsSpace = true) {
    auto r = percentDecode(in, plusIsSpace);
    EXPECT_TRUE(r.ok()) << "input: " << in;
    return r.ok() ? r.value() : std::string("<error>");
}

// --- percentDecode ---

TEST(HttpPercentDecode, PlainTextPassesThrough) {
    EXPECT_EQ(decodeOk("hello-world_1.2~"), "hello-world_1.2~");
    EXPECT_EQ(decodeOk(""), "");
}

TEST(HttpPercentDecode, PlusIsSpaceOnlyWhenAsked) {
    EXPECT_EQ(decodeOk("a+b", true), "a b");
    EXPECT_EQ(decodeOk("a+b", false), "a+b");
}

TEST(HttpPercentDecode, EscapesInEitherCase) {
    EXPECT_EQ(decodeOk("a%20b"), "a b");
    EXPECT_EQ(decodeOk("%2B1234567890"), "+1234567890");
    EXPECT_EQ(decodeOk("%2b"), "+");
    EXPECT_EQ(decodeOk("%e4%BD%a0"), "\xe4\xbd\xa0");
    EXPECT_EQ(decodeOk("%25"), "%");
    EXPECT_EQ(decodeOk("%2525"), "%25");  // decoded once, never twice
}

TEST(HttpPercentDecode, EscapedPlusStaysPlusEvenInFormMode) {
    EXPECT_EQ(decodeOk("%2B+%2B", true), "+ +");
}

TEST(HttpPercentDecode, AnyByteIncludingNul) {
    EXPECT_EQ(decodeOk("a%00b"), std::string("a\0b", 3));
    EXPECT_EQ(decodeOk("%FF%0D%0A"), "\xff\r\n");
}

TEST(HttpPercentDecode, MalformedEscapesFail) {
    for (std::string_view bad : {"%", "%4", "ab%4", "%zz", "%2z", "%z2", "%%20", "a%g0b", "% 20"}) {
        auto r = percentDecode(bad, true);
        EXPECT_FALSE(r.ok()) << "input: " << bad;
    }
}

TEST(HttpPercentDecode, ErrorGivesTheOffsetNotTheText) {
    auto r = percentDecode("secret%zz", true);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().find('6'), std::string::npos) << r.error();
    EXPECT_EQ(r.error().find("secret"), std::string::npos) << r.error();
}

// --- parseUrlEncoded ---

ParamMap parseOk(std::string_view in, const ParseLimits& limits = {}) {
    ParamMap m;
    auto r = parseUrlEncoded(in, limits, m);
    EXPECT_TRUE(r.ok()) << "input: " << in << " error: " << (r.ok() ? "" : r.error().code);
    return m;
}

ParseError parseFail(std::string_view in, const ParseLimits& limits = {}) {
    ParamMap m;
    auto r = parseUrlEncoded(in, limits, m);
    EXPECT_FALSE(r.ok()) << "input: " << in;
    return r.ok() ? ParseError{} : r.error();
}

TEST(HttpUrlEncoded, ParamListIsAllocatedOnce) {
    // Sized from the number of '&'-separated pieces, not grown parameter by parameter.
    ParamMap m = parseOk("a=1&b=2&c=3&d=4&e=5&f=6&g=7");
    EXPECT_EQ(m.size(), 7u);
    EXPECT_EQ(m.items().capacity(), 7u);
    // Bounded by maxParams, whatever the number of separators.
    ParseLimits limits;
    limits.maxParams = 4;
    ParamMap few = parseOk("a=1&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&", limits);
    EXPECT_EQ(few.size(), 1u);
    EXPECT_LE(few.items().capacity(), 4u);
}

TEST(HttpPercentDecode, EscapesAtEveryOffset) {
    // Text before the first escape is copied in one piece and the rest byte by byte: an escape
    // or a '+' anywhere, or a malformed one, decodes as before.
    for (size_t at = 0; at < 12; ++at) {
        const std::string before(at, 'a');
        EXPECT_EQ(decodeOk(before + "%41b"), before + "Ab");
        EXPECT_EQ(decodeOk(before + "+b"), before + " b");
        EXPECT_EQ(decodeOk(before + "+b", false), before + "+b");
        auto bad = percentDecode(before + "%4", true);
        ASSERT_FALSE(bad.ok());
        EXPECT_EQ(bad.error(), "malformed percent-escape at byte " + std::to_string(at));
    }
}

TEST(HttpUrlEncoded, SimplePairsInOrder) {
    ParamMap m = parseOk("apiUser=u1&apiKey=k1&to=a%40x.io");
    ASSERT_EQ(m.size(), 3u);
    EXPECT_EQ(m.items()[0].name, "apiUser");
    EXPECT_EQ(m.items()[0].value, "u1");
    EXPECT_EQ(m.items()[1].name, "apiKey");
    EXPECT_EQ(m.items()[2].value, "a@x.io");
}

TEST(HttpUrlEncoded, EmptyInputGivesNothing) {
    EXPECT_EQ(parseOk("").size(), 0u);
    EXPECT_EQ(parseOk("&&&").size(), 0u);
}

TEST(HttpUrlEncoded, EmptyPiecesAreSkipped) {
    ParamMap m = parseOk("&a=1&&b=2&");
    ASSERT_EQ(m.size(), 2u);
    EXPECT_EQ(m.get("a"), "1");
    EXPECT_EQ(m.get("b"), "2");
}

TEST(HttpUrlEncoded, SemicolonIsNotASeparator) {
    ParamMap m = parseOk("emailId=a;b&x=1");
    ASSERT_EQ(m.size(), 2u);
    EXPECT_EQ(m.get("emailId"), "a;b");
}

TEST(HttpUrlEncoded, NameWithoutEqualsHasEmptyValue) {
    ParamMap m = parseOk("flag&x=1");
    ASSERT_EQ(m.size(), 2u);
    EXPECT_TRUE(m.has("flag"));
    EXPECT_EQ(m.get("flag"), "");
}

TEST(HttpUrlEncoded, EmptyValueAfterEquals) {
    ParamMap m = parseOk("a=");
    ASSERT_EQ(m.size(), 1u);
    EXPECT_EQ(m.get("a"), "");
}

TEST(HttpUrlEncoded, OnlyTheFirstEqualsSplits) {
    ParamMap m = parseOk("xsmtpapi=a=b=c");
    EXPECT_EQ(m.get("xsmtpapi"), "a=b=c");
}

TEST(HttpUrlEncoded, PlusAndEscapesDecodeInNamesAndValues) {
    ParamMap m = parseOk("to=+1234567890&to2=%2B1234567890&my+name=a+b%20c&%61piUser=x");
    EXPECT_EQ(m.get("to"), " 1234567890");  // the seed's unencoded '+' arrives as a space
    EXPECT_EQ(m.get("to2"), "+1234567890");
    EXPECT_EQ(m.get("my name"), "a b c");
    EXPECT_EQ(m.get("apiUser"), "x");
}

TEST(HttpUrlEncoded, EscapedAmpersandAndEqualsStayInTheValue) {
    ParamMap m = parseOk("html=%3Ca%20href%3D%22x%3Fa%3D1%26b%3D2%22%3E");
    ASSERT_EQ(m.size(), 1u);
    EXPECT_EQ(m.get("html"), "<a href=\"x?a=1&b=2\">");
}

TEST(HttpUrlEncoded, DuplicatesAreAllKept) {
    ParamMap m = parseOk("to=a&to=b&to=a");
    EXPECT_EQ(m.all("to").size(), 3u);
    EXPECT_EQ(m.firstConflict(), "to");
}

TEST(HttpUrlEncoded, NulInValueIsKept) {
    ParamMap m = parseOk("a=x%00y");
    EXPECT_EQ(m.get("a"), std::string_view("x\0y", 3));
}

TEST(HttpUrlEncoded, AppendsToExistingParams) {
    ParamMap m;
    m.add("q", "1");
    ASSERT_TRUE(parseUrlEncoded("b=2", {}, m).ok());
    ASSERT_EQ(m.size(), 2u);
    EXPECT_EQ(m.items()[0].name, "q");
    EXPECT_EQ(m.items()[1].name, "b");
}

TEST(HttpUrlEncoded, MalformedValueEscapeNamesTheParamButNotTheValue) {
    ParseError e = parseFail("apiUser=u&apiKey=s3cr3t%zzvalue");
    EXPECT_EQ(e.status, 400);
    EXPECT_EQ(e.code, "param.malformed_escape");
    EXPECT_EQ(e.param, "apiKey");
    EXPECT_NE(e.message.find("apiKey"), std::string::npos) << e.message;
    EXPECT_EQ(e.message.find("s3cr3t"), std::string::npos) << e.message;
    EXPECT_EQ(e.message.find("%zz"), std::string::npos) << e.message;
}

TEST(HttpUrlEncoded, TruncatedEscapeAtEndFails) {
    ParseError e = parseFail("apiKey=abc%4");
    EXPECT_EQ(e.code, "param.malformed_escape");
    EXPECT_EQ(e.param, "apiKey");
    e = parseFail("apiKey=abc%");
    EXPECT_EQ(e.code, "param.malformed_escape");
}

TEST(HttpUrlEncoded, MalformedEscapeInNameReportsTheRawName) {
    ParseError e = parseFail("bad%zzname=value");
    EXPECT_EQ(e.status, 400);
    EXPECT_EQ(e.code, "param.malformed_escape");
    EXPECT_EQ(e.param, "bad%zzname");
    EXPECT_EQ(e.message.find("value"), std::string::npos) << e.message;
}

TEST(HttpUrlEncoded, MalformedEscapeParamIsTheDecodedName) {
    ParseError e = parseFail("api%55ser=%q");
    EXPECT_EQ(e.param, "apiUser");
}

TEST(HttpUrlEncoded, EmptyNameIsMalformed) {
    for (std::string_view in : {"=value", "a=1&=2", "&=&"}) {
        ParseError e = parseFail(in);
        EXPECT_EQ(e.status, 400) << in;
        EXPECT_EQ(e.code, "param.malformed") << in;
        EXPECT_EQ(e.message.find("value"), std::string::npos) << e.message;
    }
}

TEST(HttpUrlEncoded, NameThatDecodesToASpaceIsNotEmpty) {
    ParamMap m = parseOk("+=x&%20%20=y");
    EXPECT_EQ(m.get(" "), "x");
    EXPECT_EQ(m.get("  "), "y");
}

TEST(HttpUrlEncoded, TooManyParams) {
    ParseLimits limits;
    limits.maxParams = 3;
    EXPECT_EQ(parseOk("a=1&b=2&c=3", limits).size(), 3u);
    EXPECT_EQ(parseOk("a=1&&b=2&c=3&", limits).size(), 3u);  // empty pieces do not count
    ParseError e = parseFail("a=1&b=2&c=3&d=4", limits);
    EXPECT_EQ(e.status, 400);
    EXPECT_EQ(e.code, "request.too_many_params");
}

TEST(HttpUrlEncoded, TooManyParamsCountsWhatIsAlreadyThere) {
    ParseLimits limits;
    limits.maxParams = 2;
    ParamMap m;
    m.add("q", "1");
    ASSERT_TRUE(parseUrlEncoded("a=1", limits, m).ok());
    auto r = parseUrlEncoded("b=1", limits, m);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "request.too_many_params");
}

TEST(HttpUrlEncoded, NameLengthLimitAppliesToTheDecodedName) {
    ParseLimits limits;
    limits.maxParamNameBytes = 4;
    EXPECT_TRUE(parseOk("abcd=1", limits).has("abcd"));
    EXPECT_TRUE(parseOk("%61%62%63%64=1", limits).has("abcd"));  // 12 raw bytes, 4 decoded
    ParseError e = parseFail("abcde=1", limits);
    EXPECT_EQ(e.status, 400);
    EXPECT_EQ(e.code, "param.name_too_long");
    EXPECT_LE(e.param.size(), 4u);
}

TEST(HttpUrlEncoded, NameLengthLimitAppliesWithoutEquals) {
    ParseLimits limits;
    limits.maxParamNameBytes = 8;
    ParseError e = parseFail(std::string(100, 'k'), limits);
    EXPECT_EQ(e.code, "param.name_too_long");
    EXPECT_EQ(e.param.size(), 8u);
}

}  // namespace
}  // namespace sc::http
