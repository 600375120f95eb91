#include "api/wire_compat.h"

#include <gtest/gtest.h>

#include "api/xsmtpapi.h"

namespace sc::api {
namespace {

// Substitution with a budget no ordinary test comes near.
std::string render(std::string_view text, const std::map<std::string, std::string>& vars,
                   const std::map<std::string, std::string>& sections) {
    SubstitutionBudget budget{1u << 20, 1u << 20};
    auto out = substitute(text, vars, sections, budget);
    EXPECT_TRUE(out.has_value());
    return out.value_or("");
}

http::FormData form(std::vector<http::Param> params) {
    http::FormData f;
    for (auto& p : params) f.params.add(p.name, p.value);
    return f;
}

TEST(WireCompatTest, V1SpellingsBecomeCanonical) {
    auto f = form({{"api_user", "acme_api"},
                   {"api_key", "K"},
                   {"fromname", "Acme"},
                   {"replyto", "r@acme.io"},
                   {"x_smtpapi", "{}"},
                   {"resp_email_id", "True"}});
    ASSERT_TRUE(normalizeParams(f, Endpoint::EmailSend).ok());
    EXPECT_EQ(f.params.get("apiUser").value_or(""), "acme_api");
    EXPECT_EQ(f.params.get("apiKey").value_or(""), "K");
    EXPECT_EQ(f.params.get("fromName").value_or(""), "Acme");
    EXPECT_EQ(f.params.get("replyTo").value_or(""), "r@acme.io");
    EXPECT_EQ(f.params.get("xsmtpapi").value_or(""), "{}");
    EXPECT_EQ(f.params.get("respEmailId").value_or(""), "True");
    EXPECT_FALSE(f.params.has("api_user"));
}

TEST(WireCompatTest, SameValueUnderBothSpellingsIsFineDifferentIsA400) {
    auto same = form({{"apiUser", "acme_api"}, {"api_user", "acme_api"}});
    EXPECT_TRUE(normalizeParams(same, Endpoint::EmailSend).ok());
    auto different = form({{"apiUser", "acme_api"}, {"api_user", "other_api"}});
    auto r = normalizeParams(different, Endpoint::EmailSend);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "param.duplicate");
    EXPECT_NE(r.error().hint.find("api_user"), std::string::npos);
}

TEST(WireCompatTest, RepeatedToIsAList) {
    auto f = form({{"to", "a@x.io"}, {"to", "b@x.io"}, {"subject", "s"}});
    ASSERT_TRUE(normalizeParams(f, Endpoint::EmailSend).ok());
    EXPECT_EQ(f.params.get("to").value_or(""), "a@x.io;b@x.io");
    auto sms = form({{"phone", "+14155550100"}, {"phone", "+447911123456"}});
    ASSERT_TRUE(normalizeParams(sms, Endpoint::SmsSend).ok());
    EXPECT_EQ(sms.params.get("to").value_or(""), "+14155550100,+447911123456");
}

TEST(WireCompatTest, ToAndItsAliasPhoneMustAgree) {
    auto same = form({{"phone", "+14155550100"}, {"to", "+14155550100"}});
    ASSERT_TRUE(normalizeParams(same, Endpoint::SmsSend).ok());
    EXPECT_EQ(same.params.get("to").value_or(""), "+14155550100");
    auto different = form({{"phone", "+14155550100"}, {"to", "+447911123456"}});
    auto r = normalizeParams(different, Endpoint::SmsSend);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "param.duplicate");
}

TEST(WireCompatTest, SubstitutionVarsOnlyOnTemplateSends) {
    auto t = form({{"substitution_vars", R"({"to":["a@x.io"]})"}});
    ASSERT_TRUE(normalizeParams(t, Endpoint::EmailTemplateSend).ok());
    EXPECT_TRUE(t.params.has("xsmtpapi"));
    auto e = form({{"substitution_vars", "{}"}});
    ASSERT_TRUE(normalizeParams(e, Endpoint::EmailSend).ok());
    EXPECT_FALSE(e.params.has("xsmtpapi"));
}

