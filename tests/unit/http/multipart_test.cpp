#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "http/request_params.h"

namespace sc::http {
namespace {

constexpr std::string_view kB = "XyZ123";

// A form field part with CRLF line endings: "--XyZ123\r\n<headers>\r\n\r\n<body>\r\n".
std::string part(std::string_view headers, std::string_view body) {
    return "--" + std::string(kB) + "\r\n" + std::string(headers) + "\r\n\r\n" + std::string(body) +
           "\r\n";
}

std::string field(std::string_view name, std::string_view value) {
    return part("Content-Disposition: form-data; name=\"" + std::string(name) + "\"", value);
}

std::string closing() {
    return "--" + std::string(kB) + "--\r\n";
}

FormData parseOk(std::string_view body, const ParseLimits& limits = {},
                 std::string_view boundary = kB) {
    FormData out;
    auto r = parseMultipart(body, boundary, limits, out);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().code + ": " + r.error().message);
    return out;
}

ParseError parseFail(std::string_view body, const ParseLimits& limits = {},
                     std::string_view boundary = kB) {
    FormData out;
    auto r = parseMultipart(body, boundary, limits, out);
    EXPECT_FALSE(r.ok());
    return r.ok() ? ParseError{} : r.error();
}

TEST(HttpMultipart, FieldsAndFileWithCrlf) {
    std::string body = field("apiUser", "u1") + field("subject", "Hello there") +
                       part(
                           "Content-Disposition: form-data; name=\"attachments\"; "
                           "filename=\"report.pdf\"\r\nContent-Type: application/pdf",
                           "%PDF-1.4 data") +
                       closing();
    FormData f = parseOk(body);
    ASSERT_EQ(f.params.size(), 2u);
    EXPECT_EQ(f.params.items()[0].name, "apiUser");
    EXPECT_EQ(f.params.items()[0].value, "u1");
    EXPECT_EQ(f.params.get("subject"), "Hello there");
    ASSERT_EQ(f.files.size(), 1u);
    EXPECT_EQ(f.files[0].field, "attachments");
    EXPECT_EQ(f.files[0].filename, "report.pdf");
    EXPECT_EQ(f.files[0].contentType, "application/pdf");
    EXPECT_EQ(f.files[0].data, "%PDF-1.4 data");
    EXPECT_FALSE(f.params.has("attachments"));
}

TEST(HttpMultipart, BareLfLineEndings) {
    std::string body =
        "--XyZ123\n"
        "Content-Disposition: form-data; name=\"a\"\n"
        "\n"
        "one\n"
        "--XyZ123\n"
        "Content-Disposition: form-data; name=\"f\"; filename=\"x.txt\"\n"
        "\n"
        "line1\nline2\n"
        "--XyZ123--\n";
    FormData f = parseOk(body);
    EXPECT_EQ(f.params.get("a"), "one");
    ASSERT_EQ(f.files.size(), 1u);
    EXPECT_EQ(f.files[0].data, "line1\nline2");
}

TEST(HttpMultipart, MixedLineEndings) {
    std::string body =
        "--XyZ123\r\n"
        "Content-Disposition: form-data; name=\"a\"\n"
        "\r\n"
        "v\n"
        "--XyZ123--";
    EXPECT_EQ(parseOk(body).params.get("a"), "v");
}

TEST(HttpMultipart, PreambleAndEpilogueAreIgnored) {
    std::string body = "This is a preamble.\r\n--XyZ123 followed by text is no delimiter\r\n" +
                       field("a", "1") + closing() + field("b", "2") + "epilogue";
    FormData f = parseOk(body);
    ASSERT_EQ(f.params.size(), 1u);
    EXPECT_EQ(f.params.get("a"), "1");
    EXPECT_FALSE(f.params.has("b"));
}

TEST(HttpMultipart, CloseDelimiterWithoutTrailingCrlf) {
    FormData f = parseOk(field("a", "1") + "--XyZ123--");
    EXPECT_EQ(f.params.get("a"), "1");
}

TEST(HttpMultipart, EmptyFormIsFine) {
    FormData f = parseOk(closing());
    EXPECT_EQ(f.params.size(), 0u);
    EXPECT_TRUE(f.files.empty());
}

TEST(HttpMultipart, MultiLineValueKeepsInnerLineBreaks) {
    FormData f = parseOk(field("plain", "line 1\r\nline 2\r\n\r\nline 4") + closing());
    EXPECT_EQ(f.params.get("plain"), "line 1\r\nline 2\r\n\r\nline 4");
}

TEST(HttpMultipart, BoundaryInsideContentButNotAtLineStartIsContent) {
    std::string value = "see --XyZ123 and x--XyZ123--";
    FormData f = parseOk(field("html", value) + closing());
    EXPECT_EQ(f.params.get("html"), value);
}

TEST(HttpMultipart, LineThatOnlyStartsWithTheBoundaryIsContent) {
    std::string value = "a\r\n--XyZ123X\r\n--XyZ1234--\r\nb";
    FormData f = parseOk(field("html", value) + closing());
    EXPECT_EQ(f.params.get("html"), value);
}

TEST(HttpMultipart, TransportPaddingAfterDelimiter) {
    std::string body =
        "--XyZ123 \t\r\n"
        "Content-Disposition: form-data; name=\"a\"\r\n\r\n"
        "1\r\n"
        "--XyZ123--\r\n";
    EXPECT_EQ(parseOk(body).params.get("a"), "1");
}

TEST(HttpMultipart, EmptyValues) {
    // Browsers send the blank line, an empty body and then the delimiter's CRLF; some clients
    // omit the empty body line.
    std::string body = field("a", "") +
                       "--XyZ123\r\nContent-Disposition: form-data; name=\"b\"\r\n\r\n"
                       "--XyZ123--";
    FormData f = parseOk(body);
    EXPECT_EQ(f.params.get("a"), "");
    EXPECT_EQ(f.params.get("b"), "");
}

TEST(HttpMultipart, OnlyOneLineBreakBelongsToTheDelimiter) {
    FormData f = parseOk(field("a", "x\r\n") + field("b", "y\r") + field("c", "\n") + closing());
    EXPECT_EQ(f.params.get("a"), "x\r\n");
    EXPECT_EQ(f.params.get("b"), "y\r");
    EXPECT_EQ(f.params.get("c"), "\n");
}

TEST(HttpMultipart, BinaryFileDataWithNulAndNearMisses) {
    constexpr char kData[] = "\0\x01\xff\r\n--XyZ12\r\n-\r\n--\r\n--XyZ123Q\0";
    std::string data(kData, sizeof(kData) - 1);
    FormData f = parseOk(
        part("Content-Disposition: form-data; name=\"f\"; filename=\"b.bin\"", data) + closing());
    ASSERT_EQ(f.files.size(), 1u);
    EXPECT_EQ(f.files[0].data, data);
    EXPECT_EQ(f.files[0].data.size(), 31u);
}

TEST(HttpMultipart, FileWithoutContentTypeIsOctetStream) {
    FormData f = parseOk(
        part("Content-Disposition: form-data; name=\"f\"; filename=\"a.txt\"", "x") + closing());
    ASSERT_EQ(f.files.size(), 1u);
    EXPECT_EQ(f.files[0].contentType, "application/octet-stream");
}

TEST(HttpMultipart, EmptyFilenameIsStillAFile) {
    FormData f =
        parseOk(part("Content-Disposition: form-data; name=\"f\"; filename=\"\"", "") + closing());
    ASSERT_EQ(f.files.size(), 1u);
    EXPECT_EQ(f.files[0].filename, "");
    EXPECT_EQ(f.params.size(), 0u);
}

TEST(HttpMultipart, QuotedStringsWithEscapes) {
    FormData f = parseOk(
        part(R"(Content-Disposition: form-data; name="a\"b"; filename="say \"hi\".txt")", "x") +
        closing());
    ASSERT_EQ(f.files.size(), 1u);
    EXPECT_EQ(f.files[0].field, "a\"b");
    EXPECT_EQ(f.files[0].filename, "say \"hi\".txt");
}

TEST(HttpMultipart, BackslashesInWindowsPathsAreKept) {
    FormData f =
        parseOk(part(R"(Content-Disposition: form-data; name="f"; filename="C:\dir\a.txt")", "x") +
                closing());
    ASSERT_EQ(f.files.size(), 1u);
    EXPECT_EQ(f.files[0].filename, R"(C:\dir\a.txt)");
}

TEST(HttpMultipart, SemicolonInsideQuotedName) {
    FormData f = parseOk(field("a;b", "1") + closing());
    EXPECT_EQ(f.params.get("a;b"), "1");
}

TEST(HttpMultipart, UnquotedTokensAndHeaderCase) {
    FormData f =
        parseOk(part("content-disposition:FORM-DATA ;NAME=plain;  FileName=notes.txt", "n") +
                part("CONTENT-DISPOSITION: form-data; name=subject", "s") + closing());
    ASSERT_EQ(f.files.size(), 1u);
    EXPECT_EQ(f.files[0].field, "plain");
    EXPECT_EQ(f.files[0].filename, "notes.txt");
    EXPECT_EQ(f.params.get("subject"), "s");
}

TEST(HttpMultipart, ExtendedFilenameWins) {
    FormData f = parseOk(part("Content-Disposition: form-data; name=\"f\"; filename=\"EUR.txt\"; "
                              "filename*=UTF-8''%E2%82%AC%20rates.txt",
                              "x") +
                         closing());
    ASSERT_EQ(f.files.size(), 1u);
    EXPECT_EQ(f.files[0].filename, "\xe2\x82\xac rates.txt");
}

TEST(HttpMultipart, BadExtendedFilenameIsMalformed) {
    for (std::string_view ext : {"UTF-8''%zz", "KOI8-R''abc", "noquotes"}) {
        ParseError e = parseFail(
            part("Content-Disposition: form-data; name=\"f\"; filename*=" + std::string(ext), "x") +
            closing());
        EXPECT_EQ(e.code, "multipart.malformed") << ext;
    }
}

TEST(HttpMultipart, FoldedHeaderLine) {
    FormData f =
        parseOk(part("Content-Disposition: form-data;\r\n name=\"folded\"", "v") + closing());
    EXPECT_EQ(f.params.get("folded"), "v");
}

TEST(HttpMultipart, FoldedHeaderValueStaysTrimmed) {
    // Found by fuzz_multipart: the fold after an empty value left a leading space.
    FormData f = parseOk(part("Content-Disposition: form-data; name=f; filename=a\r\n"
                              "Content-Type:\r\n text/plain\r\n \t",
                              "x") +
                         closing());
    ASSERT_EQ(f.files.size(), 1u);
    EXPECT_EQ(f.files[0].contentType, "text/plain");
}

TEST(HttpMultipart, OtherPartHeadersAreIgnored) {
    FormData f = parseOk(part("X-Whatever: 1\r\nContent-Disposition: form-data; name=\"a\"\r\n"
                              "Content-Type: text/plain; charset=utf-8",
                              "v") +
                         closing());
    EXPECT_EQ(f.params.get("a"), "v");
}

TEST(HttpMultipart, PartWithoutNameIsMalformed) {
    for (std::string_view headers :
         {"Content-Disposition: form-data", "Content-Disposition: form-data; filename=\"a\"",
          "Content-Disposition: form-data; name=\"\"", "Content-Type: text/plain", ""}) {
        ParseError e = parseFail(part(headers, "v") + closing());
        EXPECT_EQ(e.status, 400) << headers;
        EXPECT_EQ(e.code, "multipart.malformed") << headers;
    }
}

TEST(HttpMultipart, BadContentDispositionIsMalformed) {
    for (std::string_view headers : {
             "Content-Disposition: attachment; name=\"a\"",
             "Content-Disposition: form-data; name=\"a",         // unterminated quote
             "Content-Disposition: form-data; name",             // no '='
             "Content-Disposition: form-data; name=\"a\" junk",  // no ';'
             "Content-Disposition: form-data; name=a; name=b",   // ambiguous
             "Content-Disposition: form-data; name=a\r\nContent-Disposition: form-data; name=b",
             "Content-Disposition form-data; name=a",    // no ':'
             " Content-Disposition: form-data; name=a",  // continuation of nothing
         }) {
        ParseError e = parseFail(part(headers, "v") + closing());
        EXPECT_EQ(e.code, "multipart.malformed") << headers;
    }
}

TEST(HttpMultipart, MissingFinalDelimiterIsMalformed) {
    EXPECT_EQ(parseFail(field("a", "1")).code, "multipart.malformed");
    EXPECT_EQ(parseFail(field("a", "1") + "--XyZ123").code, "multipart.malformed");
    EXPECT_EQ(parseFail(field("a", "1") + "--XyZ123-").code, "multipart.malformed");
    EXPECT_EQ(parseFail("--XyZ123\r\nContent-Disposition: form-data; name=a\r\n\r\nvalue").code,
              "multipart.malformed");
}

TEST(HttpMultipart, NoDelimiterAtAllIsMalformed) {
    EXPECT_EQ(parseFail("").code, "multipart.malformed");
    EXPECT_EQ(parseFail("a=1&b=2").code, "multipart.malformed");
    EXPECT_EQ(parseFail(field("a", "1") + closing(), {}, "OtherBoundary").code,
              "multipart.malformed");
}

TEST(HttpMultipart, UnterminatedHeadersAreMalformed) {
    EXPECT_EQ(parseFail("--XyZ123\r\nContent-Disposition: form-data; name=a").code,
              "multipart.malformed");
    EXPECT_EQ(parseFail("--XyZ123\r\n").code, "multipart.malformed");
}

TEST(HttpMultipart, BoundaryLengthIsChecked) {
    EXPECT_EQ(parseFail(closing(), {}, "").code, "multipart.malformed");
    std::string b70(70, 'b');
    EXPECT_EQ(parseOk("--" + b70 + "--", {}, b70).params.size(), 0u);
    std::string b71(71, 'b');
    EXPECT_EQ(parseFail("--" + b71 + "--", {}, b71).code, "multipart.malformed");
}

TEST(HttpMultipart, TransferEncodings) {
    for (std::string_view cte : {"binary", "8bit", "7BIT", " Binary "}) {
        FormData f = parseOk(part("Content-Disposition: form-data; name=\"a\"\r\n"
                                  "Content-Transfer-Encoding:" +
                                      std::string(cte),
                                  "v") +
                             closing());
        EXPECT_EQ(f.params.get("a"), "v") << cte;
    }
    for (std::string_view cte : {"base64", "quoted-printable", ""}) {
        ParseError e = parseFail(part("Content-Disposition: form-data; name=\"a\"\r\n"
                                      "Content-Transfer-Encoding: " +
                                          std::string(cte),
                                      "dg==") +
                                 closing());
        EXPECT_EQ(e.status, 400) << cte;
        EXPECT_EQ(e.code, "multipart.unsupported_transfer_encoding") << cte;
        EXPECT_EQ(e.param, "a");
    }
}

TEST(HttpMultipart, TooManyParts) {
    ParseLimits limits;
    limits.maxParts = 2;
    EXPECT_EQ(parseOk(field("a", "1") + field("b", "2") + closing(), limits).params.size(), 2u);
    ParseError e =
        parseFail(field("a", "1") + field("b", "2") + field("c", "3") + closing(), limits);
    EXPECT_EQ(e.status, 400);
    EXPECT_EQ(e.code, "multipart.too_many_parts");
}

TEST(HttpMultipart, TooManyPartsCountsFiles) {
    ParseLimits limits;
    limits.maxParts = 1;
    std::string file = part("Content-Disposition: form-data; name=f; filename=a", "x");
    EXPECT_EQ(parseFail(file + file + closing(), limits).code, "multipart.too_many_parts");
}

TEST(HttpMultipart, FieldsCountAsParams) {
    ParseLimits limits;
    limits.maxParams = 1;
    FormData out;
    out.params.add("fromQuery", "1");
    auto r = parseMultipart(field("a", "1") + closing(), kB, limits, out);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "request.too_many_params");
}

