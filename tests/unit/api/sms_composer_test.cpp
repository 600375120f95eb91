// SmsComposer on its own: free text, vars, stored templates, and the stored content's bytes.

#include "api/sms_composer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "api_store_fixture.h"

namespace sc::api {
namespace {

class SmsComposerTest : public testing::ApiStoreFixture {
protected:
    SmsComposerTest()
        : phones_(domain::PhoneValidation::Valid),
          composer_(backend_.templates(), phones_, SmsLimits{10, 70}) {}

    int64_t createTemplate(const std::string& text, int64_t accountId) {
        store::SmsTemplate t;
        t.accountId = accountId;
        t.name = "t";
        t.text = text;
        auto created = backend_.templates().createSmsTemplate(t);
        EXPECT_TRUE(created.ok());
        return created.ok() ? created->id : 0;
    }

    Result<ValidatedSms, ApiError> compose(
        const std::vector<std::pair<std::string, std::string>>& params) {
        http::FormData form;
        form.params.add("to", "+14155550100");
        for (const auto& [name, value] : params) form.params.add(name, value);
        return composer_.compose(accountId_, form);
    }

    static std::string codeOf(const Result<ValidatedSms, ApiError>& r) {
        return r.ok() ? std::string("ok") : r.error().code;
    }

    domain::PhoneNumberValidator phones_;
    SmsComposer composer_;
};

TEST_F(SmsComposerTest, FreeTextIsSentAsWritten) {
    auto sms = compose({{"message", "Your code is %code%"}});
    ASSERT_TRUE(sms.ok());
    EXPECT_EQ(sms->message, "Your code is %code%");
    EXPECT_EQ(sms->to, std::vector<std::string>{"+14155550100"});
}

TEST_F(SmsComposerTest, VarsFillTheMessageByEitherSpellingOfTheirNames) {
    auto sms = compose({{"message", "%a% and %b%"}, {"vars", R"({"%a%":"one","b":2})"}});
    ASSERT_TRUE(sms.ok()) << sms.error().hint;
    EXPECT_EQ(sms->message, "one and 2");
}

TEST_F(SmsComposerTest, ATemplateTakesTheVarsAndTheMessageIsNotRead) {
    const int64_t id = createTemplate("Code %code%, %pct% off", accountId_);
    auto sms = compose({{"templateId", std::to_string(id)},
                        {"message", "ignored"},
                        {"vars", R"({"code":"42","pct":"50%"})"}});
    ASSERT_TRUE(sms.ok()) << sms.error().hint;
    EXPECT_EQ(sms->message, "Code 42, 50% off");
}

TEST_F(SmsComposerTest, ATemplatePlaceholderWithoutAValueIsRefusedByName) {
    const int64_t id = createTemplate("Hi %name%, code %code%", accountId_);
    auto sms = compose({{"templateId", std::to_string(id)}, {"vars", R"({"name":"Ann"})"}});
    ASSERT_FALSE(sms.ok());
    EXPECT_EQ(sms.error().code, "sms.vars_invalid");
    EXPECT_NE(sms.error().hint.find("%code%"), std::string::npos) << sms.error().hint;
}

TEST_F(SmsComposerTest, OnlyTheAccountsOwnNumberedTemplatesAreFound) {
    auto other = issuer_.createAccount("other@else.io");
    ASSERT_TRUE(other.ok());
    const int64_t foreign = createTemplate("Theirs", other->id);
    EXPECT_EQ(codeOf(compose({{"templateId", std::to_string(foreign)}})), "sms.template_not_found");
    EXPECT_EQ(codeOf(compose({{"templateId", "12ab"}})), "sms.template_not_found");
    const int64_t own = createTemplate("Ours", accountId_);
    EXPECT_EQ(codeOf(compose({{"templateId", std::to_string(own)}})), "ok");
}

TEST_F(SmsComposerTest, RefusesWhatItCannotSend) {
    EXPECT_EQ(codeOf(compose({{"message", "hi"}, {"msgType", "1"}})), "sms.msg_type_invalid");
    EXPECT_EQ(codeOf(compose({{"message", "hi"}, {"msgType", "0"}})), "ok");
    EXPECT_EQ(codeOf(compose({{"message", "hi"}, {"vars", "[1]"}})), "sms.vars_invalid");
    EXPECT_EQ(codeOf(compose({{"message", "hi"}, {"vars", R"({"a":[1]})"}})), "sms.vars_invalid");
    // vars without a message to put them in: the message is still missing.
    EXPECT_EQ(codeOf(compose({{"vars", R"({"a":"1"})"}})), "sms.message_missing");
}

// The limit is 70 characters: a value that would pass it is stopped while the text is built,
// with the limit's own code; one that stays within it gives the ordinary length check.
TEST_F(SmsComposerTest, VarsCannotGrowTheMessagePastItsLimit) {
    auto huge =
        compose({{"message", "%v%%v%"}, {"vars", R"({"v":")" + std::string(200, 'x') + "\"}"}});
    ASSERT_FALSE(huge.ok());
    EXPECT_EQ(huge.error().status, 413);
    EXPECT_EQ(huge.error().code, "sms.message_too_long");
    auto longer =
        compose({{"message", "%v%"}, {"vars", R"({"v":")" + std::string(71, 'x') + "\"}"}});
    ASSERT_FALSE(longer.ok());
    EXPECT_EQ(longer.error().status, 400);
    EXPECT_EQ(longer.error().code, "sms.message_too_long");
}

TEST_F(SmsComposerTest, StoredContentIsTheTextNlohmannWouldWrite) {
    for (const char* message : {"plain \"quoted\" \\ text", "\xe4\xbd\xa0\xe5\xa5\xbd \n tab\t"}) {
        auto sms = compose({{"message", message}});
        ASSERT_TRUE(sms.ok()) << message;
        const nlohmann::json expected = {
            {"encoding", sms->segments.encoding == domain::SmsEncoding::Gsm7 ? "gsm7" : "ucs2"},
            {"message", sms->message},
            {"segments", sms->segments.segments}};
        EXPECT_EQ(sms->contentJsonText(), expected.dump()) << message;
    }
}

}  // namespace
}  // namespace sc::api