TEST(WireCompatTest, FilesPartsAreAttachments) {
    auto f = form({});
    f.files.push_back({"files", "a.txt", "text/plain", "x"});
    ASSERT_TRUE(normalizeParams(f, Endpoint::EmailSend).ok());
    EXPECT_EQ(f.files[0].field, "attachments");
}

// The common request: canonical names, each once. Every value must read as before, whichever
// way normalizeParams gets there.
TEST(WireCompatTest, ParametersAlreadyNormalReadTheSame) {
    const std::vector<http::Param> sent = {{"apiUser", "acme_api"}, {"apiKey", "K"},
                                           {"from", "a@acme.io"},   {"to", "b@x.io"},
                                           {"subject", "s"},        {"html", "<p>x</p>"}};
    auto f = form(sent);
    f.files.push_back({"files", "a.txt", "text/plain", "x"});
    ASSERT_TRUE(normalizeParams(f, Endpoint::EmailSend).ok());
    EXPECT_EQ(f.params.size(), sent.size());
    for (const auto& p : sent) EXPECT_EQ(f.params.get(p.name).value_or("-"), p.value) << p.name;
    EXPECT_EQ(f.files[0].field, "attachments");

    // `phone` is an alias on SMS sends only; an empty `to` stays an empty `to`.
    auto sms = form({{"smsUser", "u"}, {"to", ""}, {"message", "m"}});
    ASSERT_TRUE(normalizeParams(sms, Endpoint::SmsSend).ok());
    EXPECT_EQ(sms.params.get("to").value_or("-"), "");
    auto phone = form({{"phone", "+14155550100"}});
    ASSERT_TRUE(normalizeParams(phone, Endpoint::EmailSend).ok());
    EXPECT_EQ(phone.params.get("phone").value_or("-"), "+14155550100");
    EXPECT_FALSE(phone.params.has("to"));
}

TEST(WireCompatTest, BooleansAnyCase) {
    EXPECT_EQ(parseBoolParam("True"), true);
    EXPECT_EQ(parseBoolParam("FALSE"), false);
    EXPECT_FALSE(parseBoolParam("yes"));
}

TEST(XSmtpApiTest, SubstitutesByPositionWithSectionsAndPubsub) {
    auto x = parseXSmtpApi(
        R"({"to":["ann@x.io","bob@x.io"],"sub":{"%name%":["Ann","Bob"],"%body%":["%long%","short"]},
            "section":{"%long%":"a long text"},"pubsub":{"%co%":"Acme"}})",
        100);
    ASSERT_TRUE(x.ok()) << x.error().hint;
    ASSERT_EQ(x->to.size(), 2u);
    EXPECT_EQ(render("Hi %name% from %co%: %body%", x->varsFor(0), x->section),
              "Hi Ann from Acme: a long text");
    EXPECT_EQ(render("Hi %name% from %co%: %body%", x->varsFor(1), x->section),
              "Hi Bob from Acme: short");
}

TEST(XSmtpApiTest, NullMembersReadAsAbsent) {
    // The shape SendCloud's official SDKs send: every member present, null for the unset ones.
    auto sdk = parseXSmtpApi(
        R"({"to":["ann@x.io"],"sub":{"%name%":["Ann"]},"section":null,"pubsub":null,
            "filters":null,"settings":null})",
        100);
    ASSERT_TRUE(sdk.ok()) << sdk.error().hint;
    EXPECT_EQ(sdk->to.size(), 1u);
    EXPECT_TRUE(sdk->section.empty());
    EXPECT_TRUE(sdk->pubsub.empty());
    auto allNull = parseXSmtpApi(R"({"to":null,"sub":null,"section":null,"pubsub":null})", 100);
    ASSERT_TRUE(allNull.ok()) << allNull.error().hint;
    EXPECT_TRUE(allNull->to.empty());
    EXPECT_TRUE(allNull->sub.empty());
    // A null value inside a member is still refused: only a whole member may be null.
    EXPECT_FALSE(parseXSmtpApi(R"({"to":["ann@x.io"],"sub":{"%n%":null}})", 100).ok());
}