TEST(HttpMultipart, PartHeaderBlockLimit) {
    ParseLimits limits;
    limits.maxPartHeaderBytes = 64;
    std::string headers = "Content-Disposition: form-data; name=\"a\"";  // 40 bytes + CRLF
    EXPECT_EQ(parseOk(part(headers, "v") + closing(), limits).params.get("a"), "v");
    std::string padded = headers + "\r\nX-Pad: " + std::string(20, 'p');  // 71 bytes with CRLFs
    ParseError e = parseFail(part(padded, "v") + closing(), limits);
    EXPECT_EQ(e.status, 400);
    EXPECT_EQ(e.code, "multipart.malformed");
    // A header line with no line break within the limit stops the scan early.
    e = parseFail("--XyZ123\r\n" + std::string(10000, 'h') + "\r\n\r\nv\r\n" + closing(), limits);
    EXPECT_EQ(e.code, "multipart.malformed");
}

TEST(HttpMultipart, PartHeaderBlockLimitIsInclusive) {
    std::string headers = "Content-Disposition: form-data; name=\"a\"";
    ParseLimits limits;
    limits.maxPartHeaderBytes = headers.size() + 2;  // the line and its CRLF, not the blank line
    EXPECT_EQ(parseOk(part(headers, "v") + closing(), limits).params.get("a"), "v");
    limits.maxPartHeaderBytes = headers.size() + 1;
    EXPECT_EQ(parseFail(part(headers, "v") + closing(), limits).code, "multipart.malformed");
}

