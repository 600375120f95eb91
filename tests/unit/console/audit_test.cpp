// The authentication log and usage counters as the console reads them.

#include "console/time_param.h"
#include "unit/console/console_fixture.h"

namespace sc::console::testing {
namespace {

using M = http::Method;
constexpr int64_t kMinute = 60 * 1000;
constexpr int64_t kHour = 60 * kMinute;

class AuditTest : public ConsoleTest {
protected:
    void SetUp() override {
        a_ = loginA();
        b_ = loginB();
        createUser(a_, "email-users", "alice_mail");
        createUser(a_, "sms-users", "alice_sms");
        createUser(b_, "email-users", "bob_mail");
        t0_ = now();
        // Alice: 6 events a minute apart, alternating users and outcomes; Bob: one.
        std::vector<store::AuthEvent> events;
        for (int i = 0; i < 6; ++i) {
            events.push_back(
                event(i % 2 ? "alice_sms" : "alice_mail", accountA_,
                      i % 3 ? store::AuthOutcome::Success : store::AuthOutcome::Failure,
                      t0_ + i * kMinute));
        }
        events.push_back(event("bob_mail", accountB_, store::AuthOutcome::Success, t0_));
        ASSERT_TRUE(backend_.audit().appendEvents(events).ok());
        clock_.advance(std::chrono::hours(1));
    }

    store::AuthEvent event(const std::string& user, int64_t accountId, store::AuthOutcome outcome,
                           int64_t atMs) {
        store::AuthEvent e;
        e.atMs = atMs;
        e.api = user.find("sms") != std::string::npos ? store::AuthApi::Sms : store::AuthApi::Email;
        e.userName = user;
        e.accountId = accountId;
        e.userId = 1;
        e.outcome = outcome;
        e.reason = outcome == store::AuthOutcome::Success ? "" : "auth.failed";
        e.keyFingerprint = "0a1b2c3d";
        e.clientIp = "2001:db8::17";
        e.userAgent = "curl/7.88.1";
        return e;
    }

    // The API-user events (the console logins of SetUp are in the log too).
    std::vector<json> userEvents(const std::string& query) {
        Reply r = as(a_, M::Get, "/console/api/auth-events" + query);
        EXPECT_EQ(r.status, 200) << r.body;
        std::vector<json> out;
        if (r.status != 200) return out;
        for (const auto& e : r.info()["events"]) {
            if (e["api"] != "console") out.push_back(e);
        }
        return out;
    }

