// API users through the management API: create, list, read, patch, delete, key resets with
// their grace rules, account isolation, and where keys may (not) appear.

#include "auth/credential_verifier.h"
#include "console/time_param.h"
#include "unit/console/console_fixture.h"

namespace sc::console::testing {
namespace {

using M = http::Method;

class UsersTest : public ConsoleTest {
protected:
    // The user as the store has it.
    store::ApiUser stored(const std::string& name) {
        auto u = backend_.credentials().findUser(name);
        EXPECT_TRUE(u.ok());
        EXPECT_TRUE(u.ok() && u.value());
        return u.ok() && u.value() ? *u.value() : store::ApiUser{};
    }

    // Does the send path accept this key right now?
    bool keyWorks(auth::Api api, const std::string& user, const std::string& key) {
        auth::CredentialVerifier verifier(backend_.credentials(), keys_, clock_);
        http::ParamMap params;
        params.add(std::string(auth::CredentialVerifier::userParam(api)), user);
        params.add(std::string(auth::CredentialVerifier::keyParam(api)), key);
        http::Request req;
        return verifier.verify(api, params, req).ok();
    }
};

TEST_F(UsersTest, CreateShowsTheKeyOnceAndTheUserReadsBack) {
    Browser a = loginA();
    json info = createUser(a, "email-users", "alice_mail",
                           {{"purpose", "newsletter"},
                            {"ipAllowlist", {"203.0.113.0/24", "2001:db8::/32"}},
                            {"senderDomains", {"News.Example.com"}},
                            {"rateLimitPerMinute", 60},
                            {"dailyQuota", 1000},
                            {"testMode", true}});
    const std::string key = info["apiKey"];
    EXPECT_EQ(key.size(), auth::kKeyLength);
    EXPECT_FALSE(info.contains("smsKey"));
    const json& u = info["user"];
    EXPECT_EQ(u["name"], "alice_mail");
    EXPECT_EQ(u["kind"], "email");
    EXPECT_EQ(u["purpose"], "newsletter");
    EXPECT_EQ(u["disabled"], false);
    EXPECT_EQ(u["testMode"], true);
    EXPECT_EQ(u["ipAllowlist"], json({"203.0.113.0/24", "2001:db8::/32"}));
    EXPECT_EQ(u["senderDomains"], json({"news.example.com"}));  // lower-cased
    EXPECT_EQ(u["rateLimitPerMinute"], 60);
    EXPECT_EQ(u["dailyQuota"], 1000);
    EXPECT_EQ(u["keyFingerprint"], auth::KeyMaterial::fingerprint(keys_.hash(key)));
    EXPECT_EQ(u["createdAt"], formatTimeMs(now()));
    EXPECT_EQ(u["keyCreatedAt"], formatTimeMs(now()));
    EXPECT_TRUE(u["graceKey"].is_null());
    EXPECT_TRUE(keyWorks(auth::Api::Email, "alice_mail", key));

    Reply got = as(a, M::Get, "/console/api/email-users/alice_mail");
    ASSERT_EQ(got.status, 200) << got.body;
    EXPECT_EQ(got.info()["user"], u);
    EXPECT_EQ(got.body.find(key), std::string::npos);

    Reply list = as(a, M::Get, "/console/api/email-users");
    ASSERT_EQ(list.status, 200);
    ASSERT_EQ(list.info()["users"].size(), 1u);
    EXPECT_EQ(list.info()["users"][0], u);
}

TEST_F(UsersTest, SmsUsersHaveAnSmsKeyAndNoSenderDomains) {
    Browser a = loginA();
    json info = createUser(a, "sms-users", "alice_sms", {{"purpose", "otp"}});
    const std::string key = info["smsKey"];
    EXPECT_EQ(key.size(), auth::kKeyLength);
    EXPECT_FALSE(info.contains("apiKey"));
    EXPECT_EQ(info["user"]["kind"], "sms");
    EXPECT_FALSE(info["user"].contains("senderDomains"));
    EXPECT_FALSE(info["user"].contains("graceKey"));
    EXPECT_TRUE(keyWorks(auth::Api::Sms, "alice_sms", key));

    Reply r = as(a, M::Post, "/console/api/sms-users",
                 R"({"name":"alice_sms_two","senderDomains":["example.com"]})");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.code(), "console.bad_request");
    Reply p = as(a, M::Patch, "/console/api/sms-users/alice_sms", R"({"senderDomains":[]})");
    EXPECT_EQ(p.code(), "console.bad_request");
}

TEST_F(UsersTest, ListsHoldOnlyTheAccountsUsersOfThatKind) {
    Browser a = loginA();
    Browser b = loginB();
    createUser(a, "email-users", "alice_mail_b");
    createUser(a, "email-users", "alice_mail_a");
    createUser(a, "sms-users", "alice_sms");
    createUser(b, "email-users", "bob_mail");
    Reply email = as(a, M::Get, "/console/api/email-users");
    ASSERT_EQ(email.info()["users"].size(), 2u);
    EXPECT_EQ(email.info()["users"][0]["name"], "alice_mail_a");  // ordered by name
    EXPECT_EQ(email.info()["users"][1]["name"], "alice_mail_b");
    Reply sms = as(a, M::Get, "/console/api/sms-users");
    ASSERT_EQ(sms.info()["users"].size(), 1u);
    EXPECT_EQ(sms.info()["users"][0]["name"], "alice_sms");
    Reply bob = as(b, M::Get, "/console/api/email-users");
    ASSERT_EQ(bob.info()["users"].size(), 1u);
    EXPECT_EQ(bob.info()["users"][0]["name"], "bob_mail");
}

TEST_F(UsersTest, NamesMustFollowTheRuleAndBeFree) {
    Browser a = loginA();
    Browser b = loginB();
    for (const char* bad :
         {"short", "Upper_case", "1starts_digit", "has-dash", "has space1", "_underscore"}) {
        json body = {{"name", bad}};
        Reply r = as(a, M::Post, "/console/api/email-users", body.dump());
        EXPECT_EQ(r.status, 400) << bad;
        EXPECT_EQ(r.code(), "console.invalid_name") << bad;
    }
    Reply noName = as(a, M::Post, "/console/api/email-users", R"({"purpose":"x"})");
    EXPECT_EQ(noName.code(), "console.bad_request");

    createUser(a, "email-users", "taken_name");
    Reply again = as(a, M::Post, "/console/api/email-users", R"({"name":"taken_name"})");
    EXPECT_EQ(again.status, 409);
    EXPECT_EQ(again.code(), "console.name_taken");
    // Names are unique across the platform and across kinds.
    EXPECT_EQ(as(b, M::Post, "/console/api/sms-users", R"({"name":"taken_name"})").code(),
              "console.name_taken");
}

TEST_F(UsersTest, PatchChangesOnlyTheGivenFields) {
    Browser a = loginA();
    json created = createUser(a, "email-users", "alice_mail",
                              {{"purpose", "billing"}, {"senderDomains", {"example.com"}}});
    Reply r = as(a, M::Patch, "/console/api/email-users/alice_mail",
                 R"({"disabled":true,"ipAllowlist":["198.51.100.7","::1","10.0.0.0/8"],
                     "rateLimitPerMinute":0,"dailyQuota":5})");
    ASSERT_EQ(r.status, 200) << r.body;
    const json& u = r.info()["user"];
    EXPECT_EQ(u["disabled"], true);
    EXPECT_EQ(u["purpose"], "billing");
    EXPECT_EQ(u["senderDomains"], json({"example.com"}));
    EXPECT_EQ(u["ipAllowlist"], json({"198.51.100.7", "::1", "10.0.0.0/8"}));
    EXPECT_EQ(u["dailyQuota"], 5);
    EXPECT_EQ(u["keyFingerprint"], created["user"]["keyFingerprint"]);
    store::ApiUser s = stored("alice_mail");
    EXPECT_TRUE(s.disabled);
    EXPECT_EQ(s.policy.dailyQuota, 5);
    EXPECT_EQ(s.policy.ipAllowlist.size(), 3u);

