#include "delivery/mime/message_builder.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace sc::delivery::mime {
namespace {

constexpr int64_t kNow = 1796436615000;  // Sat, 05 Dec 2026 02:10:15 UTC

nlohmann::json baseContent() {
    return {{"from", "news@acme.io"},
            {"fromName", "Acme News"},
            {"replyTo", nlohmann::json::array({{{"address", "help@acme.io"}}})},
            {"to", nlohmann::json::array({{{"address", "ann@example.com"}, {"name", "Ann Lee"}},
                                          {{"address", "bob@example.com"}}})},
            {"cc", nlohmann::json::array({{{"address", "cat@example.com"}}})},
            {"bcc", nlohmann::json::array({{{"address", "secret@example.com"}}})},
            {"subject", "Spring sale"},
            {"headers", nlohmann::json::object()},
            {"plain", "Hello Ann\nsee you"},
            {"html", "<p>Hello Ann</p>"}};
}

queue::DeliveryJob jobFor(const nlohmann::json& content,
                          std::vector<store::Attachment> attachments = {}) {
    auto msg = std::make_shared<queue::MessageContent>();
    msg->messageId = "1796436615000_0_123.sc-host";
    msg->contentJson = content.dump();
    msg->attachments = std::move(attachments);
    queue::DeliveryJob job;
    job.recipientId = msg->messageId + "0$ann@example.com";
    job.address = "ann@example.com";
    job.role = "to";
    job.destination = "example.com";
    job.message = std::move(msg);
    return job;
}

BuildOptions options() {
    return BuildOptions{"mx1.acme.io", kNow};
}

std::string headerBlock(const std::string& m) {
    return m.substr(0, m.find("\r\n\r\n") + 2);
}

TEST(MessageBuilder, WritesTheHeadersAndNeverBcc) {
    auto built = buildEmail(jobFor(baseContent()), options());
    ASSERT_TRUE(built) << built.error();
    std::string h = headerBlock(built->bytes);
    EXPECT_NE(h.find("From: Acme News <news@acme.io>\r\n"), std::string::npos) << h;
    EXPECT_NE(h.find("Reply-To: help@acme.io\r\n"), std::string::npos);
    EXPECT_NE(h.find("To: Ann Lee <ann@example.com>, bob@example.com\r\n"), std::string::npos);
    EXPECT_NE(h.find("Cc: cat@example.com\r\n"), std::string::npos);
    EXPECT_NE(h.find("Subject: Spring sale\r\n"), std::string::npos);
    EXPECT_NE(h.find("Date: Sat, 05 Dec 2026 02:10:15 +0000\r\n"), std::string::npos);
    EXPECT_NE(h.find("Message-ID: <1796436615000_0_123.sc-host0@mx1.acme.io>\r\n"),
              std::string::npos);
    EXPECT_NE(h.find("MIME-Version: 1.0\r\n"), std::string::npos);
    EXPECT_EQ(built->bytes.find("secret@example.com"), std::string::npos);
    EXPECT_EQ(built->bytes.find("Bcc"), std::string::npos);
    EXPECT_EQ(built->envelopeFrom, "news@acme.io");
    EXPECT_EQ(built->fromDomain, "acme.io");
    EXPECT_FALSE(built->needsSmtpUtf8);
    EXPECT_FALSE(built->has8bit);
}

TEST(MessageBuilder, BothBodiesMakeMultipartAlternativePlainFirst) {
    auto built = buildEmail(jobFor(baseContent()), options());
    ASSERT_TRUE(built);
    const std::string& m = built->bytes;
    EXPECT_NE(m.find("Content-Type: multipart/alternative; boundary=\"=_sca_"), std::string::npos);
    size_t plain = m.find("Content-Type: text/plain; charset=\"utf-8\"");
    size_t html = m.find("Content-Type: text/html; charset=\"utf-8\"");
    ASSERT_NE(plain, std::string::npos);
    ASSERT_NE(html, std::string::npos);
    EXPECT_LT(plain, html);
    EXPECT_NE(m.find("Hello Ann\r\nsee you\r\n"), std::string::npos);  // 7bit, CRLF
}

TEST(MessageBuilder, OneBodyIsASinglePart) {
    auto c = baseContent();
    c.erase("html");
    auto built = buildEmail(jobFor(c), options());
    ASSERT_TRUE(built);
    EXPECT_EQ(built->bytes.find("multipart"), std::string::npos);
    EXPECT_NE(built->bytes.find("Content-Type: text/plain"), std::string::npos);
}

TEST(MessageBuilder, AttachmentsMakeMultipartMixedWithBase64) {
    auto built =
        buildEmail(jobFor(baseContent(), {{"a.bin", "application/pdf", "Man"}}), options());
    ASSERT_TRUE(built);
    const std::string& m = built->bytes;
    size_t mixed = m.find("Content-Type: multipart/mixed; boundary=\"=_scm_");
    size_t alternative = m.find("Content-Type: multipart/alternative");
    ASSERT_NE(mixed, std::string::npos);
    EXPECT_LT(mixed, alternative);
    EXPECT_NE(m.find("Content-Type: application/pdf;\r\n name=\"a.bin\"\r\n"
                     "Content-Disposition: attachment;\r\n filename=\"a.bin\"\r\n"
                     "Content-Transfer-Encoding: base64\r\n\r\nTWFu\r\n"),
              std::string::npos)
        << m;
}

TEST(MessageBuilder, AMultipartAttachmentTypeBecomesOctetStream) {
    auto built = buildEmail(jobFor(baseContent(), {{"x", "multipart/mixed", "data"}}), options());
    ASSERT_TRUE(built);
    EXPECT_NE(built->bytes.find("Content-Type: application/octet-stream"), std::string::npos);
}

TEST(MessageBuilder, TheRecipientsOwnContentWins) {
    auto job = jobFor(baseContent());
    auto own = baseContent();
    own["subject"] = "Only for Ann";
    own["to"] = nlohmann::json::array({{{"address", "ann@example.com"}}});
    job.contentJson = own.dump();
    auto built = buildEmail(job, options());
    ASSERT_TRUE(built);
    EXPECT_NE(built->bytes.find("Subject: Only for Ann\r\n"), std::string::npos);
    EXPECT_NE(built->bytes.find("To: ann@example.com\r\n"), std::string::npos);
    EXPECT_EQ(built->bytes.find("bob@example.com"), std::string::npos);
}

TEST(MessageBuilder, OnlyBccRecipientsShowUndisclosedRecipients) {
    auto c = baseContent();
    c["to"] = nlohmann::json::array();
    c["cc"] = nlohmann::json::array();
    auto built = buildEmail(jobFor(c), options());
    ASSERT_TRUE(built);
    EXPECT_NE(built->bytes.find("To: undisclosed-recipients:;\r\n"), std::string::npos);
}

TEST(MessageBuilder, CallerHeadersAreWrittenAndServiceHeadersRefused) {
    auto c = baseContent();
    c["headers"] = {{"X-Campaign", "spring"}, {"List-Unsubscribe", "<mailto:u@acme.io>"}};
    auto built = buildEmail(jobFor(c), options());
    ASSERT_TRUE(built);
    EXPECT_NE(built->bytes.find("X-Campaign: spring\r\n"), std::string::npos);
    EXPECT_NE(built->bytes.find("List-Unsubscribe: <mailto:u@acme.io>\r\n"), std::string::npos);

    for (const char* name : {"Return-Path", "Received", "Content-Transfer-Encoding",
                             "DKIM-Signature", "resent-from", "ARC-Seal", "bcc"}) {
        auto bad = baseContent();
        bad["headers"] = {{name, "x"}};
        auto r = buildEmail(jobFor(bad), options());
        ASSERT_FALSE(r) << name;
        EXPECT_NE(r.error().find(name), std::string::npos) << r.error();
    }
    EXPECT_TRUE(isServiceHeaderName("content-type"));
    EXPECT_FALSE(isServiceHeaderName("X-Content-Type"));
    EXPECT_FALSE(isServiceHeaderName("List-Unsubscribe"));
}

TEST(MessageBuilder, LongAndNonAsciiBodiesKeepLinesShort) {
    auto c = baseContent();
    c["plain"] = std::string(5000, 'a');  // one long ASCII line
    std::string chinese;
    for (int i = 0; i < 2000; ++i) chinese += "\xE4\xBD\xA0";
    c["html"] = "<p>" + chinese + "</p>";
    auto built = buildEmail(jobFor(c), options());
    ASSERT_TRUE(built);
    const std::string& m = built->bytes;
    EXPECT_NE(m.find("Content-Transfer-Encoding: quoted-printable"), std::string::npos);
    EXPECT_NE(m.find("Content-Transfer-Encoding: base64"), std::string::npos);
    size_t start = 0;
    for (size_t p; (p = m.find("\r\n", start)) != std::string::npos; start = p + 2) {
        ASSERT_LE(p - start, 78u);
    }
    EXPECT_EQ(m.find('\n'), m.find("\r\n") + 1);  // no bare LF anywhere
}

TEST(MessageBuilder, UnicodeAddressesNeedSmtpUtf8) {
    auto c = baseContent();
    c["to"] = nlohmann::json::array({{{"address", "j\xC3\xB6rg@example.com"}}});
    auto built = buildEmail(jobFor(c), options());
    ASSERT_TRUE(built);
    EXPECT_TRUE(built->needsSmtpUtf8);
}

TEST(MessageBuilder, MalformedStoredContentIsAnError) {
    auto job = jobFor(baseContent());
    job.contentJson = "not json";
    EXPECT_FALSE(buildEmail(job, options()));
    auto c = baseContent();
    c["from"] = "no-at-sign";
    EXPECT_FALSE(buildEmail(jobFor(c), options()));
    c = baseContent();
    c["subject"] = "a\r\nBcc: x@y.z";
    EXPECT_FALSE(buildEmail(jobFor(c), options()));
    c = baseContent();
    c["to"] = nlohmann::json::array({{{"address", "a@b.c>\r\nX: y"}}});
    EXPECT_FALSE(buildEmail(jobFor(c), options()));
}

// Python's email package is an independent reader: what it makes of our bytes is what a mail
// client will.
nlohmann::json parseWithPython(const std::string& message) {
    auto dir = std::filesystem::temp_directory_path() /
               ("sc_mime_" + std::to_string(::getpid()) + "_" +
                std::to_string(reinterpret_cast<uintptr_t>(&message)));
    std::filesystem::create_directories(dir);
    auto file = dir / "message.eml";
    std::ofstream(file, std::ios::binary) << message;
    std::string cmd = "/usr/bin/python3 " SC_MIME_PARSE_SCRIPT " " + file.string();
    std::string out;
    if (FILE* p = popen(cmd.c_str(), "r")) {
        char buf[4096];
        for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
        EXPECT_EQ(pclose(p), 0) << out;
    }
    std::filesystem::remove_all(dir);
    return nlohmann::json::parse(out, nullptr, false);
}

std::string hex(const std::string& s) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : s) {
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
    return out;
}

