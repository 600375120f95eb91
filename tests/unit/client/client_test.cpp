// libsendcloud's pure parts and its retry loop, on a scripted Transport and hooks that move a
// fake clock instead of sleeping.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <deque>
#include <fstream>

#include "sendcloud/sendcloud.h"

namespace {

using namespace std::chrono_literals;
using sendcloud::HttpRequest;
using sendcloud::HttpResponse;

HttpResponse answer(int status, std::string body, std::string retryAfter = "",
                    std::string sunset = "") {
    HttpResponse r;
    r.connected = true;
    r.status = status;
    r.body = std::move(body);
    r.retryAfter = std::move(retryAfter);
    r.sunset = std::move(sunset);
    return r;
}

HttpResponse noAnswer() {
    HttpResponse r;
    r.error = "Empty reply from server";
    return r;
}

const std::string kOk =
    R"({"result":true,"statusCode":200,"message":"ok","info":{"emailIdList":["1$a@example.com"]}})";

std::string errorBody(int status, const std::string& code) {
    return R"({"result":false,"statusCode":)" + std::to_string(status) + R"(,"errorCode":")" +
           code + R"(","hint":"the hint"})";
}

// A scripted server, a fake clock and a log of every request.
struct Rig {
    std::deque<HttpResponse> script;
    std::vector<HttpRequest> requests;
    std::chrono::steady_clock::time_point now{};
    std::vector<std::chrono::milliseconds> sleeps;
    std::vector<std::string> credentialKeys{"KeyOne"};
    int credentialReads = 0;
    std::vector<std::string> warnings;

    sendcloud::ClientOptions options() {
        sendcloud::ClientOptions o;
        o.transport = [this](const HttpRequest& r) {
            requests.push_back(r);
            HttpResponse res = script.front();
            script.pop_front();
            return res;
        };
        o.hooks.now = [this] { return now; };
        o.hooks.sleep = [this](std::chrono::milliseconds d) {
            sleeps.push_back(d);
            now += d;
        };
        o.hooks.random01 = [] { return 0.5; };
        o.hooks.newRequestId = [] { return std::string("rid-1"); };
        o.credentials = [this] {
            size_t i = std::min<size_t>(credentialReads++, credentialKeys.size() - 1);
            return sendcloud::Credentials{"mail_user_one", credentialKeys[i]};
        };
        o.warn = [this](const std::string& w) { warnings.push_back(w); };
        return o;
    }

    std::string param(size_t request, const std::string& name) const {
        for (const auto& p : requests.at(request).params) {
            if (p.name == name) return p.value;
        }
        return "<none>";
    }
};

sendcloud::EmailRequest simpleEmail() {
    sendcloud::EmailRequest e;
    e.from = "news@example.com";
    e.to = {"alice@example.com"};
    e.subject = "Hi";
    e.plain = "Hello";
    return e;
}

TEST(Backoff, FullJitterIsBoundedByTheExponentialCeilingAndTheCap) {
    sendcloud::RetryPolicy p;
    p.baseDelay = 100ms;
    p.maxDelay = 1000ms;
    EXPECT_EQ(sendcloud::backoffDelay(p, 0, 0.999, 0ms), 99ms);
    EXPECT_EQ(sendcloud::backoffDelay(p, 3, 0.5, 0ms), 400ms);
    EXPECT_EQ(sendcloud::backoffDelay(p, 10, 0.5, 0ms), 500ms);  // capped at 1000
    EXPECT_EQ(sendcloud::backoffDelay(p, 2, 0.0, 0ms), 0ms);
    EXPECT_EQ(sendcloud::backoffDelay(p, 0, 0.1, 3000ms), 3000ms);  // Retry-After wins
}

