#include "delivery/mime/mime_encoding.h"

#include <gtest/gtest.h>

#include <string>

namespace sc::delivery::mime {
namespace {

size_t longestLine(const std::string& s) {
    size_t longest = 0, start = 0;
    for (size_t p; (p = s.find("\r\n", start)) != std::string::npos; start = p + 2) {
        longest = std::max(longest, p - start);
    }
    return std::max(longest, s.size() - start);
}

TEST(MimeEncoding, Base64LinesAreSeventySixCharactersAndPadded) {
    std::string out;
    appendBase64Lines(out, std::string(101, 'a'));
    EXPECT_EQ(longestLine(out), 76u);
    EXPECT_EQ(out.substr(out.size() - 6), "YWE=\r\n");
    out.clear();
    appendBase64Lines(out, "Man");
    EXPECT_EQ(out, "TWFu\r\n");
    out.clear();
    appendBase64Lines(out, "M");
    EXPECT_EQ(out, "TQ==\r\n");
}

TEST(MimeEncoding, QuotedPrintableKeepsLinesShortAndEscapesWhatMustBe) {
    std::string out;
    appendQuotedPrintable(out, std::string(500, 'x') + "\n=caf\xC3\xA9 \nend");
    EXPECT_LE(longestLine(out), 76u);
    EXPECT_NE(out.find("=3Dcaf=C3=A9=20\r\nend\r\n"), std::string::npos);
    EXPECT_NE(out.find("=\r\n"), std::string::npos);  // soft breaks in the long line
}

TEST(MimeEncoding, QuotedPrintableNeverSplitsAnEscape) {
    std::string out;
    appendQuotedPrintable(out, std::string(300, '\xE9'));
    size_t start = 0;
    for (size_t p; (p = out.find("\r\n", start)) != std::string::npos; start = p + 2) {
        std::string line = out.substr(start, p - start);
        EXPECT_LE(line.size(), 76u);
        // Every line is a run of whole "=E9" escapes, then the soft break's '='.
        if (line.back() == '=') line.pop_back();
        EXPECT_EQ(line.size() % 3, 0u) << line;
    }
}

TEST(MimeEncoding, CanonicalTextTurnsEveryBreakIntoCrlf) {
    std::string out;
    appendCanonicalText(out, "a\nb\r\nc\rd");
    EXPECT_EQ(out, "a\r\nb\r\nc\r\nd\r\n");
}

TEST(MimeEncoding, AsciiSubjectIsFoldedNotEncoded) {
    std::string words;
    for (int i = 0; i < 40; ++i) words += "word" + std::to_string(i) + " ";
    words.pop_back();
    std::string out;
    appendUnstructuredHeader(out, "Subject", words);
    EXPECT_EQ(out.find("=?"), std::string::npos);
    EXPECT_LE(longestLine(out), 78u);
    // Unfolding (removing the CRLFs) gives the value back.
    std::string unfolded = out;
    for (size_t p; (p = unfolded.find("\r\n ")) != std::string::npos;) unfolded.erase(p, 2);
    EXPECT_EQ(unfolded, "Subject: " + words + "\r\n");
}

TEST(MimeEncoding, NonAsciiSubjectIsEncodedWordsOfWholeCharacters) {
    std::string value;
    for (int i = 0; i < 60; ++i) value += "\xE4\xBD\xA0";  // 你, three bytes
    std::string out;
    appendUnstructuredHeader(out, "Subject", value);
    EXPECT_EQ(out.rfind("Subject: =?UTF-8?B?", 0), 0u);
    EXPECT_LE(longestLine(out), 76u);
    // 45 bytes per word at most, never splitting the three-byte character: 15 characters (45
    // bytes, 60 base64 characters) per word.
    EXPECT_NE(out.find("=?UTF-8?B?5L2g5L2g5L2g5L2g5L2g5L2g5L2g5L2g5L2g5L2g5L2g5L2g5L2g5L2g5L2g?="),
              std::string::npos);
}

TEST(MimeEncoding, EncodedWordLookalikesAndOverlongWordsAreEncoded) {
    std::string out;
    appendUnstructuredHeader(out, "X-A", "=?UTF-8?B?aGk=?=");
    EXPECT_EQ(out.find("=?UTF-8?B?aGk=?="), std::string::npos);
    out.clear();
    appendUnstructuredHeader(out, "X-B", std::string(990, 'z'));
    EXPECT_LE(longestLine(out), 78u);
}

TEST(MimeEncoding, DisplayNamesAreAtomsQuotedOrEncoded) {
    EXPECT_EQ(encodeDisplayName("Ann Lee"), "Ann Lee");
    EXPECT_EQ(encodeDisplayName("Lee, Ann"), "\"Lee, Ann\"");
    EXPECT_EQ(encodeDisplayName("Ann \"the\" <boss>"), "\"Ann \\\"the\\\" <boss>\"");
    EXPECT_EQ(encodeDisplayName("back\\slash"), "\"back\\\\slash\"");
    EXPECT_EQ(encodeDisplayName("Zo\xC3\xAB"), "=?UTF-8?B?Wm/Dqw==?=");
    EXPECT_EQ(encodeDisplayName(""), "");
}

TEST(MimeEncoding, FilenamesUseRfc2231WhenNotPlainAscii) {
    std::string out;
    appendFilenameParameter(out, "filename", "report.pdf");
    EXPECT_EQ(out, ";\r\n filename=\"report.pdf\"");
    out.clear();
    appendFilenameParameter(out, "filename", "r\xC3\xA9sum\xC3\xA9.pdf");
    EXPECT_EQ(out, ";\r\n filename*=utf-8''r%C3%A9sum%C3%A9.pdf");
    out.clear();
    appendFilenameParameter(out, "filename", std::string(100, 'a') + ".txt");
    EXPECT_NE(out.find("filename*0*=utf-8''"), std::string::npos);
    EXPECT_NE(out.find("filename*1*="), std::string::npos);
    EXPECT_LE(longestLine(out), 78u);
}

TEST(MimeEncoding, DateIsRfc5322InUtc) {
    EXPECT_EQ(rfc5322Date(0), "Thu, 01 Jan 1970 00:00:00 +0000");
    EXPECT_EQ(rfc5322Date(1796436615000), "Sat, 05 Dec 2026 02:10:15 +0000");
}

}  // namespace
}  // namespace sc::delivery::mime
