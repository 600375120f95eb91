// EmailClient and SmsClient on one retry loop (detail::Caller): credentials, sendRequestId,
// backoff with full jitter, one credential re-read after a 401, the Sunset warning.

#include <openssl/rand.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "curl_transport.h"
#include "sendcloud/sendcloud.h"

namespace sendcloud {
namespace {

using nlohmann::json;
using Params = std::vector<HttpPart>;

std::atomic<bool> sunsetWarned{false};

std::string randomHex(size_t bytes) {
    std::vector<unsigned char> buf(bytes);
    if (RAND_bytes(buf.data(), static_cast<int>(buf.size())) != 1) {
        std::random_device rd;
        for (auto& b : buf) b = static_cast<unsigned char>(rd());
    }
    return hexOf(buf.data(), buf.size());
}

void fillHooks(Hooks& h) {
    if (!h.now) h.now = [] { return std::chrono::steady_clock::now(); };
    if (!h.sleep) h.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
    if (!h.random01) {
        auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
        h.random01 = [engine] { return std::uniform_real_distribution<double>(0, 1)(*engine); };
    }
    if (!h.unixMillis) {
        h.unixMillis = [] {
            return std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                .count();
        };
    }
    if (!h.newRequestId) h.newRequestId = [] { return "sc-" + randomHex(16); };
}

std::string joinList(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) {
        if (!out.empty()) out += ';';
        out += s;
    }
    return out;
}

void addIf(Params& p, const char* name, const std::string& value) {
    if (!value.empty()) p.push_back({name, value, "", ""});
}

void addCommonEmail(Params& p, const std::string& from, const std::string& fromName,
                    const std::vector<std::string>& replyTo,
                    const std::vector<std::pair<std::string, std::string>>& headers,
                    const std::vector<Attachment>& attachments, const std::string& xsmtpapi,
                    const std::optional<bool>& respEmailId) {
    addIf(p, "from", from);
    addIf(p, "fromName", fromName);
    addIf(p, "replyTo", joinList(replyTo));
    if (!headers.empty()) {
        json h = json::object();
        for (const auto& [k, v] : headers) h[k] = v;
        p.push_back({"headers", h.dump(), "", ""});
    }
    addIf(p, "xsmtpapi", xsmtpapi);
    if (respEmailId) p.push_back({"respEmailId", *respEmailId ? "true" : "false", "", ""});
    for (const auto& a : attachments) {
        p.push_back(
            {"attachments", a.data, a.filename.empty() ? "attachment" : a.filename, a.contentType});
    }
}

std::vector<std::string> stringList(const json& info, const char* name) {
    std::vector<std::string> out;
    if (info.is_object() && info.contains(name) && info[name].is_array()) {
        for (const auto& v : info[name]) {
            if (v.is_string()) out.push_back(v.get<std::string>());
        }
    }
    return out;
}

std::string textOf(const json& o, const char* name) {
    if (!o.is_object() || !o.contains(name)) return "";
    const auto& v = o[name];
    return v.is_string() ? v.get<std::string>() : v.dump();
}

std::vector<StatusEntry> statusEntries(const json& info, const char* idName) {
    std::vector<StatusEntry> out;
    if (!info.is_object() || !info.contains("voList") || !info["voList"].is_array()) {
        throw Error(200, "client.bad_response", "the status answer has no info.voList", false);
    }
    for (const auto& e : info["voList"]) {
        StatusEntry s;
        s.id = textOf(e, idName);
        s.recipient = textOf(e, "recipient");
        s.status = textOf(e, "status");
        s.requestTime = textOf(e, "requestTime");
        s.modifiedTime = textOf(e, "modifiedTime");
        s.sendLogJson = e.is_object() && e.contains("sendLog") ? e["sendLog"].dump() : "[]";
        out.push_back(std::move(s));
    }
    return out;
}

}  // namespace

Attachment Attachment::fromFile(const std::string& path, std::string contentType) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(0, "client.attachment", "cannot read the attachment " + path, false);
    std::stringstream data;
    data << in.rdbuf();
    Attachment a;
    auto slash = path.find_last_of('/');
    a.filename = slash == std::string::npos ? path : path.substr(slash + 1);
    a.data = data.str();
    if (!contentType.empty()) a.contentType = std::move(contentType);
    return a;
}

namespace detail {

class Caller {
public:
    Caller(Api api, ClientOptions options) : api_(api), options_(std::move(options)) {
        fillHooks(options_.hooks);
        if (options_.server.empty()) {
            const char* env = std::getenv("SENDCLOUD_URL");
            options_.server = env && *env ? env : "http://127.0.0.1:8080";
        }
        while (!options_.server.empty() && options_.server.back() == '/') {
            options_.server.pop_back();
        }
        if (!options_.credentials) options_.credentials = defaultCredentials(api_);
        if (!options_.transport) {
            auto curl =
                std::make_shared<CurlTransport>(options_.connectTimeout, options_.requestTimeout);
            options_.transport = [curl](const HttpRequest& r) { return curl->perform(r); };
        }
        credentials_ = options_.credentials();
    }

