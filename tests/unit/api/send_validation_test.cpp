#include "api/send_validation.h"

#include <gtest/gtest.h>

namespace sc::api {
namespace {

http::FormData form(std::vector<http::Param> params) {
    http::FormData f;
    for (auto& p : params) f.params.add(p.name, p.value);
    return f;
}

std::vector<http::Param> goodEmail() {
    return {{"from", "News <news@acme.io>"},
            {"to", "a@x.io; b@y.io,c@z.io"},
            {"subject", "Hi"},
            {"html", "<p>Hi</p>"}};
}

std::string codeOf(const Result<ValidatedEmail, ApiError>& r) {
    return r.ok() ? std::string("ok") : r.error().code;
}

std::vector<http::Param> without(std::vector<http::Param> p, const std::string& name) {
    std::erase_if(p, [&](const http::Param& x) { return x.name == name; });
    return p;
}

std::vector<http::Param> with(std::vector<http::Param> p, const std::string& name,
                              const std::string& value) {
    p = without(std::move(p), name);
    p.push_back({name, value});
    return p;
}

TEST(ValidateEmailTest, AcceptsAGoodMessage) {
    auto r = validateEmail(form(goodEmail()), {});
    ASSERT_TRUE(r.ok()) << r.error().hint;
    EXPECT_EQ(r->from.address, "news@acme.io");
    EXPECT_EQ(r->fromName, "News");
    ASSERT_EQ(r->to.size(), 3u);
    EXPECT_EQ(r->to[2].address, "c@z.io");
    EXPECT_EQ(r->contentJson()["subject"], "Hi");
}

TEST(ValidateEmailTest, WithoutHeadersTheContentHasAnEmptyHeaderObject) {
    // No headers parameter leaves `headers` null (no allocation); what is stored stays {}.
    auto r = validateEmail(form(goodEmail()), {});
    ASSERT_TRUE(r.ok()) << r.error().hint;
    EXPECT_TRUE(r->headers.is_null());
    EXPECT_EQ(r->contentJson()["headers"], nlohmann::json::object());
    EXPECT_NE(r->contentJsonText().find(R"("headers":{},)"), std::string::npos)
        << r->contentJsonText();
    EXPECT_EQ(r->contentJsonText(), r->contentJson().dump());
}

TEST(ValidateEmailTest, MissingFromSaysSoPlainly) {
    auto r = validateEmail(form(without(goodEmail(), "from")), {});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "email.from_missing");
    EXPECT_EQ(r.error().status, 400);
    EXPECT_NE(r.error().hint.find("'from' parameter is missing"), std::string::npos);
}

TEST(ValidateEmailTest, EachMissingPartHasItsCode) {
    EXPECT_EQ(codeOf(validateEmail(form(without(goodEmail(), "to")), {})), "email.to_missing");
    EXPECT_EQ(codeOf(validateEmail(form(without(goodEmail(), "subject")), {})),
              "email.subject_missing");
    EXPECT_EQ(codeOf(validateEmail(form(without(goodEmail(), "html")), {})), "email.body_missing");
    EXPECT_EQ(codeOf(validateEmail(form(with(goodEmail(), "from", "   ")), {})),
              "email.from_missing");
}

TEST(ValidateEmailTest, RefusesMalformedAddresses) {
    EXPECT_EQ(codeOf(validateEmail(form(with(goodEmail(), "from", "not-an-address")), {})),
              "email.from_invalid");
    EXPECT_EQ(codeOf(validateEmail(form(with(goodEmail(), "to", "a@x.io;bob@")), {})),
              "email.to_invalid");
    EXPECT_EQ(codeOf(validateEmail(form(with(goodEmail(), "cc", "x@")), {})), "email.cc_invalid");
}

TEST(ValidateEmailTest, RefusesHeaderInjection) {
    EXPECT_EQ(codeOf(validateEmail(form(with(goodEmail(), "subject", "Hi\r\nBcc: evil@x.io")), {})),
              "email.subject_invalid");
    EXPECT_EQ(codeOf(validateEmail(form(with(goodEmail(), "fromName", "A\nBcc: e@x.io")), {})),
              "email.from_name_invalid");
    EXPECT_EQ(codeOf(validateEmail(
                  form(with(goodEmail(), "headers", R"({"X-A":"v\r\nBcc: evil@x.io"})")), {})),
              "email.headers_invalid");
    EXPECT_EQ(
        codeOf(validateEmail(form(with(goodEmail(), "headers", R"({"X-A\r\nBcc":"v"})")), {})),
        "email.headers_invalid");
    EXPECT_EQ(codeOf(validateEmail(form(with(goodEmail(), "headers", R"({"Bcc":"e@x.io"})")), {})),
              "email.headers_invalid");
    EXPECT_EQ(codeOf(validateEmail(form(with(goodEmail(), "headers", "[1,2]")), {})),
              "email.headers_invalid");
    // Transport and trace headers belong to the servers a message passes through.
    for (const char* name : {"Return-Path", "Received", "Content-Transfer-Encoding",
                             "DKIM-Signature", "Resent-From", "ARC-Seal"}) {
        EXPECT_EQ(
            codeOf(validateEmail(
                form(with(goodEmail(), "headers", std::string("{\"") + name + "\":\"v\"}")), {})),
            "email.headers_invalid")
            << name;
    }
    auto ok = validateEmail(form(with(goodEmail(), "headers", R"({"X-Campaign":"spring"})")), {});
    ASSERT_TRUE(ok.ok());
    EXPECT_EQ(ok->headers["X-Campaign"], "spring");
}

TEST(ValidateEmailTest, EnforcesLimits) {
    EmailLimits small{2, 10};
    EXPECT_EQ(codeOf(validateEmail(form(goodEmail()), small)), "email.too_many_recipients");
    auto p = with(goodEmail(), "to", "a@x.io");
    p = with(p, "cc", "b@x.io");
    p = with(p, "bcc", "c@x.io");
    EXPECT_EQ(codeOf(validateEmail(form(p), small)), "email.too_many_recipients");
    auto big = validateEmail(
        form(with(with(goodEmail(), "to", "a@x.io"), "html", std::string(11, 'x'))), small);
    ASSERT_FALSE(big.ok());
    EXPECT_EQ(big.error().status, 413);
    EXPECT_EQ(codeOf(validateEmail(form(with(goodEmail(), "subject", std::string(999, 's'))), {})),
              "email.subject_invalid");
}

TEST(ValidateEmailTest, AttachmentsOnlyUnderTheirName) {
    auto f = form(goodEmail());
    f.files.push_back({"attachments", "a.txt", "text/plain", "hello"});
    auto r = validateEmail(f, {});
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->attachments.size(), 1u);
    EXPECT_EQ(r->attachments[0].data, "hello");
    f.files.push_back({"other", "b.txt", "text/plain", "x"});
    EXPECT_EQ(codeOf(validateEmail(f, {})), "email.unexpected_file");
}

