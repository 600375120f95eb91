// Google Benchmark micro-suite for the pieces every send request goes through: parameter
// parsing (urlencoded and multipart), key verification (HMAC + constant-time compare, and the
// whole CredentialVerifier against an in-memory store), JSON envelope building and phone number
// validation on the SMS path. Run with
// `build/bench/bench/sc_micro_bench` (bench/run.sh runs it with a short min time).
#include <benchmark/benchmark.h>
#include <phonenumbers/phonenumberutil.h>
#include <sodium.h>

#include <array>
#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "api/api_error.h"
#include "auth/credential_issuer.h"
#include "auth/credential_verifier.h"
#include "auth/key_material.h"
#include "auth/server_secret.h"
#include "domain/phone_number.h"
#include "fakes/fake_clock.h"
#include "fakes/fixed_random.h"
#include "fakes/memory_credential_store.h"
#include "http/request_params.h"

namespace {

using namespace sc;

// What wrk sends to /email/send in bench/run.sh, with `n` recipients.
std::string emailForm(int recipients) {
    std::string to;
    for (int i = 0; i < recipients; ++i) {
        if (i) to += "%3B";
        to += "rcpt" + std::to_string(i) + "%40example.com";
    }
    return "apiUser=bench_api&apiKey=AbCdEfGhIjKlMnOpQrStUvWxYz012345&from=sender%40bench.example"
           "&to=" +
           to + "&subject=Benchmark+message&html=%3Cp%3EHello+from+the+benchmark%3C%2Fp%3E";
}

void BM_ParseUrlEncoded(benchmark::State& state) {
    const std::string body = emailForm(static_cast<int>(state.range(0)));
    const http::ParseLimits limits;
    for (auto _ : state) {
        http::ParamMap out;
        auto r = http::parseUrlEncoded(body, limits, out);
        benchmark::DoNotOptimize(r);
        benchmark::DoNotOptimize(out);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_ParseUrlEncoded)->Arg(1)->Arg(10)->Arg(100);

void BM_ParseRequestParamsForm(benchmark::State& state) {
    http::Request req;
    req.method = http::Method::Post;
    req.path = "/email/send";
    req.target = req.path;
    req.headers = {{"host", "127.0.0.1"},
                   {"content-type", "application/x-www-form-urlencoded"},
                   {"content-length", "0"}};
    req.body = emailForm(1);
    const http::ParseLimits limits;
    for (auto _ : state) {
        auto r = http::parseRequestParams(req, limits);
        benchmark::DoNotOptimize(r);
    }
}
BENCHMARK(BM_ParseRequestParamsForm);

void BM_ParseRequestParamsQuery(benchmark::State& state) {
    http::Request req;
    req.method = http::Method::Get;
    req.path = "/smsapi/send";
    req.query =
        "smsUser=bench_sms&smsKey=AbCdEfGhIjKlMnOpQrStUvWxYz012345&to=%2B14155550100&message="
        "Hello+from+the+benchmark";
    req.target = req.path + "?" + req.query;
    req.headers = {{"host", "127.0.0.1"}};
    const http::ParseLimits limits;
    for (auto _ : state) {
        auto r = http::parseRequestParams(req, limits);
        benchmark::DoNotOptimize(r);
    }
}
BENCHMARK(BM_ParseRequestParamsQuery);

std::string multipartBody(std::string_view boundary, size_t fileBytes) {
    auto field = [&](std::string_view name, std::string_view value) {
        return "--" + std::string(boundary) + "\r\nContent-Disposition: form-data; name=\"" +
               std::string(name) + "\"\r\n\r\n" + std::string(value) + "\r\n";
    };
    std::string body =
        field("apiUser", "bench_api") + field("apiKey", "AbCdEfGhIjKlMnOpQrStUvWxYz012345") +
        field("from", "sender@bench.example") + field("to", "rcpt@example.com") +
        field("subject", "Benchmark message") + field("html", "<p>Hello from the benchmark</p>");
    if (fileBytes > 0) {
        body += "--" + std::string(boundary) +
                "\r\nContent-Disposition: form-data; name=\"attachments\"; "
                "filename=\"report.pdf\"\r\nContent-Type: application/pdf\r\n\r\n" +
                std::string(fileBytes, 'x') + "\r\n";
    }
    body += "--" + std::string(boundary) + "--\r\n";
    return body;
}

void BM_ParseMultipart(benchmark::State& state) {
    constexpr std::string_view kBoundary = "----benchBoundary7MA4YWxkTrZu0gW";
    const std::string body = multipartBody(kBoundary, static_cast<size_t>(state.range(0)));
    const http::ParseLimits limits;
    for (auto _ : state) {
        http::FormData out;
        auto r = http::parseMultipart(body, kBoundary, limits, out);
        benchmark::DoNotOptimize(r);
        benchmark::DoNotOptimize(out);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_ParseMultipart)->Arg(0)->Arg(64 << 10)->Arg(1 << 20);

auth::ServerSecret benchSecret() {
    std::array<uint8_t, auth::ServerSecret::kBytes> bytes{};
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 7 + 1);
    return auth::ServerSecret::fromBytes(bytes);
}

void BM_KeyHash(benchmark::State& state) {
    const auth::ServerSecret secret = benchSecret();
    const auth::KeyMaterial keys(secret);
    const std::string key = "AbCdEfGhIjKlMnOpQrStUvWxYz012345";
    for (auto _ : state) benchmark::DoNotOptimize(keys.hash(key));
}
BENCHMARK(BM_KeyHash);

void BM_HashesEqual(benchmark::State& state) {
    const auth::ServerSecret secret = benchSecret();
    const auth::KeyMaterial keys(secret);
    const std::string a = keys.hash("AbCdEfGhIjKlMnOpQrStUvWxYz012345");
    const std::string b = keys.hash("AbCdEfGhIjKlMnOpQrStUvWxYz012346");
    for (auto _ : state) benchmark::DoNotOptimize(auth::KeyMaterial::hashesEqual(a, b));
}
BENCHMARK(BM_HashesEqual);

// CredentialVerifier::verify against the in-memory store: arg 0 = the right key, 1 = a wrong
// key (the 401 path), 2 = an unknown user.
void BM_Verify(benchmark::State& state) {
    testing::FakeClock clock;
    testing::FixedRandom random;
    testing::MemoryCredentialStore store;
    const auth::ServerSecret secret = benchSecret();
    const auth::KeyMaterial keys(secret);
    auth::CredentialIssuer issuer(store, keys, random, clock, std::chrono::minutes(15));
    auth::CredentialVerifier verifier(store, keys, clock);
    if (!issuer.createAccount("owner@bench.example").ok()) {
        state.SkipWithError("createAccount failed");
        return;
    }
    auto user = issuer.createUser("bench_api", store::UserKind::Email, "owner@bench.example");
    if (!user.ok()) {
        state.SkipWithError("createUser failed");
        return;
    }
    http::ParamMap params;
    params.add("apiUser", state.range(0) == 2 ? "nobody_here" : "bench_api");
    params.add("apiKey",
               state.range(0) == 0 ? user->key : std::string("AbCdEfGhIjKlMnOpQrStUvWxYz012345"));
    http::Request req;
    req.headers = {{"host", "127.0.0.1"}, {"user-agent", "wrk"}};
    bool expectOk = state.range(0) == 0;
    for (auto _ : state) {
        auto r = verifier.verify(auth::Api::Email, params, req);
        if (r.ok() != expectOk) {
            state.SkipWithError("unexpected verify outcome");
            break;
        }
        benchmark::DoNotOptimize(r);
    }
}
BENCHMARK(BM_Verify)->Arg(0)->Arg(1)->Arg(2)->ArgName("case(0=ok,1=wrongkey,2=nouser)");

void BM_SuccessResponse(benchmark::State& state) {
    const int n = static_cast<int>(state.range(0));
    for (auto _ : state) {
        nlohmann::json ids = nlohmann::json::array();
        for (int i = 0; i < n; ++i) {
            ids.push_back("1764294000000_12345_" + std::to_string(i) + "_abcdef01$rcpt" +
                          std::to_string(i) + "@example.com");
        }
        auto r = api::successResponse({{"emailIdList", std::move(ids)}});
        benchmark::DoNotOptimize(r);
    }
}
BENCHMARK(BM_SuccessResponse)->Arg(1)->Arg(10)->Arg(100);

void BM_ErrorResponse(benchmark::State& state) {
    const api::ApiError error{401,
                              "auth.failed",
                              "check apiUser and apiKey; the Email API takes an API_USER and its "
                              "API_KEY, not an SMS_USER",
                              {}};
    for (auto _ : state) {
        auto r = api::errorResponse(error);
        benchmark::DoNotOptimize(r);
    }
}
BENCHMARK(BM_ErrorResponse);

// What one SMS recipient costs. 0: strict E.164, what API clients send (the fast path), the
// number bench/run.sh sends; 1: a national prefix behind the calling code (+44 0...), which
// needs Parse; 2: E.164 that parses but is invalid (the hint names the reason and an example
// number); 3: as 0, but what normalize() did before the fast path (Parse + Format +
// IsValidNumber), for comparison.
void BM_NormalizePhone(benchmark::State& state) {
    const domain::PhoneNumberValidator validator(domain::PhoneValidation::Valid);
    const std::array<std::string, 4> inputs = {"+14155550100", "+4407400123456", "+6512345678",
                                               "+14155550100"};
    const std::string& input = inputs[static_cast<size_t>(state.range(0))];
    if (state.range(0) == 3) {
        const auto& util = *i18n::phonenumbers::PhoneNumberUtil::GetInstance();
        for (auto _ : state) {
            i18n::phonenumbers::PhoneNumber number;
            util.Parse(input, "ZZ", &number);
            std::string e164;
            util.Format(number, i18n::phonenumbers::PhoneNumberUtil::E164, &e164);
            benchmark::DoNotOptimize(util.IsValidNumber(number));
            benchmark::DoNotOptimize(e164);
        }
        return;
    }
    for (auto _ : state) {
        auto r = validator.normalize(input);
        benchmark::DoNotOptimize(r);
    }
}
BENCHMARK(BM_NormalizePhone)->DenseRange(0, 3)->ArgName("case(0=e164,1=national,2=invalid,3=old)");

// Many different valid numbers (every region's example numbers, mobile and fixed line), since
// bench/run.sh sends one number over and over and a cache keyed by number would flatter it.
void BM_NormalizePhoneVaried(benchmark::State& state) {
    const auto& util = *i18n::phonenumbers::PhoneNumberUtil::GetInstance();
    std::set<std::string> regions;
    util.GetSupportedRegions(&regions);
    std::vector<std::string> inputs;
    for (const auto& region : regions) {
        for (const auto type : {i18n::phonenumbers::PhoneNumberUtil::MOBILE,
                                i18n::phonenumbers::PhoneNumberUtil::FIXED_LINE}) {
            i18n::phonenumbers::PhoneNumber number;
            if (!util.GetExampleNumberForType(region, type, &number)) continue;
            std::string e164;
            util.Format(number, i18n::phonenumbers::PhoneNumberUtil::E164, &e164);
            inputs.push_back(e164);
        }
    }
    const domain::PhoneNumberValidator validator(domain::PhoneValidation::Valid);
    size_t i = 0;
    for (auto _ : state) {
        auto r = validator.normalize(inputs[i]);
        benchmark::DoNotOptimize(r);
        i = i + 1 == inputs.size() ? 0 : i + 1;
    }
    state.counters["numbers"] = static_cast<double>(inputs.size());
}
BENCHMARK(BM_NormalizePhoneVaried);

}  // namespace

int main(int argc, char** argv) {
    if (sodium_init() < 0) return 1;
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
