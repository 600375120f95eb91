// The send path in-process: real SQLite store in a temp dir, FakeClock, no sockets. This is
// where the rules that depend on time (grace periods, lockouts, rate limits, quotas) are shown,
// by moving the clock.

#include "api/send_handlers.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <sstream>

#include "api/send_validation.h"
#include "auth/credential_issuer.h"
#include "auth/sms_signature.h"
#include "fakes/fake_clock.h"
#include "fakes/fixed_random.h"
#include "store/sqlite/sqlite_store.h"

namespace sc::api {
namespace {

using nlohmann::json;

std::string urlEncode(const std::string& s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
    }
    return out;
}

class SendApiTest : public ::testing::Test {
protected:
    SendApiTest()
        : dir_(makeTempDir()),
          backend_(sqliteOptions(dir_)),
          secret_(auth::ServerSecret::fromBytes(secretBytes())),
          keys_(secret_),
          issuer_(backend_.credentials(), keys_, random_, clock_, std::chrono::minutes(15)),
          verifier_(backend_.credentials(), keys_, clock_),
          ids_(clock_, random_, "test"),
          phones_(domain::PhoneValidation::Valid),
          lockout_(clock_, lockoutOptions()),
          rateLimiter_(clock_),
          quota_(clock_,
                 [this](int64_t user, int64_t from, int64_t to) {
                     return backend_.audit().recipientsBetween(user, from, to + 1).value();
                 }),
          recorder_(backend_.audit(), clock_, {}),
          api_(SendApiDeps{verifier_, backend_.messages(), ids_, phones_, clock_, lockout_,
                           rateLimiter_, quota_, recorder_, backend_.templates()},
               SendLimits{}) {
        EXPECT_TRUE(issuer_.createAccount("owner@acme.io").ok());
        auto e = issuer_.createUser("acme_api", store::UserKind::Email, "owner@acme.io");
        auto s = issuer_.createUser("acme_sms", store::UserKind::Sms, "owner@acme.io");
        EXPECT_TRUE(e.ok() && s.ok());
        emailKey_ = e->key;
        smsKey_ = s->key;
        emailUserId_ = e->user.id;
        smsUserId_ = s->user.id;
    }

    ~SendApiTest() override {
        backend_.messages().stop();
        std::filesystem::remove_all(dir_);
    }

    static std::string makeTempDir() {
        char tmpl[] = "/tmp/sc-sendapi-XXXXXX";
        return mkdtemp(tmpl);
    }
    static store::SqliteOptions sqliteOptions(const std::string& dir) {
        store::SqliteOptions o;
        o.path = dir + "/sendcloud.db";
        return o;
    }
    static std::array<uint8_t, 32> secretBytes() {
        std::array<uint8_t, 32> b{};
        b[3] = 42;
        return b;
    }
    static auth::LockoutOptions lockoutOptions() {
        auth::LockoutOptions o;
        o.ipFailures = 10;
        o.userFailures = 5;
        return o;
    }

    http::Response call(bool sms, std::vector<std::pair<std::string, std::string>> params,
                        const std::string& ip = "127.0.0.1") {
        http::Request req;
        req.method = http::Method::Get;
        req.path = sms ? "/smsapi/send" : "/email/send";
        for (auto& [k, v] : params) {
            if (!req.query.empty()) req.query += "&";
            req.query += urlEncode(k) + "=" + urlEncode(v);
        }
        req.target = req.path + "?" + req.query;
        req.clientIp = ip;
        std::promise<http::Response> done;
        auto fut = done.get_future();
        http::Responder reply([&done](http::Response r) { done.set_value(std::move(r)); });
        if (sms) {
            api_.sendSms(req, reply);
        } else {
            api_.sendEmail(req, reply);
        }
        return fut.get();
    }

    http::Response email(const std::string& key, const std::string& ip = "127.0.0.1",
                         const std::string& from = "news@acme.io") {
        return call(false,
                    {{"apiUser", "acme_api"},
                     {"apiKey", key},
                     {"from", from},
                     {"to", "ann@x.io"},
                     {"subject", "Hi"},
                     {"plain", "Hello"}},
                    ip);
    }
    http::Response sms(const std::string& key, const std::string& ip = "127.0.0.1") {
        return call(
            true,
            {{"smsUser", "acme_sms"}, {"smsKey", key}, {"to", "+14155550100"}, {"message", "Hi"}},
            ip);
    }

    static std::string errorCodeOf(const http::Response& r) {
        auto j = json::parse(r.body);
        return j.value("errorCode", std::string("none"));
    }
    static std::optional<std::string> headerOf(const http::Response& r, const std::string& name) {
        for (const auto& h : r.headers) {
            if (h.name == name) return h.value;
        }
        return std::nullopt;
    }