TEST(ValidateSmsTest, AcceptsNumbersAndCountsSegments) {
    domain::PhoneNumberValidator phones(domain::PhoneValidation::Valid);
    auto r = validateSms(
        form({{"to", "+14155550100,+447911123456"}, {"message", std::string(161, 'a')}}), phones,
        100, 1000);
    ASSERT_TRUE(r.ok()) << r.error().hint;
    EXPECT_EQ(r->to.size(), 2u);
    EXPECT_EQ(r->segments.segments, 2u);
}

TEST(ValidateSmsTest, RefusesBadInput) {
    domain::PhoneNumberValidator phones(domain::PhoneValidation::Valid);
    auto placeholder =
        validateSms(form({{"to", "+1234567890"}, {"message", "hi"}}), phones, 100, 1000);
    ASSERT_FALSE(placeholder.ok());
    EXPECT_EQ(placeholder.error().code, "sms.to_invalid");
    EXPECT_FALSE(placeholder.error().hint.empty());
    EXPECT_EQ(validateSms(form({{"message", "hi"}}), phones, 100, 1000).error().code,
              "sms.to_missing");
    EXPECT_EQ(validateSms(form({{"to", "+14155550100"}}), phones, 100, 1000).error().code,
              "sms.message_missing");
    EXPECT_EQ(validateSms(form({{"to", "+14155550100"}, {"message", std::string(11, 'a')}}), phones,
                          100, 10)
                  .error()
                  .code,
              "sms.message_too_long");
    EXPECT_EQ(
        validateSms(form({{"to", "+14155550100,+447911123456"}, {"message", "x"}}), phones, 1, 1000)
            .error()
            .code,
        "sms.too_many_recipients");
}

}  // namespace
}  // namespace sc::api
