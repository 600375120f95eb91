// Console sessions: login, cookies, expiry, logout, CSRF and the login lockout.

#include "console/session_tokens.h"
#include "unit/console/console_fixture.h"

namespace sc::console::testing {
namespace {

using M = http::Method;

class SessionTest : public ConsoleTest {};

TEST_F(SessionTest, LoginSetsAStrictHttpOnlyCookieAndReturnsTheCsrfTokenOnce) {
    Reply r = loginReply(kEmailA, kPasswordA);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.info()["account"]["email"], kEmailA);
    EXPECT_EQ(r.info()["account"]["id"], accountA_);
    const std::string csrf = r.info()["csrfToken"];
    EXPECT_TRUE(wellFormedToken(csrf)) << csrf;
    EXPECT_FALSE(r.info().contains("password"));

    auto cookie = r.header("set-cookie");
    ASSERT_TRUE(cookie);
    ASSERT_EQ(cookie->rfind("sc_session=", 0), 0u) << *cookie;
    std::string token = cookie->substr(11, cookie->find(';') - 11);
    EXPECT_TRUE(wellFormedToken(token)) << token;
    EXPECT_NE(token, csrf);
    EXPECT_NE(cookie->find("; HttpOnly"), std::string::npos) << *cookie;
    EXPECT_NE(cookie->find("; SameSite=Strict"), std::string::npos) << *cookie;
    EXPECT_NE(cookie->find("; Path=/"), std::string::npos) << *cookie;
    EXPECT_NE(cookie->find("; Max-Age=43200"), std::string::npos) << *cookie;
    EXPECT_EQ(cookie->find("Secure"), std::string::npos) << *cookie;
    EXPECT_EQ(r.header("cache-control"), "no-store");

    // GET /session answers the account but cannot give the CSRF token back: only its hash is
    // stored.
    Browser b{token, csrf, accountA_};
    Reply s = as(b, M::Get, "/console/api/session");
    ASSERT_EQ(s.status, 200) << s.body;
    EXPECT_EQ(s.info()["account"]["email"], kEmailA);
    EXPECT_FALSE(s.info().contains("csrfToken"));
    EXPECT_EQ(s.body.find(csrf), std::string::npos);
}

TEST_F(SessionTest, SecureCookieWhenConfigured) {
    ManagementOptions o = defaultOptions();
    o.secureCookies = true;
    o.sessionTtl = std::chrono::hours(1);
    api_ = std::make_unique<ManagementApi>(
        ManagementDeps{backend_.credentials(), backend_.sessions(), backend_.audit(), issuer_,
                       backend_.templates(), clock_, random_, pool_},
        o);
    Reply r = loginReply(kEmailA, kPasswordA);
    ASSERT_EQ(r.status, 200);
    auto cookie = r.header("set-cookie").value_or("");
    EXPECT_NE(cookie.find("; Max-Age=3600"), std::string::npos) << cookie;
    EXPECT_NE(cookie.find("; Secure"), std::string::npos) << cookie;
}

TEST_F(SessionTest, WrongPasswordAndUnknownEmailGetTheSameAnswer) {
    Reply wrong = loginReply(kEmailA, "not the password");
    Reply unknown = loginReply("nobody@example.com", "not the password");
    EXPECT_EQ(wrong.status, 401);
    EXPECT_EQ(wrong.code(), "console.login_failed");
    EXPECT_EQ(wrong.body, unknown.body);
    EXPECT_EQ(wrong.headers.size(), unknown.headers.size());
    EXPECT_FALSE(wrong.header("set-cookie"));
    // Neither echoes the password.
    EXPECT_EQ(wrong.body.find("not the password"), std::string::npos);
}

TEST_F(SessionTest, AnAccountWithoutPasswordCannotLogIn) {
    ASSERT_TRUE(issuer_.createAccount("nopass@example.com").ok());
    Reply r = loginReply("nopass@example.com", "");
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.code(), "console.login_failed");
    Reply r2 = loginReply("nopass@example.com", "anything at all");
    EXPECT_EQ(r2.body, r.body);
}