TEST(HttpMultipart, TotalFileBytesLimit) {
    ParseLimits limits;
    limits.maxFileBytes = 10;
    auto file = [](std::string_view name, std::string_view data) {
        return part(
            "Content-Disposition: form-data; name=\"" + std::string(name) + "\"; filename=\"x\"",
            data);
    };
    // Text fields do not count toward the file budget.
    FormData f = parseOk(
        file("a", "12345") + file("b", "67890") + field("html", std::string(100, 'h')) + closing(),
        limits);
    EXPECT_EQ(f.files.size(), 2u);
    ParseError e = parseFail(file("a", "12345") + file("b", "678901") + closing(), limits);
    EXPECT_EQ(e.status, 413);
    EXPECT_EQ(e.code, "request.too_large");
    EXPECT_EQ(e.param, "b");
}

TEST(HttpMultipart, NameLengthLimit) {
    ParseLimits limits;
    limits.maxParamNameBytes = 3;
    EXPECT_TRUE(parseOk(field("abc", "1") + closing(), limits).params.has("abc"));
    EXPECT_EQ(parseFail(field("abcd", "1") + closing(), limits).code, "param.name_too_long");
}

TEST(HttpMultipart, ErrorsNeverEchoValues) {
    ParseLimits limits;
    limits.maxFileBytes = 1;
    ParseError e = parseFail(
        part("Content-Disposition: form-data; name=\"apiKey\"; filename=\"k\"", "TOPSECRET") +
            closing(),
        limits);
    EXPECT_EQ(e.message.find("TOPSECRET"), std::string::npos);
    e = parseFail(field("apiKey", "TOPSECRET"));  // no closing delimiter
    EXPECT_EQ(e.message.find("TOPSECRET"), std::string::npos);
}

TEST(HttpMultipart, ManyNearMissDelimitersInALargeBody) {
    std::string value;
    for (int i = 0; i < 20000; ++i) value += "\r\n--XyZ12\r\n--XyZ123x";
    FormData f = parseOk(field("html", value) + closing());
    EXPECT_EQ(f.params.get("html")->size(), value.size());
}

}  // namespace
}  // namespace sc::http