    Reply back = as(a, M::Patch, "/console/api/email-users/alice_mail",
                    R"({"disabled":false,"ipAllowlist":[],"purpose":""})");
    ASSERT_EQ(back.status, 200);
    EXPECT_EQ(back.info()["user"]["disabled"], false);
    EXPECT_EQ(back.info()["user"]["ipAllowlist"], json::array());
    EXPECT_EQ(back.info()["user"]["purpose"], "");
}

TEST_F(UsersTest, PolicyValuesAreValidated) {
    Browser a = loginA();
    createUser(a, "email-users", "alice_mail");
    const std::string path = "/console/api/email-users/alice_mail";
    struct Case {
        std::string body;
        std::string code;
        std::string hintHas;
    };
    const std::vector<Case> cases = {
        {R"({"ipAllowlist":["10.0.0.0/33"]})", "console.invalid_cidr", "10.0.0.0/33"},
        {R"({"ipAllowlist":["10.0.0.0/8","300.1.1.1"]})", "console.invalid_cidr", "300.1.1.1"},
        {R"({"ipAllowlist":["::1/129"]})", "console.invalid_cidr", "::1/129"},
        {R"({"ipAllowlist":["10.0.0.0/"]})", "console.invalid_cidr", "10.0.0.0/"},
        {R"({"ipAllowlist":["example.com"]})", "console.invalid_cidr", "example.com"},
        {R"({"ipAllowlist":[" 10.0.0.1"]})", "console.invalid_cidr", "10.0.0.1"},
        {R"({"ipAllowlist":"10.0.0.0/8"})", "console.bad_request", "ipAllowlist"},
        {R"({"ipAllowlist":[7]})", "console.bad_request", "ipAllowlist"},
        {R"({"senderDomains":["-bad.example.com"]})", "console.invalid_domain", "-bad.example"},
        {R"({"senderDomains":["a..b"]})", "console.invalid_domain", "a..b"},
        {R"({"senderDomains":["exa mple.com"]})", "console.invalid_domain", "exa mple.com"},
        {R"({"senderDomains":["user@example.com"]})", "console.invalid_domain", "user@"},
        {R"({"senderDomains":["example.com."]})", "console.invalid_domain", "example.com."},
        {R"({"rateLimitPerMinute":-1})", "console.invalid_value", "rateLimitPerMinute"},
        {R"({"dailyQuota":1.5})", "console.invalid_value", "dailyQuota"},
        {R"({"dailyQuota":"10"})", "console.invalid_value", "dailyQuota"},
        {R"({"dailyQuota":18446744073709551615})", "console.invalid_value", "dailyQuota"},
        {R"({"disabled":"yes"})", "console.bad_request", "disabled"},
        {R"({"testMode":1})", "console.bad_request", "testMode"},
        {R"({"purpose":42})", "console.bad_request", "purpose"},
        {R"({"ipAllowList":[]})", "console.bad_request", "ipAllowList"},
        {R"({"name":"renamed_user"})", "console.bad_request", "name"},
        {R"([1,2])", "console.bad_request", "object"},
        {R"({"disabled":tru)", "console.bad_request", "JSON"},
        {"", "console.bad_request", "JSON"},
    };
    for (const auto& c : cases) {
        Reply r = as(a, M::Patch, path, c.body);
        EXPECT_EQ(r.status, 400) << c.body;
        EXPECT_EQ(r.code(), c.code) << c.body << " " << r.body;
        EXPECT_NE(r.j.value("hint", "").find(c.hintHas), std::string::npos) << r.body;
    }
    // The same rules on creation; and nothing was stored by any of the above.
    Reply r = as(a, M::Post, "/console/api/email-users",
                 R"({"name":"alice_other","ipAllowlist":["1.2.3.4/40"]})");
    EXPECT_EQ(r.code(), "console.invalid_cidr");
    EXPECT_EQ(as(a, M::Get, "/console/api/email-users/alice_other").status, 404);
    Reply dis =
        as(a, M::Post, "/console/api/email-users", R"({"name":"alice_other","disabled":true})");
    EXPECT_EQ(dis.code(), "console.bad_request");
    store::UserPolicy p = stored("alice_mail").policy;
    EXPECT_TRUE(p.ipAllowlist.empty());
    EXPECT_TRUE(p.senderDomains.empty());
    EXPECT_EQ(p.rateLimitPerMinute, 0);
}