    SignatureAlgorithm signing = SignatureAlgorithm::None;

    // One call with its retries. `params` holds no credentials; `send` says it carries a
    // sendRequestId (already in params), so that a retry is safe.
    json call(const std::string& method, const std::string& path, const Params& params,
              int& attemptsOut) {
        const auto started = options_.hooks.now();
        bool reloaded = false;
        int retries = 0;
        for (int attempt = 1;; ++attempt) {
            attemptsOut = attempt;
            HttpRequest req{method, options_.server + path, withCredentials(params)};
            if (options_.log) {
                options_.log("> " + method + " " + req.url + " " + maskedParams(req.params));
            }
            HttpResponse res = options_.transport(req);
            for (auto& p : req.params) std::fill(p.value.begin(), p.value.end(), '\0');

            std::optional<Error> failure;
            std::chrono::milliseconds retryAfter{0};
            json body;
            if (!res.connected) {
                if (options_.log) options_.log("< no answer: " + res.error);
                failure =
                    Error(0, "client.connection",
                          "no answer from " + options_.server + ": " + res.error, true, attempt);
            } else {
                if (options_.log) {
                    options_.log("< " + std::to_string(res.status) + " " + res.body.substr(0, 500));
                }
                if (!res.sunset.empty()) warnSunset(res.sunset);
                body = json::parse(res.body, nullptr, false);
                if (res.status == 200 && body.is_object() && body.value("result", false)) {
                    return body.contains("info") ? body["info"] : json::object();
                }
                std::string code = body.is_object() ? body.value("errorCode", "") : "";
                std::string hint = body.is_object() ? body.value("hint", "") : "";
                if (code.empty()) {
                    code = body.is_discarded() ? "client.bad_response"
                                               : "http." + std::to_string(res.status);
                    if (hint.empty())
                        hint = "the server answered HTTP " + std::to_string(res.status);
                }
                if (res.status == 401 && !reloaded) {
                    // Re-read the source once: a rotated key is picked up without a restart.
                    reloaded = true;
                    Credentials fresh = options_.credentials();
                    const bool changed =
                        fresh.user != credentials_.user || fresh.key != credentials_.key;
                    credentials_ = std::move(fresh);
                    if (changed) {
                        if (options_.log) options_.log("  credentials re-read; retrying once");
                        continue;
                    }
                }
                const bool retryable = retryableStatus(res.status);
                failure = Error(res.status, code, hint, retryable, attempt);
                if (auto ra = parseRetryAfter(res.retryAfter)) retryAfter = *ra;
            }
            if (!failure->retryable()) throw *failure;
            if (attempt >= options_.retry.maxAttempts) throw *failure;
            auto delay =
                backoffDelay(options_.retry, retries++, options_.hooks.random01(), retryAfter);
            auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
                options_.hooks.now() - started);
            if (elapsed + delay > options_.retry.maxTotal) throw *failure;
            if (options_.log) {
                options_.log("  retrying in " + std::to_string(delay.count()) + " ms");
            }
            options_.hooks.sleep(delay);
        }
    }

    std::string requestId(const std::string& given) {
        return given.empty() ? options_.hooks.newRequestId() : given;
    }

    const std::string& server() const { return options_.server; }

private:
    Params withCredentials(const Params& params) {
        Params out;
        if (api_ == Api::Email) {
            out.push_back({"apiUser", credentials_.user, "", ""});
            out.push_back({"apiKey", credentials_.key, "", ""});
            out.insert(out.end(), params.begin(), params.end());
            return out;
        }
        out.push_back({"smsUser", credentials_.user, "", ""});
        if (signing == SignatureAlgorithm::None) {
            out.push_back({"smsKey", credentials_.key, "", ""});
            out.insert(out.end(), params.begin(), params.end());
            return out;
        }
        // A fresh timestamp per attempt: a retry must not be stale.
        out.insert(out.end(), params.begin(), params.end());
        out.push_back({"timestamp", std::to_string(options_.hooks.unixMillis()), "", ""});
        std::vector<std::pair<std::string, std::string>> plain;
        for (const auto& p : out) plain.emplace_back(p.name, p.value);
        out.push_back({"signature", smsSignature(credentials_.key, plain, signing), "", ""});
        return out;
    }

    void warnSunset(const std::string& date) {
        if (sunsetWarned.exchange(true)) return;
        std::string user = credentials_.user;
        std::string text = "sendcloud: warning: the key of " + user +
                           " has been reset and stops working at " + date +
                           "; put the new key in place";
        if (options_.warn) {
            options_.warn(text);
        } else {
            std::cerr << text << std::endl;
        }
    }