TEST_F(SessionTest, MalformedLoginRequestsAreRefused) {
    Reply notJson = call(M::Post, "/console/api/login", "{email", {});
    EXPECT_EQ(notJson.status, 400);
    EXPECT_EQ(notJson.code(), "console.bad_request");

    Reply missing = call(M::Post, "/console/api/login", R"({"email":"alice@example.com"})");
    EXPECT_EQ(missing.status, 400);
    EXPECT_EQ(missing.code(), "console.bad_request");

    Reply wrongType =
        call(M::Post, "/console/api/login", R"({"email":"alice@example.com","password":7})");
    EXPECT_EQ(wrongType.code(), "console.bad_request");

    // A form post (what a cross-site page can send without a preflight) is not JSON. call()
    // labels bodies as JSON, so this one is built by hand.
    http::Request formReq;
    formReq.method = M::Post;
    formReq.path = "/console/api/login";
    formReq.body = "email=alice%40example.com&password=x";
    formReq.headers = {{"content-type", "application/x-www-form-urlencoded"}};
    std::promise<http::Response> p;
    api_->handle(formReq, http::Responder([&p](http::Response r) { p.set_value(std::move(r)); }));
    http::Response fr = p.get_future().get();
    EXPECT_EQ(fr.status, 415);
    EXPECT_NE(fr.body.find("request.unsupported_media_type"), std::string::npos);

    Reply get = call(M::Get, "/console/api/login");
    EXPECT_EQ(get.status, 405);
    EXPECT_EQ(get.header("allow"), "POST");
}

TEST_F(SessionTest, TheSessionExpiresByTheClock) {
    Browser b = loginA();
    clock_.advance(std::chrono::hours(12) - std::chrono::seconds(1));
    EXPECT_EQ(as(b, M::Get, "/console/api/session").status, 200);
    EXPECT_EQ(as(b, M::Get, "/console/api/email-users").status, 200);
    clock_.advance(std::chrono::seconds(1));
    Reply r = as(b, M::Get, "/console/api/session");
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.code(), "console.session_required");
    EXPECT_EQ(as(b, M::Get, "/console/api/email-users").code(), "console.session_required");
    EXPECT_EQ(as(b, M::Post, "/console/api/email-users", R"({"name":"late_user"})").code(),
              "console.session_required");
}

