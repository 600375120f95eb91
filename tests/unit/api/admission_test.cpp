// Admission on its own: the steps before a send's content, in their order, with what each
// leaves in the authentication log and the usage counters.

#include "api/admission.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cstdio>

#include "api_store_fixture.h"
#include "auth/lockout.h"
#include "policy/rate_limiter.h"

namespace sc::api {
namespace {

std::string formEncode(std::string_view text) {
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c)) {
            out += static_cast<char>(c);
        } else {
            char escaped[4];
            std::snprintf(escaped, sizeof escaped, "%%%02X", c);
            out += escaped;
        }
    }
    return out;
}

std::optional<std::string> headerOf(const http::Response& r, std::string_view name) {
    for (const auto& h : r.headers) {
        if (h.name == name) return h.value;
    }
    return std::nullopt;
}

class AdmissionTest : public testing::ApiStoreFixture {
protected:
    AdmissionTest()
        : verifier_(backend_.credentials(), keys_, clock_),
          lockout_(clock_, lockoutOptions()),
          rateLimiter_(clock_),
          admission_({verifier_, clock_, lockout_, rateLimiter_, recorder_}, {}, 0) {}

    static auth::LockoutOptions lockoutOptions() {
        auth::LockoutOptions o;
        o.ipFailures = 3;
        o.userFailures = 100;
        return o;
    }

    static http::Request request(const std::string& path,
                                 const std::vector<std::pair<std::string, std::string>>& params,
                                 const std::string& ip = "127.0.0.1") {
        http::Request req;
        req.method = http::Method::Get;
        req.path = path;
        for (const auto& [name, value] : params) {
            if (!req.query.empty()) req.query += '&';
            req.query += formEncode(name) + '=' + formEncode(value);
        }
        req.target = path + '?' + req.query;
        req.clientIp = ip;
        return req;
    }

    Result<Admitted, http::Response> emailWithKey(const std::string& key,
                                                  const std::string& ip = "127.0.0.1") {
        return admission_.admit(
            SendRoute{}, request("/email/send", {{"apiUser", "acme_api"}, {"apiKey", key}}, ip));
    }

    auth::CredentialVerifier verifier_;
    auth::LockoutTracker lockout_;
    policy::RateLimiter rateLimiter_;
    Admission admission_;
};

TEST_F(AdmissionTest, AdmitsV1SpellingsAsOursAndRecordsOneSuccess) {
    http::Request req =
        request("/webapi/mail.send.json",
                {{"api_user", "acme_api"}, {"api_key", emailKey_}, {"to", "a@x.io"}});
    req.headers.push_back({"user-agent", std::string(300, 'u')});
    auto admitted = admission_.admit(SendRoute{Endpoint::EmailSend, ResponseShape::V1}, req);
    ASSERT_TRUE(admitted.ok());
    EXPECT_EQ(admitted->form.params.get("apiUser").value_or(""), "acme_api");
    EXPECT_EQ(admitted->ctx.userId, emailUserId_);
    EXPECT_EQ(admitted->route.shape, ResponseShape::V1);
    auto log = events(accountId_);
    ASSERT_EQ(log.size(), 1u);
    EXPECT_EQ(log[0].outcome, store::AuthOutcome::Success);
    EXPECT_EQ(log[0].api, store::AuthApi::Email);
    EXPECT_EQ(log[0].userAgent.size(), 256u);
}

TEST_F(AdmissionTest, AnUnreadableRequestIsRefusedBeforeAnythingIsRecorded) {
    http::Request req = request("/email/send", {{"apiUser", "acme_api"}, {"apiKey", emailKey_}});
    req.method = http::Method::Post;
    req.headers.push_back({"content-type", "application/xml"});
    req.body = "<send/>";
    auto refused = admission_.admit(SendRoute{}, req);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().status, 415);
    EXPECT_TRUE(events(accountId_).empty());
    EXPECT_TRUE(events(0).empty());
}