TEST(XSmtpApiTest, ErrorsNameTheBrokenPart) {
    auto miscount = parseXSmtpApi(R"({"to":["a@x.io","b@x.io"],"sub":{"%n%":["A"]}})", 100);
    ASSERT_FALSE(miscount.ok());
    EXPECT_NE(miscount.error().hint.find("xsmtpapi.sub['%n%']"), std::string::npos);
    auto badTo = parseXSmtpApi(R"({"to":["a@x.io","nope"]})", 100);
    ASSERT_FALSE(badTo.ok());
    EXPECT_NE(badTo.error().hint.find("xsmtpapi.to[1]"), std::string::npos);
    EXPECT_FALSE(parseXSmtpApi("not json", 100).ok());
    EXPECT_FALSE(parseXSmtpApi(R"({"to":["a@x.io","b@x.io"]})", 1).ok());
    EXPECT_EQ(parseXSmtpApi(std::string(kMaxXsmtpapiBytes + 1, ' '), 100).error().status, 413);
}

TEST(XSmtpApiTest, SubstitutedValuesAreNotScannedAgain) {
    std::map<std::string, std::string> vars = {{"%a%", "%b%"}, {"%b%", "B"}};
    EXPECT_EQ(render("%a%", vars, {}), "%b%");
}

TEST(XSmtpApiTest, WhereNamesOverlapTheShortestMatchWins) {
    std::map<std::string, std::string> vars = {
        {"%a", "1"}, {"%ab%", "2"}, {"%abc%", "3"}, {"%x%", "X"}, {"no-percent", "?"}};
    EXPECT_EQ(render("%ab% %abc% %x% %y% 100% no-percent", vars, {}),
              "1b% 1bc% X %y% 100% no-percent");
    std::map<std::string, std::string> nested = {{"%abc%", "3"}, {"%abd%", "4"}};
    EXPECT_EQ(render("%abd%%abc%%ab%", nested, {}), "43%ab%");
}

// The attack: a 120 KB html whose every placeholder takes a 1 KB value made a 40 MB message; the
// budget refuses it while building, and what was produced is charged to the budget.
TEST(XSmtpApiTest, TheOutputBudgetStopsSubstitutionWhileItBuilds) {
    std::string html;
    for (int i = 0; i < 40000; ++i) html += "%v%";
    std::map<std::string, std::string> vars = {{"%v%", std::string(1024, 'x')}};
    SubstitutionBudget budget{10u << 20, 32u << 20};
    EXPECT_FALSE(substitute(html, vars, {}, budget).has_value());

    SubstitutionBudget small{100, 1000};
    auto out = substitute("Hi %v%!", {{"%v%", "Ann"}}, {}, small);
    ASSERT_TRUE(out.has_value());
    EXPECT_EQ(*out, "Hi Ann!");
    EXPECT_EQ(small.outputBytes, 100u - 7u);
    SubstitutionBudget exact{7, 1000};
    EXPECT_TRUE(substitute("Hi %v%!", {{"%v%", "Ann"}}, {}, exact).has_value());
    SubstitutionBudget oneShort{6, 1000};
    EXPECT_FALSE(substitute("Hi %v%!", {{"%v%", "Ann"}}, {}, oneShort).has_value());
    // Sections count too.
    SubstitutionBudget sections{20, 1000};
    EXPECT_FALSE(substitute("%s%%s%", {}, {{"%s%", std::string(15, 's')}}, sections).has_value());
}

// Looking for names is bounded too: a text of nothing but '%' against many long names that all
// nearly match costs a bounded number of comparisons, then stops.
TEST(XSmtpApiTest, TheWorkBudgetBoundsTheSearchForNames) {
    std::map<std::string, std::string> vars;
    for (int i = 0; i < 1000; ++i) vars[std::string(200, '%') + std::to_string(i)] = "v";
    const std::string text(400000, '%');
    SubstitutionBudget budget{10u << 20, 1u << 20};
    EXPECT_FALSE(substitute(text, vars, {}, budget).has_value());
}

}  // namespace
}  // namespace sc::api