TEST_F(UsersTest, DeleteRemovesTheUserAndItsKey) {
    Browser a = loginA();
    json info = createUser(a, "email-users", "alice_mail");
    Reply d = as(a, M::Delete, "/console/api/email-users/alice_mail");
    ASSERT_EQ(d.status, 200) << d.body;
    EXPECT_EQ(d.info()["deleted"], "alice_mail");
    EXPECT_EQ(as(a, M::Get, "/console/api/email-users/alice_mail").status, 404);
    EXPECT_EQ(as(a, M::Delete, "/console/api/email-users/alice_mail").status, 404);
    EXPECT_FALSE(keyWorks(auth::Api::Email, "alice_mail", info["apiKey"]));
}

// ---- key resets ------------------------------------------------------------------------------

TEST_F(UsersTest, EmailResetKeepsTheOldKeyForTheGracePeriod) {
    Browser a = loginA();
    json created = createUser(a, "email-users", "alice_mail");
    const std::string oldKey = created["apiKey"];
    const std::string oldFp = created["user"]["keyFingerprint"];
    clock_.advance(std::chrono::seconds(90));

    Reply r = as(a, M::Post, "/console/api/email-users/alice_mail/reset", R"({"revokeOld":false})");
    ASSERT_EQ(r.status, 200) << r.body;
    const std::string newKey = r.info()["apiKey"];
    EXPECT_EQ(newKey.size(), auth::kKeyLength);
    EXPECT_NE(newKey, oldKey);
    EXPECT_EQ(r.info()["oldKeyFingerprint"], oldFp);
    const int64_t expires = now() + 15 * 60 * 1000;
    EXPECT_EQ(r.info()["oldKeyExpiresAt"], formatTimeMs(expires));
    const json& g = r.info()["user"]["graceKey"];
    EXPECT_EQ(g["fingerprint"], oldFp);
    EXPECT_EQ(g["resetAt"], formatTimeMs(now()));
    EXPECT_EQ(g["expiresAt"], formatTimeMs(expires));
    EXPECT_EQ(g["requestsLastHour"], 0);
    EXPECT_EQ(r.info()["user"]["keyCreatedAt"], formatTimeMs(now()));

    // What the store holds is what the send path enforces.
    auto retired =
        backend_.credentials().findRetiredKey(stored("alice_mail").id, keys_.hash(oldKey));
    ASSERT_TRUE(retired.ok() && retired.value());
    EXPECT_EQ(retired.value()->expiresAtMs, expires);
    EXPECT_TRUE(keyWorks(auth::Api::Email, "alice_mail", oldKey));
    EXPECT_TRUE(keyWorks(auth::Api::Email, "alice_mail", newKey));

    Reply got = as(a, M::Get, "/console/api/email-users/alice_mail");
    EXPECT_EQ(got.info()["user"]["graceKey"], g);

    clock_.advance(std::chrono::minutes(15));
    EXPECT_FALSE(keyWorks(auth::Api::Email, "alice_mail", oldKey));
    EXPECT_TRUE(keyWorks(auth::Api::Email, "alice_mail", newKey));
    EXPECT_TRUE(
        as(a, M::Get, "/console/api/email-users/alice_mail").info()["user"]["graceKey"].is_null());
}

