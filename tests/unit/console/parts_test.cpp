// The console's building blocks on their own: lockout bookkeeping, policy input, time
// parameters, cookies and tokens, the work pool and the password hasher.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>

#include "console/login_throttle.h"
#include "console/password_hasher.h"
#include "console/policy_patch.h"
#include "console/session_tokens.h"
#include "console/time_param.h"
#include "console/work_pool.h"
#include "fakes/fake_clock.h"
#include "fakes/fixed_random.h"

namespace sc::console {
namespace {

using Outcome = LoginThrottle::Outcome;

// ---- LoginThrottle -------------------------------------------------------------------------

TEST(LoginThrottleTest, LocksAnEmailAtTheThresholdForTheLockDuration) {
    sc::testing::FakeClock clock;
    ThrottleOptions o;
    o.maxFailuresPerEmail = 3;
    o.lockDuration = std::chrono::seconds(60);
    LoginThrottle t(clock, o);
    for (int i = 0; i < 3; ++i) {
        ASSERT_EQ(t.begin("a@x.io", "192.0.2.1"), 0) << i;
        t.finish("a@x.io", "192.0.2.1", Outcome::Failure);
    }
    EXPECT_EQ(t.begin("a@x.io", "192.0.2.2"), 60000);
    EXPECT_EQ(t.begin("A@X.IO", "192.0.2.2"), 60000);
    EXPECT_EQ(t.begin("b@x.io", "192.0.2.1"), 0);
    t.finish("b@x.io", "192.0.2.1", Outcome::Success);
    clock.advance(std::chrono::seconds(59));
    EXPECT_EQ(t.begin("a@x.io", "192.0.2.2"), 1000);
    clock.advance(std::chrono::seconds(1));
    EXPECT_EQ(t.begin("a@x.io", "192.0.2.2"), 0);
}

TEST(LoginThrottleTest, AttemptsInFlightCountSoConcurrentGuessesCannotOvershoot) {
    sc::testing::FakeClock clock;
    ThrottleOptions o;
    o.maxFailuresPerEmail = 2;
    LoginThrottle t(clock, o);
    EXPECT_EQ(t.begin("a@x.io", "192.0.2.1"), 0);
    EXPECT_EQ(t.begin("a@x.io", "192.0.2.2"), 0);
    EXPECT_GT(t.begin("a@x.io", "192.0.2.3"), 0);  // two pending: a third could be the 3rd guess
    t.finish("a@x.io", "192.0.2.1", Outcome::Aborted);  // counts against nobody
    EXPECT_EQ(t.begin("a@x.io", "192.0.2.3"), 0);
}

TEST(LoginThrottleTest, ASuccessClearsTheEmailButNotTheIp) {
    sc::testing::FakeClock clock;
    ThrottleOptions o;
    o.maxFailuresPerEmail = 2;
    o.maxFailuresPerIp = 3;
    LoginThrottle t(clock, o);
    const char* ip = "192.0.2.1";
    ASSERT_EQ(t.begin("a@x.io", ip), 0);
    t.finish("a@x.io", ip, Outcome::Failure);
    ASSERT_EQ(t.begin("b@x.io", ip), 0);
    t.finish("b@x.io", ip, Outcome::Failure);
    ASSERT_EQ(t.begin("a@x.io", ip), 0);
    t.finish("a@x.io", ip, Outcome::Success);
    ASSERT_EQ(t.begin("a@x.io", "192.0.2.9"), 0);  // a@'s count was reset
    t.finish("a@x.io", "192.0.2.9", Outcome::Aborted);
    ASSERT_EQ(t.begin("c@x.io", ip), 0);
    t.finish("c@x.io", ip, Outcome::Failure);  // the IP's third failure
    EXPECT_GT(t.begin("d@x.io", ip), 0);
}

TEST(LoginThrottleTest, ForgetsOldFailuresAndSweepsIdleEntries) {
    sc::testing::FakeClock clock;
    ThrottleOptions o;
    o.maxFailuresPerEmail = 2;
    o.window = std::chrono::seconds(10);
    o.sweepAbove = 4;
    LoginThrottle t(clock, o);
    ASSERT_EQ(t.begin("a@x.io", "192.0.2.1"), 0);
    t.finish("a@x.io", "192.0.2.1", Outcome::Failure);
    clock.advance(std::chrono::seconds(10));
    ASSERT_EQ(t.begin("a@x.io", "192.0.2.1"), 0);
    t.finish("a@x.io", "192.0.2.1", Outcome::Failure);
    EXPECT_EQ(t.begin("a@x.io", "192.0.2.1"), 0);  // the first failure left the window
    t.finish("a@x.io", "192.0.2.1", Outcome::Aborted);
    // Many one-off e-mails do not pile up without bound.
    for (int i = 0; i < 100; ++i) {
        std::string e = "spray" + std::to_string(i) + "@x.io";
        ASSERT_EQ(t.begin(e, "192.0.2.200"), 0);
        t.finish(e, "192.0.2.200", Outcome::Aborted);
    }
}

// ---- policy input ----------------------------------------------------------------------------

TEST(PolicyPatchTest, Hostnames) {
    for (const char* ok : {"example.com", "a.b.c.example", "xn--bcher-kva.example", "localhost",
                           "EXAMPLE.COM", "a-b.io", "1.example"}) {
        EXPECT_TRUE(isHostname(ok)) << ok;
    }
    const std::string longLabel(64, 'a');
    for (std::string bad : {std::string(""), std::string("."), std::string("example.com."),
                            std::string(".example.com"), std::string("a..b"), std::string("-a.com"),
                            std::string("a-.com"), std::string("a_b.com"), std::string("a b.com"),
                            longLabel + ".com", std::string(254, 'a')}) {
        EXPECT_FALSE(isHostname(bad)) << bad;
    }
}

TEST(PolicyPatchTest, AppliesOnlyWhatIsPresent) {
    auto p = parsePolicyPatch(nlohmann::json{{"testMode", true}, {"dailyQuota", 9}},
                              store::UserKind::Email, true, {});
    ASSERT_TRUE(p.ok());
    store::UserPolicy policy;
    policy.purpose = "kept";
    policy.ipAllowlist = {"10.0.0.0/8"};
    bool disabled = true;
    p->applyTo(policy, disabled);
    EXPECT_EQ(policy.purpose, "kept");
    EXPECT_EQ(policy.ipAllowlist.size(), 1u);
    EXPECT_TRUE(policy.testMode);
    EXPECT_EQ(policy.dailyQuota, 9);
    EXPECT_TRUE(disabled);
}

TEST(PolicyPatchTest, SmsRouteIsOneOfTheServersRoutesAndOnlyForSmsUsers) {
    const std::vector<std::string> routes{"bulk", "premium"};
    auto p = parsePolicyPatch({{"smsRoute", "premium"}}, store::UserKind::Sms, true, {}, routes);
    ASSERT_TRUE(p.ok()) << p.error().hint;
    store::UserPolicy policy;
    bool disabled = false;
    p->applyTo(policy, disabled);
    EXPECT_EQ(policy.smsRoute, "premium");
    auto cleared = parsePolicyPatch({{"smsRoute", ""}}, store::UserKind::Sms, true, {}, routes);
    ASSERT_TRUE(cleared.ok());
    cleared->applyTo(policy, disabled);
    EXPECT_EQ(policy.smsRoute, "");

    auto unknown = parsePolicyPatch({{"smsRoute", "nope"}}, store::UserKind::Sms, true, {}, routes);
    ASSERT_FALSE(unknown.ok());
    EXPECT_EQ(unknown.error().code, "console.unknown_route");
    EXPECT_NE(unknown.error().hint.find("bulk, premium"), std::string::npos)
        << unknown.error().hint;
    auto none = parsePolicyPatch({{"smsRoute", "bulk"}}, store::UserKind::Sms, true, {});
    ASSERT_FALSE(none.ok());
    EXPECT_NE(none.error().hint.find("none"), std::string::npos);
    auto email = parsePolicyPatch({{"smsRoute", "bulk"}}, store::UserKind::Email, true, {}, routes);
    ASSERT_FALSE(email.ok());
    EXPECT_EQ(email.error().code, "console.bad_request");
    auto notString = parsePolicyPatch({{"smsRoute", 3}}, store::UserKind::Sms, true, {}, routes);
    ASSERT_FALSE(notString.ok());
}

TEST(PolicyPatchTest, BoundsListsAndPurpose) {
    nlohmann::json many = nlohmann::json::array();
    for (int i = 0; i < 101; ++i) many.push_back("10.0.0." + std::to_string(i % 250));
    auto r = parsePolicyPatch({{"ipAllowlist", many}}, store::UserKind::Email, true, {});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "console.invalid_value");
    auto purpose =
        parsePolicyPatch({{"purpose", std::string(1001, 'x')}}, store::UserKind::Email, true, {});
    ASSERT_FALSE(purpose.ok());
    EXPECT_EQ(purpose.error().code, "console.invalid_value");
    auto name = parsePolicyPatch({{"name", "x"}}, store::UserKind::Sms, false, {"name"});
    EXPECT_TRUE(name.ok());
}

// ---- time parameters ---------------------------------------------------------------------------

TEST(TimeParamTest, ParsesIso8601AndEpochMilliseconds) {
    const int64_t t = 1795860000000;  // 2026-11-28T10:00:00Z
    EXPECT_EQ(parseTimeParam("1795860000000"), t);
    EXPECT_EQ(parseTimeParam("2026-11-28T10:00:00Z"), t);
    EXPECT_EQ(parseTimeParam("2026-11-28t10:00:00z"), t);
    EXPECT_EQ(parseTimeParam("2026-11-28T10:00:00.250Z"), t + 250);
    EXPECT_EQ(parseTimeParam("2026-11-28T10:00:00.2Z"), t + 200);
    EXPECT_EQ(parseTimeParam("2026-11-28T11:30:00+01:30"), t);
    EXPECT_EQ(parseTimeParam("2026-11-28T08:00:00-02:00"), t);
    EXPECT_EQ(parseTimeParam("2026-11-28"), t - 10 * 3600 * 1000);
    EXPECT_EQ(parseTimeParam("1970-01-01T00:00:00Z"), 0);
    for (const char* bad :
         {"", "yesterday", "2026-11-28T10:00:00", "2026-02-30", "2026-11-28T24:00:00Z",
          "2026-11-28T10:00Z", "2026-11-28T10:00:00.Z", "2026-11-28T10:00:00Zx", "-5",
          "1234567890123456", "2026-11-28T10:00:00+0100"}) {
        EXPECT_FALSE(parseTimeParam(bad)) << bad;
    }
}

TEST(TimeParamTest, FormatsWhatItParses) {
    EXPECT_EQ(formatTimeMs(1795860000000), "2026-11-28T10:00:00Z");
    EXPECT_EQ(formatTimeMs(1795860000250), "2026-11-28T10:00:00.250Z");
    EXPECT_EQ(parseTimeParam(formatTimeMs(1795860000007)), 1795860000007);
}

// ---- tokens and cookies ------------------------------------------------------------------------

TEST(SessionTokensTest, TokensAreBase64UrlOf32BytesAndHashTo32Bytes) {
    sc::testing::FixedRandom random;
    std::string a = generateToken(random), b = generateToken(random);
    EXPECT_TRUE(wellFormedToken(a)) << a;
    EXPECT_NE(a, b);
    EXPECT_EQ(hashToken(a).size(), 32u);
    EXPECT_TRUE(hashesEqual(hashToken(a), hashToken(a)));
    EXPECT_FALSE(hashesEqual(hashToken(a), hashToken(b)));
    EXPECT_FALSE(hashesEqual(hashToken(a), ""));
    EXPECT_FALSE(wellFormedToken(a + "A"));
    EXPECT_FALSE(wellFormedToken(std::string(43, '+')));
}

TEST(SessionTokensTest, FindsTheCookieAmongOthers) {
    http::Request req;
    req.headers = {{"cookie", "a=1; sc_session_x=2;  sc_session = \"tok\" ; b=3"},
                   {"cookie", "sc_session=second"}};
    EXPECT_EQ(findCookie(req, "sc_session"), "tok");
    EXPECT_EQ(findCookie(req, "b"), "3");
    EXPECT_EQ(findCookie(req, "sc_session_x"), "2");
    EXPECT_FALSE(findCookie(req, "missing"));
    http::Request none;
    EXPECT_FALSE(findCookie(none, "sc_session"));
    http::Request junk;
    junk.headers = {{"cookie", ";;=;novalue;sc_session"}};
    EXPECT_FALSE(findCookie(junk, "sc_session"));
}

// ---- WorkPool
// ------------------------------------------------------------------------------------

TEST(WorkPoolTest, RunsTasksAndStopDrainsTheQueue) {
    WorkPool pool(2);
    std::atomic<int> done{0};
    std::promise<void> gate;
    auto gateFuture = gate.get_future().share();
    // Both threads wait on the gate, so the rest queue up behind them.
    for (int i = 0; i < 2; ++i) {
        ASSERT_TRUE(pool.post([gateFuture, &done] {
            gateFuture.wait();
            ++done;
        }));
    }
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(pool.post([&done] { ++done; }));
    gate.set_value();
    pool.stop();
    EXPECT_EQ(done.load(), 12);
    EXPECT_FALSE(pool.post([] {}));
    pool.stop();  // idempotent
}

TEST(WorkPoolTest, RefusesBeyondTheQueueBound) {
    WorkPool pool(1, 2);
    std::promise<void> gate;
    auto gateFuture = gate.get_future().share();
    std::promise<void> started;
    ASSERT_TRUE(pool.post([gateFuture, &started] {
        started.set_value();
        gateFuture.wait();
    }));
    started.get_future().wait();  // the thread holds the first task; the queue is empty
    EXPECT_TRUE(pool.post([] {}));
    EXPECT_TRUE(pool.post([] {}));
    EXPECT_FALSE(pool.post([] {}));
    gate.set_value();
}

// ---- passwords
// -----------------------------------------------------------------------------------

TEST(PasswordHasherTest, HashesVerifiesAndKnowsWhenToRehash) {
    PasswordHasher hasher(PasswordLimits::minimum());
    auto h = hasher.hash("a fine password");
    ASSERT_TRUE(h.ok()) << h.error();
    EXPECT_EQ(h->rfind("$argon2id$", 0), 0u) << *h;
    EXPECT_EQ(h->find("a fine password"), std::string::npos);
    EXPECT_TRUE(hasher.verify(*h, "a fine password"));
    EXPECT_FALSE(hasher.verify(*h, "a fine passwore"));
    EXPECT_FALSE(hasher.verify("", "a fine password"));
    EXPECT_FALSE(hasher.verify("$argon2id$garbage", "a fine password"));
    EXPECT_FALSE(hasher.needsRehash(*h));
    auto h2 = hasher.hash("a fine password");
    EXPECT_NE(*h, *h2);  // salted

    PasswordLimits stronger = PasswordLimits::minimum();
    stronger.opsLimit += 1;
    PasswordHasher upgraded(stronger);
    EXPECT_TRUE(upgraded.needsRehash(*h));
    EXPECT_TRUE(upgraded.verify(*h, "a fine password"));  // old hashes keep working
}

TEST(PasswordHasherTest, TheDummyIsShapedLikeARealHashUnderTheSameLimits) {
    for (auto limits : {PasswordLimits::minimum(), PasswordLimits::interactive()}) {
        PasswordHasher hasher(limits);
        const std::string& dummy = hasher.dummyHashForTest();
        EXPECT_FALSE(hasher.needsRehash(dummy)) << dummy;  // parses, and with these limits
    }
    PasswordHasher hasher(PasswordLimits::minimum());
    auto real = hasher.hash("a fine password");
    ASSERT_TRUE(real.ok());
    const std::string& dummy = hasher.dummyHashForTest();
    // Same algorithm, version and cost parameters: everything up to the salt.
    auto params = [](const std::string& h) { return h.substr(0, h.find('$', 15 + 1)); };
    EXPECT_EQ(params(dummy), params(*real));
    EXPECT_EQ(dummy.size(), real->size());
    EXPECT_FALSE(hasher.verify(dummy, "sc-console-dummy-password"));
}

TEST(PasswordHasherTest, LengthRules) {
    auto shortOne = hashPassword("123456789", PasswordLimits::minimum());
    ASSERT_FALSE(shortOne.ok());
    EXPECT_NE(shortOne.error().find("at least 10"), std::string::npos);
    EXPECT_TRUE(hashPassword("1234567890", PasswordLimits::minimum()).ok());
    EXPECT_TRUE(hashPassword(std::string(1024, 'x'), PasswordLimits::minimum()).ok());
    EXPECT_FALSE(hashPassword(std::string(1025, 'x'), PasswordLimits::minimum()).ok());
}

}  // namespace
}  // namespace sc::console