TEST_F(SessionTest, MissingMalformedOrUnknownCookiesNeedALogin) {
    for (std::string cookie : {"", "sc_session=", "sc_session=abc", "other=1",
                               "sc_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}) {
        std::vector<http::Header> h;
        if (!cookie.empty()) h.push_back({"cookie", cookie});
        Reply r = call(M::Get, "/console/api/session", "", h);
        EXPECT_EQ(r.status, 401) << cookie;
        EXPECT_EQ(r.code(), "console.session_required") << cookie;
    }
}

TEST_F(SessionTest, TheCookieIsFoundAmongOthersAndInAnyCookieHeader) {
    Browser b = loginA();
    Reply r = call(M::Get, "/console/api/session", "",
                   {{"cookie", "a=1"}, {"cookie", "b=2;sc_session=" + b.token + ";c=3"}});
    EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(SessionTest, LogoutNeedsCsrfAndEndsTheSession) {
    Browser b = loginA();
    Reply noCsrf = as(b, M::Post, "/console/api/logout", "", std::string());
    EXPECT_EQ(noCsrf.status, 403);
    EXPECT_EQ(noCsrf.code(), "console.csrf_failed");
    EXPECT_EQ(as(b, M::Get, "/console/api/session").status, 200);

    Reply out = as(b, M::Post, "/console/api/logout");
    ASSERT_EQ(out.status, 200) << out.body;
    auto cookie = out.header("set-cookie").value_or("");
    EXPECT_EQ(cookie.rfind("sc_session=;", 0), 0u) << cookie;
    EXPECT_NE(cookie.find("Max-Age=0"), std::string::npos) << cookie;
    EXPECT_EQ(as(b, M::Get, "/console/api/session").code(), "console.session_required");
}

TEST_F(SessionTest, ALoginDropsTheSessionTheBrowserHeld) {
    Browser first = loginA();
    json body = {{"email", kEmailA}, {"password", kPasswordA}};
    Reply r =
        call(M::Post, "/console/api/login", body.dump(), {{"cookie", "sc_session=" + first.token}});
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.header("set-cookie")->find(first.token), std::string::npos);
    EXPECT_EQ(as(first, M::Get, "/console/api/session").status, 401);
}

TEST_F(SessionTest, OnlyHashesOfTheTokensAreStored) {
    Browser b = loginA();
    auto s = backend_.sessions().findSession(hashToken(b.token));
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE(s.value());
    EXPECT_EQ(s.value()->accountId, accountA_);
    EXPECT_TRUE(hashesEqual(s.value()->csrfHash, hashToken(b.csrf)));
    EXPECT_EQ(s.value()->expiresAtMs, now() + 12 * 3600 * 1000);
    const std::string bytes = dataDirBytes();
    EXPECT_EQ(bytes.find(b.token), std::string::npos);
    EXPECT_EQ(bytes.find(b.csrf), std::string::npos);
    EXPECT_EQ(bytes.find(kPasswordA), std::string::npos);
}

// Every state-changing endpoint, with a body that would succeed.
struct Mutation {
    M method;
    std::string path;
    std::string body;
};

std::vector<Mutation> mutations() {
    return {
        {M::Post, "/console/api/email-users", R"({"name":"new_email_user"})"},
        {M::Post, "/console/api/sms-users", R"({"name":"new_sms_user"})"},
        {M::Patch, "/console/api/email-users/alice_mail", R"({"disabled":true})"},
        {M::Patch, "/console/api/sms-users/alice_sms", R"({"testMode":true})"},
        {M::Delete, "/console/api/email-users/alice_mail", ""},
        {M::Delete, "/console/api/sms-users/alice_sms", ""},
        {M::Post, "/console/api/email-users/alice_mail/key", ""},
        {M::Post, "/console/api/email-users/alice_mail/reset", R"({"revokeOld":true})"},
        {M::Post, "/console/api/sms-users/alice_sms/key", ""},
        {M::Post, "/console/api/sms-users/alice_sms/reset", "{}"},
        {M::Post, "/console/api/logout", ""},
    };
}

TEST_F(SessionTest, EveryStateChangingCallNeedsTheSessionsCsrfToken) {
    Browser a = loginA();
    Browser b = loginB();
    Browser a2 = loginA();  // another session of the same account: its token is not ours
    createUser(a, "email-users", "alice_mail");
    createUser(a, "sms-users", "alice_sms");
    auto before = backend_.credentials().listUsers(accountA_);
    ASSERT_TRUE(before.ok());

    const std::string forged = generateToken(random_);
    for (const auto& m : mutations()) {
        for (const std::string& token :
             {std::string(), forged, b.csrf, a2.csrf, std::string("x")}) {
            Reply r = as(a, m.method, m.path, m.body, token);
            EXPECT_EQ(r.status, 403) << m.path << " token=" << token << " " << r.body;
            EXPECT_EQ(r.code(), "console.csrf_failed") << m.path;
        }
    }
    // Nothing changed, and the session still works.
    auto after = backend_.credentials().listUsers(accountA_);
    ASSERT_TRUE(after.ok());
    ASSERT_EQ(after->size(), before->size());
    for (size_t i = 0; i < after->size(); ++i) {
        EXPECT_EQ((*after)[i].keyFingerprint, (*before)[i].keyFingerprint);
        EXPECT_EQ((*after)[i].disabled, (*before)[i].disabled);
        EXPECT_EQ((*after)[i].policy.testMode, (*before)[i].policy.testMode);
    }
    EXPECT_EQ(as(a, M::Get, "/console/api/session").status, 200);

    // The right token works on every one of them.
    for (const auto& m : mutations()) {
        if (m.path.find("new_") != std::string::npos) continue;
        if (m.method == M::Delete || m.path.ends_with("logout")) continue;
        Reply r = as(a, m.method, m.path, m.body);
        EXPECT_EQ(r.status, 200) << m.path << " " << r.body;
    }
}

TEST_F(SessionTest, ReadsNeedNoCsrfToken) {
    Browser a = loginA();
    for (const char* path :
         {"/console/api/session", "/console/api/email-users", "/console/api/sms-users",
          "/console/api/auth-events", "/console/api/usage"}) {
        EXPECT_EQ(as(a, M::Get, path, "", std::string()).status, 200) << path;
    }
}

// ---- lockout -------------------------------------------------------------------------------

TEST_F(SessionTest, LockoutEngagesAtTheThresholdPerEmailAndExpiresByTheClock) {
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(loginReply(kEmailA, "wrong password").status, 401) << i;
    }
    // Locked: even the right password is refused, before any password work.
    Reply locked = loginReply(kEmailA, kPasswordA);
    EXPECT_EQ(locked.status, 429);
    EXPECT_EQ(locked.code(), "console.login_locked");
    EXPECT_EQ(locked.header("retry-after"), "900");
    // The e-mail is the key, whatever its case and whatever the address.
    EXPECT_EQ(loginReply("ALICE@example.com", kPasswordA, "198.51.100.9").status, 429);
    // Other accounts are not affected.
    EXPECT_EQ(loginReply(kEmailB, kPasswordB).status, 200);

    clock_.advance(std::chrono::minutes(10));
    Reply still = loginReply(kEmailA, kPasswordA);
    EXPECT_EQ(still.status, 429);
    EXPECT_EQ(still.header("retry-after"), "300");

    clock_.advance(std::chrono::minutes(5));
    EXPECT_EQ(loginReply(kEmailA, kPasswordA).status, 200);
}