TEST_F(UsersTest, GenerateKeyIsAResetWithGrace) {
    Browser a = loginA();
    json created = createUser(a, "email-users", "alice_mail");
    Reply r = as(a, M::Post, "/console/api/email-users/alice_mail/key");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.info()["oldKeyExpiresAt"], formatTimeMs(now() + 15 * 60 * 1000));
    EXPECT_TRUE(keyWorks(auth::Api::Email, "alice_mail", created["apiKey"]));
    EXPECT_TRUE(keyWorks(auth::Api::Email, "alice_mail", r.info()["apiKey"]));
}

TEST_F(UsersTest, EmergencyResetEndsTheOldKeyAtOnce) {
    Browser a = loginA();
    json created = createUser(a, "email-users", "alice_mail");
    Reply r = as(a, M::Post, "/console/api/email-users/alice_mail/reset", R"({"revokeOld":true})");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.info()["oldKeyExpiresAt"], formatTimeMs(now()));
    EXPECT_TRUE(r.info()["user"]["graceKey"].is_null());
    EXPECT_FALSE(keyWorks(auth::Api::Email, "alice_mail", created["apiKey"]));
    EXPECT_TRUE(keyWorks(auth::Api::Email, "alice_mail", r.info()["apiKey"]));

    Reply bad = as(a, M::Post, "/console/api/email-users/alice_mail/reset", R"({"revokeOld":1})");
    EXPECT_EQ(bad.code(), "console.bad_request");
    Reply unknown =
        as(a, M::Post, "/console/api/email-users/alice_mail/reset", R"({"revoke":true})");
    EXPECT_EQ(unknown.code(), "console.bad_request");
}