// The third wrong key locks the address; from then on the right key is refused before it is
// checked, with no row per refusal, while the same key from elsewhere is admitted.
TEST_F(AdmissionTest, ALockedAddressIsRefusedBeforeItsCredentialsAreChecked) {
    for (int i = 0; i < 2; ++i) {
        auto wrong = emailWithKey("wrong-key", "10.0.0.1");
        ASSERT_FALSE(wrong.ok());
        EXPECT_EQ(wrong.error().status, 401);
    }
    auto locking = emailWithKey("wrong-key", "10.0.0.1");
    ASSERT_FALSE(locking.ok());
    EXPECT_EQ(locking.error().status, 429);
    EXPECT_EQ(headerOf(locking.error(), "retry-after").value_or(""), "300");
    auto log = events(accountId_);
    ASSERT_EQ(log.size(), 2u);  // the two alike failures are one row with a count
    EXPECT_EQ(log[0].outcome, store::AuthOutcome::Locked);
    EXPECT_EQ(log[1].outcome, store::AuthOutcome::Failure);
    EXPECT_EQ(log[1].attempts, 2);

    clock_.advance(std::chrono::seconds(100));
    auto locked = emailWithKey(emailKey_, "10.0.0.1");
    ASSERT_FALSE(locked.ok());
    EXPECT_EQ(locked.error().status, 429);
    EXPECT_EQ(headerOf(locked.error(), "retry-after").value_or(""), "200");
    EXPECT_EQ(locked.error().logUser, "");
    EXPECT_EQ(events(accountId_).size(), 2u);
    EXPECT_TRUE(emailWithKey(emailKey_, "10.0.0.2").ok());
}

TEST_F(AdmissionTest, AFailureIsAuditedAndCountedNamingOnlyAUserThatCouldBeOne) {
    auto wrong = emailWithKey("wrong-key");
    ASSERT_FALSE(wrong.ok());
    EXPECT_EQ(wrong.error().status, 401);
    EXPECT_EQ(wrong.error().logUser, "acme_api");
    EXPECT_EQ(usage("acme_api").authFailures, 1);
    EXPECT_EQ(usage("acme_api").requests, 1);

    // A caller who swapped the two: the "user" is a key and must not reach any log.
    auto swapped = admission_.admit(
        SendRoute{}, request("/email/send", {{"apiUser", emailKey_}, {"apiKey", "acme_api"}}));
    ASSERT_FALSE(swapped.ok());
    EXPECT_EQ(swapped.error().logUser, "");
    auto unknown = events(0);
    ASSERT_EQ(unknown.size(), 1u);
    EXPECT_EQ(unknown[0].userName, "-");
    EXPECT_EQ(unknown[0].outcome, store::AuthOutcome::Failure);
    EXPECT_EQ(unknown[0].reason, "auth.failed");
}

// The allowlist is checked before the rate limit: a request from outside it takes no token.
TEST_F(AdmissionTest, TheAllowlistComesBeforeTheRateLimit) {
    store::UserPolicy p;
    p.ipAllowlist = {"10.0.0.0/8"};
    p.rateLimitPerMinute = 1;
    setPolicy(emailUserId_, p);
    auto outside = emailWithKey(emailKey_, "192.168.1.1");
    ASSERT_FALSE(outside.ok());
    EXPECT_EQ(outside.error().status, 403);
    EXPECT_EQ(outside.error().logUser, "acme_api");
    EXPECT_TRUE(emailWithKey(emailKey_, "10.1.1.1").ok());
    auto limited = emailWithKey(emailKey_, "10.1.1.1");
    ASSERT_FALSE(limited.ok());
    EXPECT_EQ(limited.error().status, 429);
    EXPECT_EQ(headerOf(limited.error(), "retry-after").value_or(""), "60");

    auto log = events(accountId_);
    ASSERT_EQ(log.size(), 3u);
    EXPECT_EQ(log[0].outcome, store::AuthOutcome::RateLimited);
    EXPECT_EQ(log[0].reason, "limit.rate_exceeded");
    EXPECT_EQ(log[1].outcome, store::AuthOutcome::Success);
    EXPECT_EQ(log[2].outcome, store::AuthOutcome::Forbidden);
    EXPECT_EQ(log[2].reason, "auth.ip_not_allowed");
    const store::UsageRow counted = usage("acme_api");
    EXPECT_EQ(counted.requests, 2);  // the admitted one is counted by whoever answers it
    EXPECT_EQ(counted.rateLimited, 1);
}

TEST_F(AdmissionTest, ARefusalAfterAuthenticationCarriesTheSunsetOfAKeyInGrace) {
    const std::string oldKey = emailKey_;
    ASSERT_TRUE(issuer_.resetKey(emailUserId_, false).ok());
    store::UserPolicy p;
    p.ipAllowlist = {"10.0.0.0/8"};
    setPolicy(emailUserId_, p);
    auto refused = emailWithKey(oldKey, "192.168.1.1");
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().status, 403);
    EXPECT_TRUE(headerOf(refused.error(), "sunset"));
    auto admitted = emailWithKey(oldKey, "10.1.1.1");
    ASSERT_TRUE(admitted.ok());
    http::Response answer;
    markAdmitted(admitted->ctx, answer);
    EXPECT_EQ(answer.logUser, "acme_api");
    EXPECT_EQ(headerOf(answer, "sunset"), headerOf(refused.error(), "sunset"));
}

}  // namespace
}  // namespace sc::api