    void setPolicy(int64_t userId, const store::UserPolicy& p) {
        ASSERT_TRUE(backend_.credentials().updateUser(userId, p, false).ok());
    }

    std::string dir_;
    testing::FakeClock clock_;
    testing::FixedRandom random_;
    store::SqliteBackend backend_;
    auth::ServerSecret secret_;
    auth::KeyMaterial keys_;
    auth::CredentialIssuer issuer_;
    auth::CredentialVerifier verifier_;
    IdGenerator ids_;
    domain::PhoneNumberValidator phones_;
    auth::LockoutTracker lockout_;
    policy::RateLimiter rateLimiter_;
    policy::DailyQuota quota_;
    audit::AuditRecorder recorder_;
    SendApi api_;
    std::string emailKey_, smsKey_;
    int64_t emailUserId_ = 0, smsUserId_ = 0;
};

TEST_F(SendApiTest, GraceEdges) {
    const std::string key1 = emailKey_;
    const int64_t resetAt = clock_.nowMillis();
    auto reset = issuer_.resetKey(emailUserId_, false);
    ASSERT_TRUE(reset.ok());
    const std::string key2 = reset->key;

    auto fresh = email(key2);
    EXPECT_EQ(fresh.status, 200) << fresh.body;  // the new key works at once
    EXPECT_FALSE(headerOf(fresh, "sunset"));

    clock_.advance(std::chrono::minutes(14) + std::chrono::seconds(59));
    auto late = email(key1);
    EXPECT_EQ(late.status, 200) << late.body;
    EXPECT_EQ(headerOf(late, "sunset").value_or(""),
              formatHttpDate(Clock::TimePoint(Clock::Duration(resetAt + 15 * 60 * 1000))));

    clock_.advance(std::chrono::seconds(1));
    auto expired = email(key1);
    EXPECT_EQ(expired.status, 401);
    EXPECT_EQ(errorCodeOf(expired), "auth.key_expired");
    auto hint = json::parse(expired.body)["hint"].get<std::string>();
    EXPECT_NE(hint.find(formatIso8601(Clock::TimePoint(Clock::Duration(resetAt)))),
              std::string::npos)
        << hint;
    EXPECT_NE(hint.find(formatIso8601(Clock::TimePoint(Clock::Duration(resetAt + 900000)))),
              std::string::npos)
        << hint;
    EXPECT_EQ(email(key2).status, 200);
}

TEST_F(SendApiTest, SecondResetAtMinuteFiveKillsKeyOneAndStartsKeyTwosGrace) {
    const std::string key1 = emailKey_;
    const std::string key2 = issuer_.resetKey(emailUserId_, false)->key;
    clock_.advance(std::chrono::minutes(5));
    const int64_t second = clock_.nowMillis();
    const std::string key3 = issuer_.resetKey(emailUserId_, false)->key;
    EXPECT_EQ(errorCodeOf(email(key1)), "auth.key_expired");
    auto k2 = email(key2);
    EXPECT_EQ(k2.status, 200);
    EXPECT_EQ(headerOf(k2, "sunset").value_or(""),
              formatHttpDate(Clock::TimePoint(Clock::Duration(second + 900000))));
    EXPECT_EQ(email(key3).status, 200);
    clock_.advance(std::chrono::minutes(15));
    EXPECT_EQ(errorCodeOf(email(key2)), "auth.key_expired");
}

TEST_F(SendApiTest, RevokeOldKillsTheOldKeyAtOnce) {
    const std::string key1 = emailKey_;
    auto reset = issuer_.resetKey(emailUserId_, true);
    EXPECT_EQ(errorCodeOf(email(key1)), "auth.key_expired");
    EXPECT_EQ(email(reset->key).status, 200);
}

TEST_F(SendApiTest, SmsResetRefusesTheOldKeyOnTheFirstRequestAfterIt) {
    EXPECT_EQ(sms(smsKey_).status, 200);
    auto reset = issuer_.resetKey(smsUserId_, false);
    ASSERT_TRUE(reset.ok());
    auto old = sms(smsKey_);
    EXPECT_EQ(old.status, 401);
    EXPECT_EQ(errorCodeOf(old), "auth.key_expired");
    EXPECT_EQ(sms(reset->key).status, 200);
}

TEST_F(SendApiTest, IpAllowlist) {
    store::UserPolicy p;
    p.ipAllowlist = {"10.0.0.0/8", "2001:db8::/32"};
    setPolicy(emailUserId_, p);
    auto refused = email(emailKey_, "192.168.1.1");
    EXPECT_EQ(refused.status, 403);
    EXPECT_EQ(errorCodeOf(refused), "auth.ip_not_allowed");
    EXPECT_EQ(email(emailKey_, "10.9.8.7").status, 200);
    EXPECT_EQ(email(emailKey_, "2001:db8::5").status, 200);
}

TEST_F(SendApiTest, SenderDomains) {
    store::UserPolicy p;
    p.senderDomains = {"acme.io"};
    setPolicy(emailUserId_, p);
    auto refused = email(emailKey_, "127.0.0.1", "ceo@evil.io");
    EXPECT_EQ(refused.status, 403);
    EXPECT_EQ(errorCodeOf(refused), "auth.sender_not_allowed");
    EXPECT_EQ(email(emailKey_, "127.0.0.1", "News <news@ACME.io>").status, 200);
}

TEST_F(SendApiTest, RateLimitAnswers429WithRetryAfter) {
    store::UserPolicy p;
    p.rateLimitPerMinute = 3;
    setPolicy(emailUserId_, p);
    for (int i = 0; i < 3; ++i) ASSERT_EQ(email(emailKey_).status, 200) << i;
    auto limited = email(emailKey_);
    EXPECT_EQ(limited.status, 429);
    EXPECT_EQ(errorCodeOf(limited), "limit.rate_exceeded");
    EXPECT_EQ(headerOf(limited, "retry-after").value_or(""), "20");
    clock_.advance(std::chrono::seconds(20));
    EXPECT_EQ(email(emailKey_).status, 200);
}

TEST_F(SendApiTest, DailyQuotaNamesTheQuota) {
    store::UserPolicy p;
    p.dailyQuota = 2;
    setPolicy(emailUserId_, p);
    EXPECT_EQ(email(emailKey_).status, 200);
    EXPECT_EQ(email(emailKey_).status, 200);
    auto over = email(emailKey_);
    EXPECT_EQ(over.status, 429);
    EXPECT_EQ(errorCodeOf(over), "limit.daily_quota_exceeded");
    EXPECT_NE(json::parse(over.body)["hint"].get<std::string>().find("daily quota of 2"),
              std::string::npos);
    EXPECT_TRUE(headerOf(over, "retry-after"));
    clock_.advance(std::chrono::hours(24));
    EXPECT_EQ(email(emailKey_).status, 200);
}

TEST_F(SendApiTest, TestModeAnswersAsUsualAndRecordsTheFlag) {
    store::UserPolicy p;
    p.testMode = true;
    setPolicy(emailUserId_, p);
    auto r = email(emailKey_);
    ASSERT_EQ(r.status, 200);
    auto id = json::parse(r.body)["info"]["emailIdList"][0].get<std::string>();
    auto stored = backend_.messages().findRecipient(id).value();
    ASSERT_TRUE(stored);
    // Queued like any message; the scheduler's sandbox agent makes it 'sandbox' (never sent).
    EXPECT_EQ(stored->state, store::RecipientState::Queued);
    auto live = issuer_.createUser("acme_live", store::UserKind::Email, "owner@acme.io");
    auto lr = call(false, {{"apiUser", "acme_live"},
                           {"apiKey", live->key},
                           {"from", "a@acme.io"},
                           {"to", "b@x.io"},
                           {"subject", "s"},
                           {"plain", "p"}});
    auto liveId = json::parse(lr.body)["info"]["emailIdList"][0].get<std::string>();
    EXPECT_EQ(backend_.messages().findRecipient(liveId).value()->state,
              store::RecipientState::Queued);
}

TEST_F(SendApiTest, LockoutEngagesExpiresAndSparesTheRightKeyFromElsewhere) {
    for (int i = 0; i < 4; ++i)
        EXPECT_EQ(errorCodeOf(email("wrongkey" + std::to_string(i), "6.6.6.6")), "auth.failed");
    auto locked = email("wrongkey", "6.6.6.6");  // the 5th failure locks the name
    EXPECT_EQ(locked.status, 429);
    EXPECT_EQ(errorCodeOf(locked), "auth.too_many_failures");
    EXPECT_EQ(headerOf(locked, "retry-after").value_or(""), "300");
    EXPECT_EQ(errorCodeOf(email("wrongkey", "6.6.6.7")), "auth.too_many_failures");
    // The legitimate user, right key, another address: not slowed down.
    EXPECT_EQ(email(emailKey_, "10.0.0.1").status, 200);
    clock_.advance(std::chrono::minutes(5));
    EXPECT_EQ(errorCodeOf(email("wrongkey", "6.6.6.6")), "auth.failed");
}

TEST_F(SendApiTest, ALockedAddressIsRefusedEvenWithTheRightKey) {
    for (int i = 0; i < 10; ++i) {
        call(false, {{"apiUser", "user" + std::to_string(i) + "_x"}, {"apiKey", "k"}}, "6.6.6.6");
    }
    auto r = email(emailKey_, "6.6.6.6");
    EXPECT_EQ(r.status, 429);
    EXPECT_EQ(errorCodeOf(r), "auth.too_many_failures");
    EXPECT_EQ(email(emailKey_, "7.7.7.7").status, 200);
}

// Issue #11: unauthenticated requests grew auth_events at request rate, one row per User-Agent,
// and requests refused by the lockout were recorded too.
TEST_F(SendApiTest, FailuresWithVaryingUserAgentsTakeABoundedNumberOfRows) {
    for (int i = 0; i < 300; ++i) {
        http::Request req;
        req.method = http::Method::Get;
        req.path = "/email/send";
        req.query = "apiUser=nobody_x&apiKey=wrong" + std::to_string(i);
        req.target = req.path + "?" + req.query;
        req.clientIp = "6.6.6.6";
        req.headers.push_back({"user-agent", "probe/" + std::to_string(i)});
        std::promise<http::Response> done;
        auto fut = done.get_future();
        api_.sendEmail(
            req, http::Responder([&done](http::Response r) { done.set_value(std::move(r)); }));
        const int status = fut.get().status;
        ASSERT_TRUE(status == 401 || status == 429) << status;
        clock_.advance(std::chrono::milliseconds(50));
    }
    ASSERT_TRUE(recorder_.flush());
    store::AuthEventQuery q;
    q.accountId = 0;  // an unknown user's events belong to no account
    q.limit = 1000;
    auto events = backend_.audit().queryEvents(q);
    ASSERT_TRUE(events.ok());
    EXPECT_GE(events->size(), 1u);
    EXPECT_LE(events->size(), 5u);
    for (const auto& e : events.value()) {
        EXPECT_EQ(e.event.clientIp, "6.6.6.6");
        EXPECT_EQ(e.event.userAgent.rfind("probe/", 0), 0u) << e.event.userAgent;
    }
    // The address is still refused: the lockout holds whether or not it is written down.
    EXPECT_EQ(email(emailKey_, "6.6.6.6").status, 429);
}

TEST_F(SendApiTest, AuditAndUsageRecordFingerprintsNeverKeys) {
    EXPECT_EQ(email(emailKey_).status, 200);
    EXPECT_EQ(email("not-the-key").status, 401);
    EXPECT_EQ(sms(smsKey_).status, 200);
    ASSERT_TRUE(recorder_.flush());
    store::AuthEventQuery q;
    q.accountId = backend_.credentials().findUser("acme_api").value()->accountId;
    auto events = backend_.audit().queryEvents(q);
    ASSERT_TRUE(events.ok());
    ASSERT_EQ(events->size(), 3u);
    int successes = 0;
    for (const auto& e : events.value()) {
        if (e.event.outcome == store::AuthOutcome::Success) ++successes;
        EXPECT_EQ(e.event.clientIp, "127.0.0.1");
    }
    EXPECT_EQ(successes, 2);
    auto usage =
        backend_.audit().queryUsage(store::UsageQuery{q.accountId, "acme_api", 0, INT64_MAX});
    ASSERT_TRUE(usage.ok());
    ASSERT_EQ(usage->size(), 1u);
    EXPECT_EQ(usage.value()[0].requests, 2);
    EXPECT_EQ(usage.value()[0].recipients, 1);
    EXPECT_EQ(usage.value()[0].authFailures, 1);

    backend_.messages().stop();
    for (const char* file : {"/sendcloud.db", "/sendcloud.db-wal"}) {
        std::ifstream in(dir_ + file, std::ios::binary);
        std::stringstream bytes;
        bytes << in.rdbuf();
        EXPECT_EQ(bytes.str().find(emailKey_), std::string::npos) << file;
        EXPECT_EQ(bytes.str().find(smsKey_), std::string::npos) << file;
    }
}

std::vector<std::pair<std::string, std::string>> signedSms(const std::string& key,
                                                           int64_t timestampMs,
                                                           auth::SignatureAlgorithm alg) {
    std::vector<std::pair<std::string, std::string>> p = {
        {"smsUser", "acme_sms"},
        {"phone", "+14155550100"},
        {"msgType", "0"},
        {"message", "Your code is %code%"},
        {"vars", R"({"%code%":"1234"})"},
        {"timestamp", std::to_string(timestampMs)}};
    p.push_back({"signature", auth::computeSmsSignature(key, p, alg)});
    return p;
}

TEST_F(SendApiTest, SignedSmsWithMd5AndSha256) {
    for (auto alg : {auth::SignatureAlgorithm::Md5, auth::SignatureAlgorithm::Sha256}) {
        auto r = call(true, signedSms(smsKey_, clock_.nowMillis(), alg));
        ASSERT_EQ(r.status, 200) << r.body;
        auto id = json::parse(r.body)["info"]["smsIds"][0].get<std::string>();
        auto stored = backend_.messages().findRecipient(id).value();
        ASSERT_TRUE(stored);
        EXPECT_EQ(json::parse(stored->contentJson)["message"], "Your code is 1234");
    }
}

TEST_F(SendApiTest, SignedSmsUpperCaseHexAndSecondsTimestamp) {
    auto p = signedSms(smsKey_, clock_.nowMillis() / 1000 * 1000, auth::SignatureAlgorithm::Sha256);
    p.pop_back();
    p.back().second = std::to_string(clock_.nowMillis() / 1000);  // timestamp in seconds
    std::string sig = auth::computeSmsSignature(smsKey_, p, auth::SignatureAlgorithm::Sha256);
    for (auto& c : sig) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    p.push_back({"signature", sig});
    EXPECT_EQ(call(true, p).status, 200);
}

TEST_F(SendApiTest, WrongAndStaleSignaturesHaveTheirOwnCodes) {
    auto wrong =
        call(true, signedSms("not-the-key", clock_.nowMillis(), auth::SignatureAlgorithm::Md5));
    EXPECT_EQ(wrong.status, 401);
    EXPECT_EQ(errorCodeOf(wrong), "auth.signature_invalid");

    auto tampered = signedSms(smsKey_, clock_.nowMillis(), auth::SignatureAlgorithm::Sha256);
    tampered[1].second = "+447911123456";  // phone changed after signing
    EXPECT_EQ(errorCodeOf(call(true, tampered)), "auth.signature_invalid");

    // A request signed now and first sent at the 60 s window's edge, then after it.
    auto signedNow = signedSms(smsKey_, clock_.nowMillis(), auth::SignatureAlgorithm::Sha256);
    clock_.advance(std::chrono::seconds(60));
    EXPECT_EQ(call(true, signedNow).status, 200);  // the window's edge
    clock_.advance(std::chrono::milliseconds(1));
    auto replay = call(true, signedNow);
    EXPECT_EQ(replay.status, 401);
    EXPECT_EQ(errorCodeOf(replay), "auth.signature_stale");
    auto future = call(
        true, signedSms(smsKey_, clock_.nowMillis() + 61000, auth::SignatureAlgorithm::Sha256));
    EXPECT_EQ(errorCodeOf(future), "auth.signature_stale");
}

// Issue #11: the same signed request sent again inside the window queued the SMS again.
TEST_F(SendApiTest, ASignedRequestIsAcceptedOnce) {
    auto p = signedSms(smsKey_, clock_.nowMillis(), auth::SignatureAlgorithm::Sha256);
    ASSERT_EQ(call(true, p).status, 200);
    for (int i = 0; i < 4; ++i) {
        auto again = call(true, p);
        EXPECT_EQ(again.status, 401) << again.body;
        EXPECT_EQ(errorCodeOf(again), "auth.signature_replayed");
    }
    // The same signature in upper-case hex is the same signature.
    auto upper = p;
    for (auto& c : upper.back().second)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_EQ(errorCodeOf(call(true, upper)), "auth.signature_replayed");

    // Other signatures pass: the same parameters signed with MD5, and another timestamp.
    EXPECT_EQ(
        call(true, signedSms(smsKey_, clock_.nowMillis(), auth::SignatureAlgorithm::Md5)).status,
        200);
    EXPECT_EQ(
        call(true, signedSms(smsKey_, clock_.nowMillis() + 1, auth::SignatureAlgorithm::Sha256))
            .status,
        200);

    // After the window the timestamp refuses it, whatever the replay cache remembers.
    clock_.advance(std::chrono::seconds(61));
    EXPECT_EQ(errorCodeOf(call(true, p)), "auth.signature_stale");
    // A replay is not a guess: it does not count towards the lockout.
    EXPECT_FALSE(lockout_.ipLockedUntil("127.0.0.1"));
}

TEST_F(SendApiTest, SignedSmsWithAStoredTemplate) {
    store::SmsTemplate t;
    t.accountId = backend_.credentials().findUser("acme_sms").value()->accountId;
    t.name = "otp";
    t.text = "Code %code% for %app%";
    auto created = backend_.templates().createSmsTemplate(t);
    ASSERT_TRUE(created.ok());
    std::vector<std::pair<std::string, std::string>> p = {
        {"smsUser", "acme_sms"},
        {"to", "+14155550100"},
        {"templateId", std::to_string(created->id)},
        {"vars", R"({"%code%":"9876","%app%":"Acme"})"},
        {"timestamp", std::to_string(clock_.nowMillis())}};
    p.push_back(
        {"signature", auth::computeSmsSignature(smsKey_, p, auth::SignatureAlgorithm::Sha256)});
    auto r = call(true, p);
    ASSERT_EQ(r.status, 200) << r.body;
    auto id = json::parse(r.body)["info"]["smsIds"][0].get<std::string>();
    EXPECT_EQ(json::parse(backend_.messages().findRecipient(id).value()->contentJson)["message"],
              "Code 9876 for Acme");
    p[2].second = "999999";
    p.pop_back();
    p.push_back(
        {"signature", auth::computeSmsSignature(smsKey_, p, auth::SignatureAlgorithm::Sha256)});
    EXPECT_EQ(errorCodeOf(call(true, p)), "sms.template_not_found");
}

TEST_F(SendApiTest, SendRequestIdIsProcessedOnceWithinTheHour) {
    auto send = [&](const std::string& rid) {
        return call(false, {{"apiUser", "acme_api"},
                            {"apiKey", emailKey_},
                            {"from", "a@acme.io"},
                            {"to", "b@x.io"},
                            {"subject", "s"},
                            {"plain", "p"},
                            {"sendRequestId", rid}});
    };
    auto first = send("order-42");
    ASSERT_EQ(first.status, 200);
    auto again = send("order-42");
    ASSERT_EQ(again.status, 200);
    EXPECT_EQ(json::parse(again.body)["info"], json::parse(first.body)["info"]);
    auto other = send("order-43");
    EXPECT_NE(json::parse(other.body)["info"], json::parse(first.body)["info"]);
    clock_.advance(std::chrono::hours(1) + std::chrono::milliseconds(1));
    auto later = send("order-42");
    EXPECT_NE(json::parse(later.body)["info"], json::parse(first.body)["info"]);
    EXPECT_EQ(errorCodeOf(send(std::string(129, 'x'))), "param.send_request_id_invalid");
}

// Issue #11: the limit counted UTF-8 lead bytes and took any bytes, so 200,000 continuation
// bytes were stored as one id. It is 128 bytes of valid UTF-8.
TEST_F(SendApiTest, SendRequestIdIsAtMost128BytesOfValidUtf8) {
    auto send = [&](const std::string& rid) {
        return call(false, {{"apiUser", "acme_api"},
                            {"apiKey", emailKey_},
                            {"from", "a@acme.io"},
                            {"to", "b@x.io"},
                            {"subject", "s"},
                            {"plain", "p"},
                            {"sendRequestId", rid}});
    };
    std::string e64;  // 64 x U+00E9: 64 characters, 128 bytes
    for (int i = 0; i < 64; ++i) e64 += "\xC3\xA9";
    EXPECT_EQ(send(e64).status, 200);
    EXPECT_EQ(errorCodeOf(send(e64 + "\xC3\xA9")), "param.send_request_id_invalid");  // 65 chars
    EXPECT_EQ(errorCodeOf(send(std::string(200'000, '\x80'))), "param.send_request_id_invalid");
    EXPECT_EQ(errorCodeOf(send("order-\x80")), "param.send_request_id_invalid");
    EXPECT_EQ(errorCodeOf(send("order-\xC3")), "param.send_request_id_invalid");
}

TEST_F(SendApiTest, XsmtpapiGivesEachRecipientItsOwnContent) {
    auto r =
        call(false, {{"apiUser", "acme_api"},
                     {"apiKey", emailKey_},
                     {"from", "a@acme.io"},
                     {"to", "ignored@x.io"},
                     {"subject", "Hi %name%"},
                     {"html", "<p>%name%, %offer%</p>"},
                     {"xsmtpapi", R"({"to":["ann@x.io","bob@x.io"],"sub":{"%name%":["Ann","Bob"]},
                                           "pubsub":{"%offer%":"10% off"}})"}});
    ASSERT_EQ(r.status, 200) << r.body;
    auto ids = json::parse(r.body)["info"]["emailIdList"];
    ASSERT_EQ(ids.size(), 2u);
    auto ann = json::parse(
        backend_.messages().findRecipient(ids[0].get<std::string>()).value()->contentJson);
    auto bob = json::parse(
        backend_.messages().findRecipient(ids[1].get<std::string>()).value()->contentJson);
    EXPECT_EQ(ann["subject"], "Hi Ann");
    EXPECT_EQ(bob["subject"], "Hi Bob");
    EXPECT_EQ(bob["html"], "<p>Bob, 10% off</p>");
    EXPECT_EQ(backend_.messages().findRecipient(ids[1].get<std::string>()).value()->address,
              "bob@x.io");
}

TEST_F(SendApiTest, XsmtpapiCannotInjectHeaders) {
    auto r = call(false,
                  {{"apiUser", "acme_api"},
                   {"apiKey", emailKey_},
                   {"from", "a@acme.io"},
                   {"subject", "Hi %name%"},
                   {"plain", "x"},
                   {"xsmtpapi", R"({"to":["ann@x.io"],"sub":{"%name%":["Ann\r\nBcc: e@x.io"]}})"}});
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(errorCodeOf(r), "email.xsmtpapi_invalid");
}

// Found by an attack on the running server: substitution ran after the size checks, and a 120 KB
// html with a 1 KB value per placeholder for 40 recipients stored a 40 MB message.
TEST_F(SendApiTest, XsmtpapiSubstitutionCannotGrowTheContentPastItsLimit) {
    std::string html;
    for (int i = 0; i < 40000; ++i) html += "%v%";  // 120 KB
    std::string to, values;
    for (int i = 0; i < 40; ++i) {
        to += std::string(i ? "," : "") + "\"r" + std::to_string(i) + "@x.io\"";
        values += std::string(i ? "," : "") + "\"" + std::string(1024, 'x') + "\"";
    }
    auto r =
        call(false, {{"apiUser", "acme_api"},
                     {"apiKey", emailKey_},
                     {"from", "a@acme.io"},
                     {"subject", "Hi"},
                     {"html", html},
                     {"xsmtpapi", "{\"to\":[" + to + "],\"sub\":{\"%v%\":[" + values + "]}}"}});
    EXPECT_EQ(r.status, 413) << r.body;
    EXPECT_EQ(errorCodeOf(r), "email.content_too_large");
    const int64_t account = backend_.credentials().findUser("acme_api").value()->accountId;
    EXPECT_TRUE(backend_.messages().recentMessages(account, 10).value().empty());
}

TEST_F(SendApiTest, TemplateSendUsesTheTemplatesSubjectWhenAbsent) {
    store::EmailTemplate t;
    t.accountId = backend_.credentials().findUser("acme_api").value()->accountId;
    t.invokeName = "welcome";
    t.name = "Welcome";
    t.subject = "Welcome, %name%";
    t.html = "<h1>Hello %name%</h1>";
    ASSERT_TRUE(backend_.templates().createEmailTemplate(t).ok());
    // No subject and no to: both come from the template and xsmtpapi.to.
    const std::vector<std::pair<std::string, std::string>> params = {
        {"apiUser", "acme_api"},
        {"apiKey", emailKey_},
        {"from", "a@acme.io"},
        {"templateInvokeName", "welcome"},
        {"xsmtpapi", R"({"to":["ann@x.io"],"sub":{"%name%":["Ann"]}})"}};
    http::Request req;
    req.method = http::Method::Get;
    req.path = "/email/sendtemplate";
    for (auto& [k, v] : params) {
        if (!req.query.empty()) req.query += "&";
        req.query += urlEncode(k) + "=" + urlEncode(v);
    }
    req.clientIp = "127.0.0.1";
    std::promise<http::Response> done;
    auto fut = done.get_future();
    api_.sendEmail(SendRoute{Endpoint::EmailTemplateSend, ResponseShape::V1}, req,
                   http::Responder([&done](http::Response r) { done.set_value(std::move(r)); }));
    auto r = fut.get();
    ASSERT_EQ(r.status, 200) << r.body;
    auto body = json::parse(r.body);
    EXPECT_EQ(body["message"], "success");  // the v1 shape
    auto id = body["email_id_list"][0].get<std::string>();
    auto content = json::parse(backend_.messages().findRecipient(id).value()->contentJson);
    EXPECT_EQ(content["subject"], "Welcome, Ann");
    EXPECT_EQ(content["html"], "<h1>Hello Ann</h1>");
}

TEST_F(SendApiTest, SmsTemplateVarsByBareNameAndUnfilledPlaceholders) {
    store::SmsTemplate t;
    t.accountId = backend_.credentials().findUser("acme_sms").value()->accountId;
    t.text = "Code %code%";
    auto created = backend_.templates().createSmsTemplate(t);
    ASSERT_TRUE(created.ok());
    auto send = [&](const std::string& vars) {
        return call(true, {{"smsUser", "acme_sms"},
                           {"smsKey", smsKey_},
                           {"to", "+14155550100"},
                           {"templateId", std::to_string(created->id)},
                           {"vars", vars}});
    };
    auto bare = send(R"({"code":"99"})");
    ASSERT_EQ(bare.status, 200) << bare.body;
    auto id = json::parse(bare.body)["info"]["smsIds"][0].get<std::string>();
    EXPECT_EQ(json::parse(backend_.messages().findRecipient(id).value()->contentJson)["message"],
              "Code 99");
    auto missing = send(R"({"other":"1"})");
    EXPECT_EQ(errorCodeOf(missing), "sms.vars_invalid");
    EXPECT_NE(json::parse(missing.body)["hint"].get<std::string>().find("%code%"),
              std::string::npos);
}

// A 3 KB message with a 100 KB value for each placeholder built a 100-million-character string
// before the 1,000-character check; it is refused while it builds.
TEST_F(SendApiTest, SmsVarsCannotBuildAMessagePastItsLimit) {
    std::string message;
    for (int i = 0; i < 1000; ++i) message += "%v%";
    auto r = call(true, {{"smsUser", "acme_sms"},
                         {"smsKey", smsKey_},
                         {"to", "+14155550100"},
                         {"message", message},
                         {"vars", "{\"%v%\":\"" + std::string(100000, 'y') + "\"}"}});
    EXPECT_EQ(r.status, 413) << r.body;
    EXPECT_EQ(errorCodeOf(r), "sms.message_too_long");
}

// The answers and the stored content are written as text now (api/json_text.h); they must be
// the bytes the nlohmann values gave.
TEST_F(SendApiTest, SuccessAnswersAndStoredContentAreTheBytesNlohmannWrote) {
    auto r = call(false, {{"apiUser", "acme_api"},
                          {"apiKey", emailKey_},
                          {"from", "News \"Desk\" <news@acme.io>"},
                          {"to", "ann@x.io;Bob <bob@x.io>"},
                          {"cc", "c@x.io"},
                          {"subject", "Hi \"there\" \xe2\x82\xac"},
                          {"html", "<p>a\\b</p>\n"},
                          {"plain", "tab\there"},
                          {"headers", R"({"X-Campaign":"spring"})"}});
    ASSERT_EQ(r.status, 200) << r.body;
    auto ids = json::parse(r.body)["info"]["emailIdList"];
    ASSERT_EQ(ids.size(), 3u);
    EXPECT_EQ(r.body, successResponse(json{{"emailIdList", ids}}).body);
    http::FormData form;
    form.params.add("from", "News \"Desk\" <news@acme.io>");
    form.params.add("to", "ann@x.io;Bob <bob@x.io>");
    form.params.add("cc", "c@x.io");
    form.params.add("subject", "Hi \"there\" \xe2\x82\xac");
    form.params.add("html", "<p>a\\b</p>\n");
    form.params.add("plain", "tab\there");
    form.params.add("headers", R"({"X-Campaign":"spring"})");
    auto expected = validateEmail(form, {});
    ASSERT_TRUE(expected.ok());
    EXPECT_EQ(backend_.messages().findRecipient(ids[1].get<std::string>()).value()->contentJson,
              expected->contentJson().dump(-1, ' ', false, json::error_handler_t::replace));

    auto s = sms(smsKey_);
    ASSERT_EQ(s.status, 200) << s.body;
    auto smsIds = json::parse(s.body)["info"]["smsIds"];
    EXPECT_EQ(s.body,
              successResponse(json{{"successCount", 1}, {"smsIds", smsIds}, {"segments", 1}}).body);
    EXPECT_EQ(backend_.messages().findRecipient(smsIds[0].get<std::string>()).value()->contentJson,
              json({{"message", "Hi"}, {"segments", 1}, {"encoding", "gsm7"}}).dump());

    http::Request req;
    req.method = http::Method::Get;
    req.path = "/webapi/mail.send.json";
    req.query = "api_user=acme_api&api_key=" + urlEncode(emailKey_) +
                "&from=a%40acme.io&to=b%40x.io&subject=s&plain=p&resp_email_id=false";
    req.clientIp = "127.0.0.1";
    std::promise<http::Response> done;
    auto fut = done.get_future();
    api_.sendEmail(SendRoute{Endpoint::EmailSend, ResponseShape::V1}, req,
                   http::Responder([&done](http::Response r) { done.set_value(std::move(r)); }));
    EXPECT_EQ(fut.get().body, R"({"message":"success"})");
}

// Usage is counted before the enqueue (off the store's writer thread); a refused enqueue takes
// the recipients back.
TEST_F(SendApiTest, AFailedEnqueueCountsARequestButNoRecipients) {
    ASSERT_EQ(email(emailKey_).status, 200);
    backend_.messages().stop();  // refuses new work from here on
    auto refused = email(emailKey_);
    EXPECT_EQ(refused.status, 503);
    EXPECT_EQ(errorCodeOf(refused), "store.unavailable");
    ASSERT_TRUE(recorder_.flush());
    const int64_t account = backend_.credentials().findUser("acme_api").value()->accountId;
    auto usage = backend_.audit().queryUsage(store::UsageQuery{account, "acme_api", 0, INT64_MAX});
    ASSERT_TRUE(usage.ok());
    ASSERT_EQ(usage->size(), 1u);
    EXPECT_EQ(usage.value()[0].requests, 2);
    EXPECT_EQ(usage.value()[0].recipients, 1);
}

TEST_F(SendApiTest, AnEmptySignatureDoesNotTurnAPlainRequestIntoASignedOne) {
    auto r = call(true, {{"smsUser", "acme_sms"},
                         {"smsKey", smsKey_},
                         {"to", "+14155550100"},
                         {"message", "hi"},
                         {"signature", ""}});
    EXPECT_EQ(r.status, 200) << r.body;
}

}  // namespace
}  // namespace sc::api