TEST_F(UsersTest, SmsResetEndsTheOldKeyBeforeItAnswers) {
    Browser a = loginA();
    json created = createUser(a, "sms-users", "alice_sms");
    const std::string oldKey = created["smsKey"];
    ASSERT_TRUE(keyWorks(auth::Api::Sms, "alice_sms", oldKey));

    // Asked for a grace period, an SMS reset still ends the old key at once (docs/api.md §2, rule
    // 6).
    Reply r = as(a, M::Post, "/console/api/sms-users/alice_sms/key");
    ASSERT_EQ(r.status, 200) << r.body;
    const std::string newKey = r.info()["smsKey"];
    EXPECT_FALSE(r.info().contains("apiKey"));
    EXPECT_EQ(r.info()["oldKeyExpiresAt"], formatTimeMs(now()));
    EXPECT_FALSE(r.info()["user"].contains("graceKey"));
    // No time passes: the old key is refused the moment the answer exists.
    EXPECT_FALSE(keyWorks(auth::Api::Sms, "alice_sms", oldKey));
    EXPECT_TRUE(keyWorks(auth::Api::Sms, "alice_sms", newKey));
}

TEST_F(UsersTest, GraceKeyCountsRequestsOfTheLastHourWithTheOldKey) {
    Browser a = loginA();
    createUser(a, "email-users", "alice_mail");
    store::ApiUser u = stored("alice_mail");
    const std::string oldFp = u.keyFingerprint;
    auto event = [&](int64_t atMs, store::AuthOutcome outcome, std::string fp) {
        store::AuthEvent e;
        e.atMs = atMs;
        e.api = store::AuthApi::Email;
        e.userName = u.name;
        e.accountId = u.accountId;
        e.userId = u.id;
        e.outcome = outcome;
        e.keyFingerprint = std::move(fp);
        e.clientIp = "192.0.2.1";
        return e;
    };
    const int64_t t = now();
    ASSERT_TRUE(backend_.audit()
                    .appendEvents(
                        {event(t - 2 * 3600 * 1000, store::AuthOutcome::Success, oldFp),  // too old
                         event(t - 30 * 60 * 1000, store::AuthOutcome::Success, oldFp),
                         event(t - 1000, store::AuthOutcome::Success, oldFp),
                         event(t - 1000, store::AuthOutcome::Failure, oldFp),  // not a use
                         event(t - 1000, store::AuthOutcome::Success, "ffffffff")})
                    .ok());
    Reply r = as(a, M::Post, "/console/api/email-users/alice_mail/reset");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.info()["user"]["graceKey"]["requestsLastHour"], 2);

    clock_.advance(std::chrono::minutes(5));
    ASSERT_TRUE(
        backend_.audit().appendEvents({event(now(), store::AuthOutcome::Success, oldFp)}).ok());
    Reply list = as(a, M::Get, "/console/api/email-users");
    EXPECT_EQ(list.info()["users"][0]["graceKey"]["requestsLastHour"], 3);
}