    Browser a_, b_;
    int64_t t0_ = 0;
};

TEST_F(AuditTest, EventsAreTheAccountsOwnNewestFirst) {
    auto events = userEvents("");
    ASSERT_EQ(events.size(), 6u);
    EXPECT_EQ(events[0]["at"], formatTimeMs(t0_ + 5 * kMinute));
    EXPECT_EQ(events[5]["at"], formatTimeMs(t0_));
    for (const auto& e : events) {
        EXPECT_NE(e["user"], "bob_mail");
        EXPECT_EQ(e["keyFingerprint"], "0a1b2c3d");
        EXPECT_EQ(e["clientIp"], "2001:db8::17");
        EXPECT_EQ(e["userAgent"], "curl/7.88.1");
        EXPECT_TRUE(e["id"].is_number_integer());
    }
    Reply bob = as(b_, M::Get, "/console/api/auth-events?user=alice_mail");
    EXPECT_EQ(bob.info()["events"].size(), 0u);
}

TEST_F(AuditTest, EventsFilterByUserOutcomeAndTime) {
    EXPECT_EQ(userEvents("?user=alice_sms").size(), 3u);
    EXPECT_EQ(userEvents("?outcome=failure").size(), 2u);                  // i = 0, 3
    EXPECT_EQ(userEvents("?user=alice_mail&outcome=success").size(), 2u);  // i = 2, 4
    // from is inclusive, to exclusive; ISO 8601 and epoch milliseconds both work.
    auto iso = userEvents("?from=" + formatTimeMs(t0_ + kMinute) +
                          "&to=" + formatTimeMs(t0_ + 3 * kMinute));
    ASSERT_EQ(iso.size(), 2u);
    auto ms = userEvents("?from=" + std::to_string(t0_ + kMinute) +
                         "&to=" + std::to_string(t0_ + 3 * kMinute));
    EXPECT_EQ(ms, iso);
}

TEST_F(AuditTest, EventsPageWithTheBeforeCursor) {
    Reply p1 = as(a_, M::Get, "/console/api/auth-events?outcome=success&limit=3");
    ASSERT_EQ(p1.status, 200) << p1.body;
    ASSERT_EQ(p1.info()["events"].size(), 3u);
    ASSERT_TRUE(p1.info()["nextBefore"].is_number_integer()) << p1.body;
    EXPECT_EQ(p1.info()["nextBefore"], p1.info()["events"][2]["id"]);
    std::vector<int64_t> ids;
    for (const auto& e : p1.info()["events"]) ids.push_back(e["id"]);

    // 4 API-user successes + Alice's console login = 5: the second page is the last.
    Reply p2 = as(a_, M::Get,
                  "/console/api/auth-events?outcome=success&limit=3&before=" +
                      std::to_string(p1.info()["nextBefore"].get<int64_t>()));
    ASSERT_EQ(p2.info()["events"].size(), 2u) << p2.body;
    EXPECT_TRUE(p2.info()["nextBefore"].is_null()) << p2.body;
    for (const auto& e : p2.info()["events"]) {
        EXPECT_LT(e["id"].get<int64_t>(), ids.back());
    }
}

TEST_F(AuditTest, BadQueriesAreRefused) {
    for (const char* q :
         {"?from=yesterday", "?to=2026-13-01T00:00:00Z", "?before=-1", "?limit=0", "?limit=ten",
          "?bogus=1", "?user=a&user=b", "?from=2026-11-28T10:00:00", "?from=%zz"}) {
        Reply r = as(a_, M::Get, std::string("/console/api/auth-events") + q);
        EXPECT_EQ(r.status, 400) << q;
        EXPECT_EQ(r.code(), "console.bad_request") << q << " " << r.body;
    }
    // An outcome the log never holds is refused, naming the ones it does, rather than answered
    // with an empty page; an empty one is no filter.
    for (const char* q : {"?outcome=succeeded", "?outcome=SUCCESS", "?outcome=success%20"}) {
        Reply r = as(a_, M::Get, std::string("/console/api/auth-events") + q);
        EXPECT_EQ(r.status, 400) << q;
        EXPECT_EQ(r.code(), "console.bad_request") << q << " " << r.body;
        EXPECT_NE(r.body.find("success, failure, locked, rate_limited, quota, forbidden"),
                  std::string::npos)
            << r.body;
    }
    EXPECT_EQ(userEvents("?outcome=").size(), 6u);
    // A limit above the maximum is cut, not refused.
    EXPECT_EQ(as(a_, M::Get, "/console/api/auth-events?limit=100000").status, 200);
}

TEST_F(AuditTest, UsageRowsAreTheAccountsOwn) {
    const int64_t hour = t0_ - t0_ % kHour;
    auto delta = [](int64_t userId, int64_t accountId, std::string name, int64_t hourStart,
                    int64_t requests) {
        store::UsageDelta d;
        d.userId = userId;
        d.accountId = accountId;
        d.userName = std::move(name);
        d.hourStartMs = hourStart;
        d.requests = requests;
        d.recipients = requests * 2;
        d.authFailures = 1;
        return d;
    };
    ASSERT_TRUE(backend_.audit()
                    .addUsage({delta(1, accountA_, "alice_mail", hour - kHour, 3),
                               delta(1, accountA_, "alice_mail", hour, 5),
                               delta(2, accountA_, "alice_sms", hour, 7),
                               delta(3, accountB_, "bob_mail", hour, 11),
                               delta(1, accountA_, "alice_mail", hour - 30 * 24 * kHour, 1)})
                    .ok());
    Reply all = as(a_, M::Get, "/console/api/usage");
    ASSERT_EQ(all.status, 200) << all.body;
    const auto& rows = all.info()["rows"];
    ASSERT_EQ(rows.size(), 3u) << all.body;  // the 30-day-old row is outside the default week
    EXPECT_EQ(rows[0]["user"], "alice_mail");
    EXPECT_EQ(rows[0]["hourStart"], formatTimeMs(hour - kHour));
    EXPECT_EQ(rows[0]["requests"], 3);
    EXPECT_EQ(rows[1]["user"], "alice_mail");
    EXPECT_EQ(rows[1]["recipients"], 10);
    EXPECT_EQ(rows[2]["user"], "alice_sms");
    EXPECT_EQ(rows[2]["authFailures"], 1);
    EXPECT_EQ(all.body.find("bob_mail"), std::string::npos);

    Reply one =
        as(a_, M::Get,
           "/console/api/usage?user=alice_mail&from=" + std::to_string(hour - 31 * 24 * kHour) +
               "&to=" + formatTimeMs(hour));
    ASSERT_EQ(one.status, 200) << one.body;
    ASSERT_EQ(one.info()["rows"].size(), 2u) << one.body;
    EXPECT_EQ(one.info()["rows"][0]["requests"], 1);

    Reply bob = as(b_, M::Get, "/console/api/usage?user=alice_mail");
    EXPECT_EQ(bob.info()["rows"].size(), 0u);

    Reply inverted = as(
        a_, M::Get,
        "/console/api/usage?from=" + std::to_string(hour) + "&to=" + std::to_string(hour - kHour));
    EXPECT_EQ(inverted.code(), "console.bad_request");
}

}  // namespace
}  // namespace sc::console::testing