TEST(RetryAfter, SecondsOnly) {
    EXPECT_EQ(sendcloud::parseRetryAfter("3"), std::optional(3000ms));
    EXPECT_FALSE(sendcloud::parseRetryAfter(""));
    EXPECT_FALSE(sendcloud::parseRetryAfter("-1"));
    EXPECT_FALSE(sendcloud::parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT"));
}

TEST(RetryableStatus, OnlyRateLimitsAndServerErrors) {
    for (int s : {429, 500, 502, 503}) EXPECT_TRUE(sendcloud::retryableStatus(s)) << s;
    for (int s : {400, 401, 403, 404, 413}) EXPECT_FALSE(sendcloud::retryableStatus(s)) << s;
}

TEST(SmsSignature, MatchesTheWorkedExampleOfTheApiDocs) {
    std::vector<std::pair<std::string, std::string>> params{{"smsUser", "smsu"},
                                                            {"msgType", "0"},
                                                            {"phone", "+6512345678"},
                                                            {"templateId", "7"},
                                                            {"timestamp", "1795827100296"},
                                                            {"vars", R"({"%code%": "1234"})"},
                                                            {"smsKey", "ignored"}};
    EXPECT_EQ(sendcloud::smsSignature("smskey", params, sendcloud::SignatureAlgorithm::Sha256),
              "35d81d964da1b3581eddf1878f4db79c474c9398a11650cb9b2e940d30cdbcf3");
    EXPECT_EQ(sendcloud::smsSignature("smskey", params, sendcloud::SignatureAlgorithm::Md5),
              "35ce01fe2ad0937f55a7acc6f50b7732");
}

TEST(Hex, LowerCaseTwoDigitsAByteAndSha256OfTheStandardVector) {
    const unsigned char bytes[] = {0x00, 0x0f, 0xa5, 0xff};
    EXPECT_EQ(sendcloud::hexOf(bytes, sizeof bytes), "000fa5ff");
    EXPECT_EQ(sendcloud::hexOf(bytes, 0), "");
    // FIPS 180-2's example "abc".
    EXPECT_EQ(sendcloud::sha256Hex("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Masking, KeysAndSignaturesAreStars) {
    std::string m = sendcloud::maskedParams({{"apiUser", "u1", "", ""},
                                             {"apiKey", "SECRETKEY", "", ""},
                                             {"signature", "abc", "", ""},
                                             {"to", "a@example.com", "", ""}});
    EXPECT_EQ(m, "apiUser=u1&apiKey=***&signature=***&to=a@example.com");
}

TEST(CredentialsText, ParsesKeyValueLinesAndRefusesOthersWithoutEchoingThem) {
    auto v = sendcloud::parseCredentialsText(
        "# comment\nEMAIL_API_USER=mail_user\nexport EMAIL_API_KEY=\"abc\"\n\n");
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(v[1], (std::pair<std::string, std::string>{"EMAIL_API_KEY", "abc"}));
    try {
        sendcloud::parseCredentialsText("EMAIL_API_USER=x\nTOPSECRETVALUE\n");
        FAIL();
    } catch (const sendcloud::Error& e) {
        EXPECT_EQ(std::string(e.what()).find("TOPSECRET"), std::string::npos);
        EXPECT_NE(e.hint().find("line 2"), std::string::npos);
    }
}

TEST(CredentialsFile, GroupOrWorldReadableIsRefused) {
    char dir[] = "/tmp/sc-client-test-XXXXXX";
    ASSERT_TRUE(::mkdtemp(dir));
    std::string path = std::string(dir) + "/credentials";
    std::ofstream(path) << "EMAIL_API_USER=mail_user_one\nEMAIL_API_KEY=KeyOne\n";
    ::chmod(path.c_str(), 0644);
    auto source = sendcloud::credentialsFromFile(path, sendcloud::Api::Email);
    try {
        source();
        FAIL();
    } catch (const sendcloud::Error& e) {
        EXPECT_EQ(e.errorCode(), "client.credentials");
        EXPECT_NE(e.hint().find("too open"), std::string::npos);
        EXPECT_EQ(e.hint().find("KeyOne"), std::string::npos);
    }
    ::chmod(path.c_str(), 0600);
    EXPECT_EQ(source().key, "KeyOne");
    ::unlink(path.c_str());
    ::rmdir(dir);
}

TEST(Retries, A503ThenSuccessReusesTheSendRequestId) {
    Rig rig;
    rig.script = {answer(503, errorBody(503, "store.unavailable"), "1"), answer(200, kOk)};
    sendcloud::EmailClient client(rig.options());
    auto r = client.send(simpleEmail());
    EXPECT_EQ(r.attempts, 2);
    EXPECT_EQ(r.emailIds, std::vector<std::string>{"1$a@example.com"});
    ASSERT_EQ(rig.requests.size(), 2u);
    EXPECT_EQ(rig.param(0, "sendRequestId"), "rid-1");
    EXPECT_EQ(rig.param(1, "sendRequestId"), "rid-1");
    ASSERT_EQ(rig.sleeps.size(), 1u);
    EXPECT_GE(rig.sleeps[0], 1000ms);  // Retry-After: 1
}

TEST(Retries, ConnectionErrorsAreRetriedUntilTheAttemptsRunOut) {
    Rig rig;
    auto o = rig.options();
    o.retry.maxAttempts = 3;
    rig.script = {noAnswer(), noAnswer(), noAnswer()};
    sendcloud::EmailClient client(o);
    try {
        client.send(simpleEmail());
        FAIL();
    } catch (const sendcloud::Error& e) {
        EXPECT_EQ(e.errorCode(), "client.connection");
        EXPECT_TRUE(e.retryable());
        EXPECT_EQ(e.attempts(), 3);
    }
    EXPECT_EQ(rig.requests.size(), 3u);
    EXPECT_EQ(rig.sleeps.size(), 2u);
}

TEST(Retries, TotalTimeBoundsTheLoop) {
    Rig rig;
    auto o = rig.options();
    o.retry.maxTotal = 5000ms;
    rig.script = {answer(429, errorBody(429, "limit.rate_exceeded"), "3"),
                  answer(429, errorBody(429, "limit.rate_exceeded"), "3")};
    sendcloud::EmailClient client(o);
    EXPECT_THROW(client.send(simpleEmail()), sendcloud::Error);
    EXPECT_EQ(rig.requests.size(), 2u);  // a third would start after 6 s
}

TEST(Retries, NeverOnRefusals) {
    for (auto [status, code] :
         {std::pair{400, "email.from_missing"}, std::pair{403, "auth.user_disabled"},
          std::pair{413, "email.content_too_large"}}) {
        Rig rig;
        rig.script = {answer(status, errorBody(status, code))};
        sendcloud::EmailClient client(rig.options());
        try {
            client.send(simpleEmail());
            FAIL();
        } catch (const sendcloud::Error& e) {
            EXPECT_EQ(e.httpStatus(), status);
            EXPECT_EQ(e.errorCode(), code);
            EXPECT_EQ(e.hint(), "the hint");
            EXPECT_FALSE(e.retryable());
        }
        EXPECT_EQ(rig.requests.size(), 1u);
    }
}

TEST(Rotation, A401RereadsTheSourceOnceAndRetriesWithTheNewKey) {
    Rig rig;
    rig.credentialKeys = {"KeyOne", "KeyTwo"};
    rig.script = {answer(401, errorBody(401, "auth.key_expired")), answer(200, kOk)};
    sendcloud::EmailClient client(rig.options());
    auto r = client.send(simpleEmail());
    EXPECT_EQ(r.attempts, 2);
    EXPECT_EQ(rig.param(0, "apiKey"), "KeyOne");
    EXPECT_EQ(rig.param(1, "apiKey"), "KeyTwo");
    EXPECT_TRUE(rig.sleeps.empty());
}

TEST(Rotation, AnUnchangedKeyAfterA401ReportsTheServersHint) {
    Rig rig;
    rig.script = {answer(401, errorBody(401, "auth.failed"))};
    sendcloud::EmailClient client(rig.options());
    try {
        client.send(simpleEmail());
        FAIL();
    } catch (const sendcloud::Error& e) {
        EXPECT_EQ(e.errorCode(), "auth.failed");
        EXPECT_EQ(e.hint(), "the hint");
    }
    EXPECT_EQ(rig.requests.size(), 1u);
    EXPECT_EQ(rig.credentialReads, 2);
}

TEST(Sunset, OneWarningPerProcessWithTheDate) {
    Rig rig;
    const std::string date = "Sat, 05 Dec 2026 03:00:00 GMT";
    rig.script = {answer(200, kOk, "", date), answer(200, kOk, "", date)};
    sendcloud::EmailClient client(rig.options());
    client.send(simpleEmail());
    client.send(simpleEmail());
    ASSERT_EQ(rig.warnings.size(), 1u);
    EXPECT_NE(rig.warnings[0].find(date), std::string::npos);
}

TEST(SignedSms, SendsASignatureAndNoKey) {
    Rig rig;
    auto o = rig.options();
    o.hooks.unixMillis = [] { return int64_t{1795827100296}; };
    rig.script = {
        answer(200, R"({"result":true,"info":{"smsIds":["x"],"successCount":1,"segments":1}})")};
    sendcloud::SmsClient client(o);
    client.signRequests(sendcloud::SignatureAlgorithm::Sha256);
    sendcloud::SmsRequest s;
    s.to = {"+14155550100"};
    s.message = "Hello";
    auto r = client.send(s);
    EXPECT_EQ(r.successCount, 1);
    EXPECT_EQ(rig.param(0, "smsKey"), "<none>");
    EXPECT_EQ(rig.param(0, "timestamp"), "1795827100296");
    std::vector<std::pair<std::string, std::string>> signedParams;
    for (const auto& p : rig.requests[0].params) {
        if (p.name != "signature") signedParams.emplace_back(p.name, p.value);
    }
    EXPECT_EQ(
        rig.param(0, "signature"),
        sendcloud::smsSignature("KeyOne", signedParams, sendcloud::SignatureAlgorithm::Sha256));
}

}  // namespace