TEST_F(UsersTest, ASecondResetEndsTheFirstGraceKey) {
    Browser a = loginA();
    json created = createUser(a, "email-users", "alice_mail");
    Reply first = as(a, M::Post, "/console/api/email-users/alice_mail/reset");
    clock_.advance(std::chrono::minutes(1));
    Reply second = as(a, M::Post, "/console/api/email-users/alice_mail/reset");
    ASSERT_EQ(second.status, 200);
    EXPECT_EQ(second.info()["user"]["graceKey"]["fingerprint"],
              first.info()["user"]["keyFingerprint"]);
    EXPECT_FALSE(keyWorks(auth::Api::Email, "alice_mail", created["apiKey"]));
    EXPECT_TRUE(keyWorks(auth::Api::Email, "alice_mail", first.info()["apiKey"]));
}

// ---- isolation -------------------------------------------------------------------------------

TEST_F(UsersTest, AnotherAccountsUsersAreIndistinguishableFromMissingOnes) {
    Browser a = loginA();
    Browser b = loginB();
    json bobMail = createUser(b, "email-users", "bob_mail_01");
    json bobSms = createUser(b, "sms-users", "bob_sms_001");
    createUser(a, "email-users", "alice_mail");
    createUser(a, "sms-users", "alice_sms1");
    const store::ApiUser mailBefore = stored("bob_mail_01");
    const store::ApiUser smsBefore = stored("bob_sms_001");

    struct Probe {
        M method;
        std::string suffix;  // after the user name
        std::string body;
    };
    const std::vector<Probe> probes = {
        {M::Get, "", ""},
        {M::Patch, "", R"({"disabled":true,"ipAllowlist":["0.0.0.0/0"]})"},
        {M::Patch, "", R"({"ipAllowlist":["not a cidr"]})"},  // 404 before validation
        {M::Delete, "", ""},
        {M::Post, "/key", ""},
        {M::Post, "/reset", R"({"revokeOld":true})"},
        {M::Post, "/reset", ""},
    };
    // Same-length names, so the bodies must be byte-identical once the names are swapped.
    const std::vector<std::pair<std::string, std::string>> targets = {
        {"email-users", "bob_mail_01"},  // another account's email user
        {"sms-users", "bob_sms_001"},    // another account's SMS user
        {"sms-users", "alice_mail"},     // own user, other kind
        {"email-users", "alice_sms1"},   // own user, other kind
    };
    for (const auto& [kind, name] : targets) {
        const std::string missing = name.substr(0, name.size() - 1) + "x";
        for (const auto& p : probes) {
            Reply r = as(a, p.method, "/console/api/" + kind + "/" + name + p.suffix, p.body);
            Reply m = as(a, p.method, "/console/api/" + kind + "/" + missing + p.suffix, p.body);
            EXPECT_EQ(r.status, 404) << kind << "/" << name << p.suffix << " " << r.body;
            EXPECT_EQ(r.code(), "console.not_found");
            std::string rb = r.body;
            rb.replace(rb.find(name), name.size(), missing);
            EXPECT_EQ(rb, m.body) << kind << "/" << name << p.suffix;
        }
    }
    // Bob's users are untouched: same key, same policy, still there.
    store::ApiUser mailAfter = stored("bob_mail_01");
    store::ApiUser smsAfter = stored("bob_sms_001");
    EXPECT_EQ(mailAfter.keyFingerprint, mailBefore.keyFingerprint);
    EXPECT_EQ(mailAfter.disabled, false);
    EXPECT_TRUE(mailAfter.policy.ipAllowlist.empty());
    EXPECT_EQ(smsAfter.keyFingerprint, smsBefore.keyFingerprint);
    EXPECT_TRUE(keyWorks(auth::Api::Email, "bob_mail_01", bobMail["apiKey"]));
    EXPECT_TRUE(keyWorks(auth::Api::Sms, "bob_sms_001", bobSms["smsKey"]));
    auto retired = backend_.credentials().retiredKeys(mailAfter.id);
    ASSERT_TRUE(retired.ok());
    EXPECT_TRUE(retired->empty());

    // Nor do Bob's users show up in Alice's lists.
    for (const char* kind : {"email-users", "sms-users"}) {
        Reply list = as(a, M::Get, std::string("/console/api/") + kind);
        EXPECT_EQ(list.body.find("bob_"), std::string::npos) << list.body;
    }
}

// ---- secrets ---------------------------------------------------------------------------------