TEST_F(SessionTest, UnknownEmailsLockLikeKnownOnes) {
    for (int i = 0; i < 5; ++i) loginReply("ghost@example.com", "guess");
    EXPECT_EQ(loginReply("ghost@example.com", "guess").code(), "console.login_locked");
}

TEST_F(SessionTest, ASuccessForgetsTheEmailsFailures) {
    for (int i = 0; i < 4; ++i) EXPECT_EQ(loginReply(kEmailA, "wrong").status, 401);
    EXPECT_EQ(loginReply(kEmailA, kPasswordA).status, 200);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(loginReply(kEmailA, "wrong").status, 401);
    EXPECT_EQ(loginReply(kEmailA, kPasswordA).status, 200);
}

TEST_F(SessionTest, FailuresOutsideTheWindowDoNotCount) {
    for (int i = 0; i < 4; ++i) loginReply(kEmailA, "wrong");
    clock_.advance(std::chrono::minutes(15));
    for (int i = 0; i < 4; ++i) EXPECT_EQ(loginReply(kEmailA, "wrong").status, 401);
    EXPECT_EQ(loginReply(kEmailA, kPasswordA).status, 200);
}

TEST_F(SessionTest, LockoutPerClientIp) {
    const std::string ip = "203.0.113.66";
    // 20 failures spread over many e-mails (4 each: no e-mail reaches its own threshold).
    for (int i = 0; i < 20; ++i) {
        std::string email = "target" + std::to_string(i / 4) + "@example.com";
        EXPECT_EQ(loginReply(email, "guess", ip).status, 401) << i;
    }
    Reply r = loginReply(kEmailA, kPasswordA, ip);
    EXPECT_EQ(r.status, 429);
    EXPECT_EQ(r.code(), "console.login_locked");
    EXPECT_TRUE(r.header("retry-after"));
    // The same account from elsewhere is fine.
    EXPECT_EQ(loginReply(kEmailA, kPasswordA, "203.0.113.67").status, 200);
    clock_.advance(std::chrono::minutes(15));
    EXPECT_EQ(loginReply(kEmailA, kPasswordA, ip).status, 200);
}

TEST_F(SessionTest, LoginsAreRecordedForTheAccount) {
    loginReply(kEmailA, "wrong-password-zebra");
    Browser a = loginA();
    Reply r = as(a, M::Get, "/console/api/auth-events");
    ASSERT_EQ(r.status, 200) << r.body;
    const auto& events = r.info()["events"];
    ASSERT_EQ(events.size(), 2u) << r.body;
    EXPECT_EQ(events[0]["api"], "console");
    EXPECT_EQ(events[0]["outcome"], "success");
    EXPECT_EQ(events[0]["user"], kEmailA);
    EXPECT_EQ(events[1]["outcome"], "failure");
    EXPECT_EQ(events[1]["reason"], "console.login_failed");
    // Neither password is recorded anywhere.
    EXPECT_EQ(r.body.find("zebra"), std::string::npos);
    EXPECT_EQ(dataDirBytes().find("zebra"), std::string::npos);
    EXPECT_EQ(dataDirBytes().find("correct horse"), std::string::npos);
}

}  // namespace
}  // namespace sc::console::testing
