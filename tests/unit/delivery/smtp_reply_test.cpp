#include "delivery/smtp/smtp_reply.h"

#include <gtest/gtest.h>

namespace sc::delivery::smtp {
namespace {

TEST(SmtpReply, SingleLineWithEnhancedCode) {
    auto p = parseReply("550 5.1.1 <a@b.example>: no such user\r\nrest");
    ASSERT_EQ(p.status, ReplyParse::Status::Complete);
    EXPECT_EQ(p.reply.code, 550);
    EXPECT_EQ(p.reply.enhancedCode, "5.1.1");
    EXPECT_EQ(p.consumed, std::string("550 5.1.1 <a@b.example>: no such user\r\n").size());
    EXPECT_EQ(p.reply.summary(), "550 5.1.1 <a@b.example>: no such user");
}

TEST(SmtpReply, MultiLineEhlo) {
    auto p = parseReply("250-mx.example\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250 STARTTLS\r\n");
    ASSERT_EQ(p.status, ReplyParse::Status::Complete);
    EXPECT_EQ(p.reply.lines.size(), 4u);
    EXPECT_EQ(p.reply.lines[3], "STARTTLS");
    EXPECT_EQ(p.reply.enhancedCode, "");
}

TEST(SmtpReply, NeedsMoreUntilTheLastLine) {
    EXPECT_EQ(parseReply("250-mx.example\r\n250-PIPE").status, ReplyParse::Status::NeedMore);
    EXPECT_EQ(parseReply("250-mx.example\r\n").status, ReplyParse::Status::NeedMore);
    EXPECT_EQ(parseReply("").status, ReplyParse::Status::NeedMore);
}

TEST(SmtpReply, BareCodeAndBareLf) {
    auto p = parseReply("354\n");
    ASSERT_EQ(p.status, ReplyParse::Status::Complete);
    EXPECT_EQ(p.reply.code, 354);
}

TEST(SmtpReply, RejectsMixedCodesAndGarbage) {
    EXPECT_EQ(parseReply("250-a\r\n251 b\r\n").status, ReplyParse::Status::Error);
    EXPECT_EQ(parseReply("hello\r\n").status, ReplyParse::Status::Error);
    EXPECT_EQ(parseReply("250x\r\n").status, ReplyParse::Status::Error);
    EXPECT_EQ(parseReply("650 no\r\n").status, ReplyParse::Status::Error);
}

TEST(SmtpReply, LimitsLineLengthEvenBeforeTheLineEnds) {
    ReplyLimits limits;
    limits.maxLineBytes = 16;
    EXPECT_EQ(parseReply(std::string(17, '2'), limits).status, ReplyParse::Status::Error);
    EXPECT_EQ(parseReply("250 0123456789a\r\n", limits).status, ReplyParse::Status::Complete);
}

TEST(SmtpReply, LimitsLineCount) {
    ReplyLimits limits;
    limits.maxLines = 3;
    EXPECT_EQ(parseReply("250-a\r\n250-b\r\n250 c\r\n", limits).status,
              ReplyParse::Status::Complete);
    EXPECT_EQ(parseReply("250-a\r\n250-b\r\n250-c\r\n250 d\r\n", limits).status,
              ReplyParse::Status::Error);
}

TEST(SmtpReply, EnhancedCodeMustMatchTheClass) {
    EXPECT_EQ(enhancedCodeOf("4.2.0 later", 4), "4.2.0");
    EXPECT_EQ(enhancedCodeOf("4.2.0 later", 5), "");
    EXPECT_EQ(enhancedCodeOf("5.7.1234 x", 5), "");
    EXPECT_EQ(enhancedCodeOf("5.7.26", 5), "5.7.26");
    EXPECT_EQ(enhancedCodeOf("5.7.1x", 5), "");
}

}  // namespace
}  // namespace sc::delivery::smtp