TEST_F(UsersTest, AKeyAppearsOnlyInTheResponseThatCreatedIt) {
    Browser a = loginA();
    std::vector<std::pair<std::string, size_t>> keys;  // key, index of its creating response
    auto remember = [&](const std::string& key) { keys.emplace_back(key, allBodies_.size() - 1); };

    remember(createUser(a, "email-users", "alice_mail")["apiKey"]);
    remember(createUser(a, "sms-users", "alice_sms")["smsKey"]);
    remember(as(a, M::Post, "/console/api/email-users/alice_mail/reset").info()["apiKey"]);
    remember(as(a, M::Post, "/console/api/email-users/alice_mail/key").info()["apiKey"]);
    remember(as(a, M::Post, "/console/api/sms-users/alice_sms/reset").info()["smsKey"]);
    // Everything else a console does afterwards.
    as(a, M::Get, "/console/api/email-users");
    as(a, M::Get, "/console/api/sms-users");
    as(a, M::Get, "/console/api/email-users/alice_mail");
    as(a, M::Get, "/console/api/sms-users/alice_sms");
    as(a, M::Patch, "/console/api/email-users/alice_mail", R"({"purpose":"p"})");
    as(a, M::Patch, "/console/api/sms-users/alice_sms", R"({"purpose":"p"})");
    as(a, M::Get, "/console/api/auth-events");
    as(a, M::Get, "/console/api/usage");
    as(a, M::Get, "/console/api/session");

    const std::string db = dataDirBytes();
    for (const auto& [key, creator] : keys) {
        ASSERT_EQ(key.size(), auth::kKeyLength);
        for (size_t i = 0; i < allBodies_.size(); ++i) {
            if (i == creator) {
                EXPECT_NE(allBodies_[i].find(key), std::string::npos);
            } else {
                EXPECT_EQ(allBodies_[i].find(key), std::string::npos) << "response " << i;
            }
        }
        EXPECT_EQ(db.find(key), std::string::npos) << "a key is in the data dir in clear";
    }
}

// ---- routing -----------------------------------------------------------------------------------

TEST_F(UsersTest, UnknownEndpointsAndMethods) {
    Browser a = loginA();
    for (const char* path :
         {"/console/api/", "/console/api/nothing", "/console/api/email-users/a/b/c",
          "/console/api/email-users/alice_mail/rotate", "/console/api/session/extra"}) {
        Reply r = as(a, M::Get, path);
        EXPECT_EQ(r.status, 404) << path;
        EXPECT_EQ(r.code(), "request.not_found") << path;
    }
    Reply put = as(a, M::Put, "/console/api/email-users/alice_mail", "{}");
    EXPECT_EQ(put.status, 405);
    EXPECT_EQ(put.header("allow"), "GET, PATCH, DELETE");
    Reply del = as(a, M::Delete, "/console/api/email-users");
    EXPECT_EQ(del.status, 405);
    EXPECT_EQ(del.header("allow"), "GET, POST");
    // A trailing slash is the same endpoint.
    EXPECT_EQ(as(a, M::Get, "/console/api/email-users/").status, 200);
}

TEST_F(UsersTest, ManagementAnswersAreNeverCached) {
    Browser a = loginA();
    Reply ok = as(a, M::Get, "/console/api/email-users");
    Reply err = as(a, M::Get, "/console/api/email-users/nobody_here");
    EXPECT_EQ(ok.header("cache-control"), "no-store");
    EXPECT_EQ(err.header("cache-control"), "no-store");
}

TEST_F(UsersTest, RegisterRoutesInstallsTheRoomsOnAnotherRouter) {
    http::Router router([](int status, std::string code, std::string hint) {
        return api::errorResponse(api::ApiError{status, std::move(code), std::move(hint), {}});
    });
    api_->registerRoutes(router);
    http::Request req;
    req.method = M::Get;
    req.path = "/console/api/session";
    std::promise<http::Response> p;
    router.dispatch(req, http::Responder([&p](http::Response r) { p.set_value(std::move(r)); }));
    http::Response r = p.get_future().get();
    EXPECT_EQ(r.status, 401);
    EXPECT_NE(r.body.find("console.session_required"), std::string::npos);
}

}  // namespace
}  // namespace sc::console::testing