TEST(MessageBuilderPython, PythonReadsBackEverything) {
    auto c = baseContent();
    c["fromName"] = "J\xC3\xB6rg \"the boss\" <Acme>, Inc.";
    c["subject"] =
        "\xE6\x98\xA5\xE5\xAD\xA3\xE7\x89\xB9\xE5\x8D\x96 spring sale \xF0\x9F\x8C\xB8 " +
        std::string(120, 'x');
    c["to"] = nlohmann::json::array({{{"address", "ann@example.com"}, {"name", "Lee, Ann"}},
                                     {{"address", "bob@example.com"}, {"name", "Bob \"B\" <x>"}}});
    c["cc"] = nlohmann::json::array(
        {{{"address", "cat@example.com"}, {"name", "Ca\xC3\xAF Zo\xC3\xAB"}}});
    std::string plain = "Hello Ann,\n\nprice: 10 \xE2\x82\xAC\n" + std::string(2000, 'p') +
                        "\ntrailing space \nlast";
    std::string html;
    for (int i = 0; i < 300; ++i) html += "\xE4\xBD\xA0\xE5\xA5\xBD";
    html = "<p>" + html + "</p>\n";
    c["plain"] = plain;
    c["html"] = html;
    c["headers"] = {{"X-Campaign", "spring \xE2\x9C\xBF"},
                    {"List-Unsubscribe", "<mailto:u@acme.io>"}};
    std::string binary;
    for (int i = 0; i < 5000; ++i) binary += static_cast<char>((i * 7919) & 0xFF);
    std::vector<store::Attachment> atts = {
        {"r\xC3\xA9sum\xC3\xA9 " + std::string(80, 'n') + ".pdf", "application/pdf", binary},
        {"notes.txt", "text/plain", "line1\nline2 with =_sca_ inside\n"},
        {"empty.bin", "application/octet-stream", ""}};
    auto built = buildEmail(jobFor(c, atts), options());
    ASSERT_TRUE(built) << built.error();

    auto p = parseWithPython(built->bytes);
    ASSERT_FALSE(p.is_discarded());
    EXPECT_EQ(p["defects"], nlohmann::json::array());
    EXPECT_LE(p["maxLine"].get<int>(), 998);
    EXPECT_FALSE(p["bareLineBreak"].get<bool>());
    EXPECT_TRUE(p["endsWithCrlf"].get<bool>());
    EXPECT_EQ(p["subject"], c["subject"]);
    ASSERT_EQ(p["from"].size(), 1u);
    EXPECT_EQ(p["from"][0][0], c["fromName"]);
    EXPECT_EQ(p["from"][0][1], "news@acme.io");
    EXPECT_EQ(p["to"], nlohmann::json::parse(R"([["Lee, Ann","ann@example.com"],
                                                  ["Bob \"B\" <x>","bob@example.com"]])"));
    EXPECT_EQ(p["cc"][0][0], "Ca\xC3\xAF Zo\xC3\xAB");
    EXPECT_EQ(p["replyTo"][0][1], "help@acme.io");
    EXPECT_TRUE(p["bcc"].is_null());
    EXPECT_EQ(p["messageId"], "<1796436615000_0_123.sc-host0@mx1.acme.io>");
    EXPECT_EQ(p["date"], "Sat, 05 Dec 2026 02:10:15 +0000");
    EXPECT_EQ(p["extra"]["X-Campaign"], "spring \xE2\x9C\xBF");
    EXPECT_EQ(p["extra"]["List-Unsubscribe"], "<mailto:u@acme.io>");
    EXPECT_EQ(p["plain"], plain);
    EXPECT_EQ(p["html"], html);
    EXPECT_EQ(p["structure"], nlohmann::json::parse(R"(["multipart/mixed",
        "multipart/alternative", "text/plain", "text/html", "application/pdf", "text/plain",
        "application/octet-stream"])"));
    ASSERT_EQ(p["attachments"].size(), 3u);
    for (size_t i = 0; i < atts.size(); ++i) {
        EXPECT_EQ(p["attachments"][i]["filename"], atts[i].filename) << i;
        EXPECT_EQ(p["attachments"][i]["contentType"], atts[i].contentType) << i;
        // Byte for byte: the text attachment's bare LFs too (base64, not canonicalised).
        EXPECT_EQ(p["attachments"][i]["hex"], hex(atts[i].data)) << i;
    }
}

TEST(MessageBuilderPython, PlainOnlyAndHtmlOnlyReadBack) {
    for (const char* drop : {"html", "plain"}) {
        auto c = baseContent();
        c.erase(drop);
        auto built = buildEmail(jobFor(c), options());
        ASSERT_TRUE(built);
        auto p = parseWithPython(built->bytes);
        ASSERT_FALSE(p.is_discarded());
        EXPECT_EQ(p["defects"], nlohmann::json::array());
        if (std::string(drop) == "html") {
            // A single part's closing CRLF is the last line's end, which a reader keeps.
            EXPECT_EQ(p["plain"], "Hello Ann\nsee you\n");
            EXPECT_TRUE(p["html"].is_null());
        } else {
            EXPECT_EQ(p["html"], "<p>Hello Ann</p>\n");
            EXPECT_TRUE(p["plain"].is_null());
        }
    }
}

}  // namespace
}  // namespace sc::delivery::mime
