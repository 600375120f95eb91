// Email and SMS templates through the management API: CRUD, validation, and isolation between
// accounts.

#include "console_fixture.h"

namespace sc::console::testing {
namespace {

using M = http::Method;

class TemplatesTest : public ConsoleTest {};

TEST_F(TemplatesTest, EmailTemplateLifeCycle) {
    Browser a = loginA();
    Reply created = as(
        a, M::Post, "/console/api/templates",
        json{{"invokeName", "welcome"}, {"subject", "Hi %name%"}, {"html", "<p>Hello %name%</p>"}}
            .dump());
    ASSERT_EQ(created.status, 200) << created.body;
    EXPECT_EQ(created.info()["template"]["name"], "welcome");
    EXPECT_EQ(as(a, M::Post, "/console/api/templates",
                 json{{"invokeName", "welcome"}, {"plain", "x"}}.dump())
                  .status,
              409);

    Reply patched = as(a, M::Patch, "/console/api/templates/welcome",
                       json{{"subject", "Welcome, %name%"}}.dump());
    ASSERT_EQ(patched.status, 200) << patched.body;
    EXPECT_EQ(patched.info()["template"]["subject"], "Welcome, %name%");
    EXPECT_EQ(patched.info()["template"]["html"], "<p>Hello %name%</p>");

    Reply list = as(a, M::Get, "/console/api/templates");
    ASSERT_EQ(list.status, 200);
    ASSERT_EQ(list.info()["templates"].size(), 1u);

    auto stored = backend_.templates().findEmailTemplate(a.accountId, "welcome");
    ASSERT_TRUE(stored.ok() && stored.value());
    EXPECT_EQ(stored.value()->subject, "Welcome, %name%");

    EXPECT_EQ(as(a, M::Delete, "/console/api/templates/welcome").status, 200);
    EXPECT_EQ(as(a, M::Get, "/console/api/templates/welcome").status, 404);
}

TEST_F(TemplatesTest, EmailTemplatesAreValidated) {
    Browser a = loginA();
    EXPECT_EQ(as(a, M::Post, "/console/api/templates", json{{"invokeName", "x"}}.dump()).code(),
              "console.invalid_value");  // no body
    EXPECT_EQ(as(a, M::Post, "/console/api/templates",
                 json{{"invokeName", "x"}, {"subject", "a\r\nBcc: e@x.io"}, {"plain", "p"}}.dump())
                  .code(),
              "console.invalid_value");
    EXPECT_EQ(as(a, M::Post, "/console/api/templates",
                 json{{"invokeName", "x"}, {"plain", "p"}, {"color", "red"}}.dump())
                  .code(),
              "console.bad_request");
}

TEST_F(TemplatesTest, SmsTemplateLifeCycle) {
    Browser a = loginA();
    Reply created =
        as(a, M::Post, "/console/api/sms-templates", json{{"text", "Your code is %code%"}}.dump());
    ASSERT_EQ(created.status, 200) << created.body;
    const int64_t id = created.info()["template"]["id"].get<int64_t>();
    const std::string path = "/console/api/sms-templates/" + std::to_string(id);
    EXPECT_EQ(as(a, M::Get, path).info()["template"]["text"], "Your code is %code%");
    Reply patched = as(a, M::Patch, path, json{{"text", "Code: %code%"}}.dump());
    ASSERT_EQ(patched.status, 200);
    EXPECT_EQ(patched.info()["template"]["text"], "Code: %code%");
    EXPECT_EQ(as(a, M::Delete, path).status, 200);
    EXPECT_EQ(as(a, M::Get, path).status, 404);
}

// Issue #11: PATCH /console/api/sms-templates/0 created a template. An item path only ever
// changes what exists; creating is POST on the collection.
TEST_F(TemplatesTest, PatchingAMissingTemplateIsNotFoundAndCreatesNothing) {
    Browser a = loginA();
    for (const char* path : {"/console/api/sms-templates/0", "/console/api/sms-templates/00",
                             "/console/api/sms-templates/424242"}) {
        Reply r = as(a, M::Patch, path, json{{"text", "created by a PATCH"}}.dump());
        EXPECT_EQ(r.status, 404) << path << " " << r.body;
    }
    Reply r = as(a, M::Patch, "/console/api/templates/missing",
                 json{{"invokeName", "missing"}, {"plain", "created by a PATCH"}}.dump());
    EXPECT_EQ(r.status, 404) << r.body;
    // The collection itself takes no PATCH.
    EXPECT_EQ(as(a, M::Patch, "/console/api/sms-templates/", json{{"text", "x"}}.dump()).status,
              405);
    EXPECT_EQ(as(a, M::Patch, "/console/api/templates/",
                 json{{"invokeName", "by_patch"}, {"plain", "x"}}.dump())
                  .status,
              405);
    EXPECT_EQ(as(a, M::Get, "/console/api/sms-templates").info()["templates"].size(), 0u);
    EXPECT_EQ(as(a, M::Get, "/console/api/templates").info()["templates"].size(), 0u);
    EXPECT_EQ(as(a, M::Get, "/console/api/sms-templates/0").status, 404);
    EXPECT_EQ(as(a, M::Delete, "/console/api/sms-templates/0").status, 404);
}

TEST_F(TemplatesTest, AnotherAccountsTemplatesAreNotFound) {
    Browser a = loginA();
    Browser b = loginB();
    ASSERT_EQ(as(a, M::Post, "/console/api/templates",
                 json{{"invokeName", "welcome"}, {"plain", "hi"}}.dump())
                  .status,
              200);
    Reply sms = as(a, M::Post, "/console/api/sms-templates", json{{"text", "hi"}}.dump());
    const std::string smsPath =
        "/console/api/sms-templates/" + std::to_string(sms.info()["template"]["id"].get<int64_t>());
    for (auto m : {M::Get, M::Delete}) {
        EXPECT_EQ(as(b, m, "/console/api/templates/welcome").status, 404);
        EXPECT_EQ(as(b, m, smsPath).status, 404);
    }
    EXPECT_EQ(as(b, M::Patch, "/console/api/templates/welcome", json{{"plain", "x"}}.dump()).status,
              404);
    EXPECT_EQ(as(b, M::Patch, smsPath, json{{"text", "x"}}.dump()).status, 404);
    EXPECT_EQ(as(b, M::Get, "/console/api/templates").info()["templates"].size(), 0u);
    // B may use the same invokeName in its own account.
    EXPECT_EQ(as(b, M::Post, "/console/api/templates",
                 json{{"invokeName", "welcome"}, {"plain", "b"}}.dump())
                  .status,
              200);
    EXPECT_EQ(as(a, M::Get, "/console/api/templates/welcome").info()["template"]["plain"], "hi");
}

TEST_F(TemplatesTest, ChangesNeedTheCsrfToken) {
    Browser a = loginA();
    Reply r = as(a, M::Post, "/console/api/templates",
                 json{{"invokeName", "welcome"}, {"plain", "hi"}}.dump(), std::string("forged"));
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(r.code(), "console.csrf_failed");
}

}  // namespace
}  // namespace sc::console::testing