    Api api_;
    ClientOptions options_;
    Credentials credentials_;
};

}  // namespace detail

// ---- EmailClient ------------------------------------------------------------------------------

EmailClient::EmailClient(ClientOptions options)
    : caller_(std::make_unique<detail::Caller>(Api::Email, std::move(options))) {}
EmailClient::EmailClient(std::string user, std::string key, ClientOptions options) {
    options.credentials = fixedCredentials(std::move(user), std::move(key));
    caller_ = std::make_unique<detail::Caller>(Api::Email, std::move(options));
}
EmailClient::~EmailClient() = default;
EmailClient::EmailClient(EmailClient&&) noexcept = default;
EmailClient& EmailClient::operator=(EmailClient&&) noexcept = default;

EmailResult EmailClient::send(const EmailRequest& r) {
    EmailResult out;
    out.sendRequestId = caller_->requestId(r.sendRequestId);
    Params p;
    addIf(p, "to", joinList(r.to));
    addIf(p, "cc", joinList(r.cc));
    addIf(p, "bcc", joinList(r.bcc));
    addIf(p, "subject", r.subject);
    addIf(p, "html", r.html);
    addIf(p, "plain", r.plain);
    addCommonEmail(p, r.from, r.fromName, r.replyTo, r.headers, r.attachments, r.xsmtpapi,
                   r.respEmailId);
    p.push_back({"sendRequestId", out.sendRequestId, "", ""});
    auto info = caller_->call("POST", "/email/send", p, out.attempts);
    out.emailIds = stringList(info, "emailIdList");
    return out;
}

EmailResult EmailClient::sendTemplate(const TemplateEmailRequest& r) {
    EmailResult out;
    out.sendRequestId = caller_->requestId(r.sendRequestId);
    Params p;
    addIf(p, "templateInvokeName", r.templateInvokeName);
    addIf(p, "subject", r.subject);
    addCommonEmail(p, r.from, r.fromName, r.replyTo, r.headers, r.attachments, r.xsmtpapi,
                   r.respEmailId);
    p.push_back({"sendRequestId", out.sendRequestId, "", ""});
    auto info = caller_->call("POST", "/email/sendtemplate", p, out.attempts);
    out.emailIds = stringList(info, "emailIdList");
    return out;
}

std::vector<StatusEntry> EmailClient::status(const std::vector<std::string>& emailIds) {
    int attempts = 0;
    auto info =
        caller_->call("POST", "/email/status", {{"emailId", joinList(emailIds), "", ""}}, attempts);
    return statusEntries(info, "emailId");
}

// ---- SmsClient --------------------------------------------------------------------------------

SmsClient::SmsClient(ClientOptions options)
    : caller_(std::make_unique<detail::Caller>(Api::Sms, std::move(options))) {}
SmsClient::SmsClient(std::string user, std::string key, ClientOptions options) {
    options.credentials = fixedCredentials(std::move(user), std::move(key));
    caller_ = std::make_unique<detail::Caller>(Api::Sms, std::move(options));
}
SmsClient::~SmsClient() = default;
SmsClient::SmsClient(SmsClient&&) noexcept = default;
SmsClient& SmsClient::operator=(SmsClient&&) noexcept = default;

void SmsClient::signRequests(SignatureAlgorithm algorithm) {
    caller_->signing = algorithm;
}

SmsResult SmsClient::send(const SmsRequest& r) {
    SmsResult out;
    out.sendRequestId = caller_->requestId(r.sendRequestId);
    Params p;
    std::string to;
    for (const auto& n : r.to) to += (to.empty() ? "" : ",") + n;
    addIf(p, "to", to);
    addIf(p, "message", r.message);
    if (r.templateId) p.push_back({"templateId", std::to_string(*r.templateId), "", ""});
    addIf(p, "vars", r.vars);
    if (r.msgType) p.push_back({"msgType", std::to_string(*r.msgType), "", ""});
    p.push_back({"sendRequestId", out.sendRequestId, "", ""});
    auto info = caller_->call("POST", "/smsapi/send", p, out.attempts);
    out.smsIds = stringList(info, "smsIds");
    out.successCount = info.is_object() ? info.value("successCount", 0) : 0;
    out.segments = info.is_object() ? info.value("segments", 0) : 0;
    return out;
}

std::vector<StatusEntry> SmsClient::status(const std::vector<std::string>& smsIds) {
    int attempts = 0;
    auto info =
        caller_->call("POST", "/smsapi/status", {{"smsId", joinList(smsIds), "", ""}}, attempts);
    return statusEntries(info, "smsId");
}

}  // namespace sendcloud
