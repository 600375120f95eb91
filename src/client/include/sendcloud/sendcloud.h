#pragma once
// libsendcloud: a client for the Aurora SendCloud HTTP API (docs/api.md) for application
// developers. It does what docs/client.md advises by itself: credentials from the constructor,
// the environment or a private credentials file; retries with backoff and jitter on connection
// errors, 429 and 5xx (never on a refusal); a key rotated in the credentials source picked up after
// one 401; and a client-made sendRequestId on every send, reused by every retry, so that a retry
// after a lost answer never sends twice. Keys never appear in a log line or an error message.
//
// A client object owns one libcurl handle (one kept-alive connection) and is not thread-safe:
// use one per thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace sendcloud {

// Which API a credential belongs to: the Email API (apiUser/apiKey) or the SMS API
// (smsUser/smsKey).
enum class Api { Email, Sms };

struct Credentials {
    std::string user;
    std::string key;
};

// Where credentials come from. Called once at construction and once more after a 401, so a key
// rotated in the environment file is picked up without restarting the program.
using CredentialSource = std::function<Credentials()>;

// The four environment variables: EMAIL_API_USER/EMAIL_API_KEY, SMS_API_USER/SMS_API_KEY.
CredentialSource credentialsFromEnvironment(Api api);
// A file of KEY=value lines with those four names ('#' starts a comment). Refused (an Error)
// when it is readable or writable by group or others, as ssh refuses such a private key.
CredentialSource credentialsFromFile(std::string path, Api api);
CredentialSource fixedCredentials(std::string user, std::string key);
// The CLI's order: an explicit file if given; else the environment when it names the user;
// else ~/.config/sendcloud/credentials when it exists.
CredentialSource defaultCredentials(Api api, const std::string& explicitFile = "");

// Every failure: what the server said (or 0 and "client.*" codes for what happened before an
// answer) and whether trying again later can help.
class Error : public std::runtime_error {
public:
    Error(int httpStatus, std::string errorCode, std::string hint, bool retryable,
          int attempts = 0);
    int httpStatus() const { return httpStatus_; }
    // The server's stable errorCode, or the client's own: client.connection (no answer),
    // client.credentials (none found, or the file refused), client.bad_response (not the API's
    // JSON), client.attachment (a file could not be read). After the last retry the error is
    // the last attempt's.
    const std::string& errorCode() const { return errorCode_; }
    const std::string& hint() const { return hint_; }
    bool retryable() const { return retryable_; }
    int attempts() const { return attempts_; }

private:
    int httpStatus_;
    std::string errorCode_;
    std::string hint_;
    bool retryable_;
    int attempts_;
};

// Bounds of the retry loop: exponential backoff with full jitter (a delay drawn uniformly from
// [0, min(maxDelay, baseDelay * 2^n)]), never less than a Retry-After the server sent.
struct RetryPolicy {
    int maxAttempts = 5;
    std::chrono::milliseconds baseDelay{200};
    std::chrono::milliseconds maxDelay{10000};
    std::chrono::milliseconds maxTotal{60000};  // no retry would start after this
};

// Time, sleeping and randomness, replaceable so that tests do not wait.
struct Hooks {
    std::function<std::chrono::steady_clock::time_point()> now;
    std::function<void(std::chrono::milliseconds)> sleep;
    std::function<double()> random01;     // uniform in [0, 1)
    std::function<int64_t()> unixMillis;  // the wall clock, for signed SMS timestamps
    std::function<std::string()> newRequestId;
};

// One HTTP exchange, as the retry loop sees it; the libcurl transport is the real one.
struct HttpPart {
    std::string name;
    std::string value;
    std::string filename;  // non-empty: a file part
    std::string contentType;
};
struct HttpRequest {
    std::string method = "POST";
    std::string url;
    std::vector<HttpPart> params;  // sent form-encoded, or multipart when a part is a file
};
struct HttpResponse {
    bool connected = false;  // false: no answer (connection error); see error
    std::string error;
    int status = 0;
    std::string body;
    std::string retryAfter;
    std::string sunset;
};
using Transport = std::function<HttpResponse(const HttpRequest&)>;

struct ClientOptions {
    std::string server;            // empty: $SENDCLOUD_URL, then http://127.0.0.1:8080
    CredentialSource credentials;  // empty: defaultCredentials(api)
    RetryPolicy retry;
    std::chrono::milliseconds connectTimeout{10000};
    std::chrono::milliseconds requestTimeout{60000};
    // Each request and answer as one line, keys as ***; empty: no log.
    std::function<void(const std::string&)> log;
    // The Sunset warning (once a process); empty: standard error.
    std::function<void(const std::string&)> warn;
    Hooks hooks;          // empty members: the real clock, sleep and a CSPRNG
    Transport transport;  // empty: libcurl
};

struct Attachment {
    std::string filename;
    std::string contentType = "application/octet-stream";
    std::string data;
    // Reads a file; the name sent is its base name. Throws Error (client.attachment).
    static Attachment fromFile(const std::string& path, std::string contentType = "");
};

// /email/send: every parameter of docs/api.md §3.
struct EmailRequest {
    std::string from;
    std::string fromName;
    std::vector<std::string> to, cc, bcc, replyTo;
    std::string subject;
    std::string html, plain;
    std::vector<std::pair<std::string, std::string>> headers;  // extra headers
    std::vector<Attachment> attachments;
    std::string xsmtpapi;  // JSON text (docs/api.md §4); empty: none
    std::optional<bool> respEmailId;
    std::string sendRequestId;  // empty: the client makes one
};

// /email/sendtemplate (docs/api.md §5): recipients and variables come from xsmtpapi.
struct TemplateEmailRequest {
    std::string templateInvokeName;
    std::string from;
    std::string fromName;
    std::vector<std::string> replyTo;
    std::string subject;  // empty: the template's
    std::string xsmtpapi;
    std::vector<std::pair<std::string, std::string>> headers;
    std::vector<Attachment> attachments;
    std::optional<bool> respEmailId;
    std::string sendRequestId;
};

struct EmailResult {
    std::vector<std::string> emailIds;
    std::string sendRequestId;
    int attempts = 0;
};

// /smsapi/send (docs/api.md §6).
struct SmsRequest {
    std::vector<std::string> to;
    std::string message;
    std::optional<int64_t> templateId;
    std::string vars;  // JSON object text, e.g. {"%code%":"1234"}
    std::optional<int> msgType;
    std::string sendRequestId;
};

struct SmsResult {
    std::vector<std::string> smsIds;
    int successCount = 0;
    int segments = 0;
    std::string sendRequestId;
    int attempts = 0;
};

// One entry of a status answer (info.voList).
struct StatusEntry {
    std::string id;
    std::string recipient;
    std::string status;
    std::string requestTime;
    std::string modifiedTime;
    std::string sendLogJson;  // the attempts, as the server's JSON array
};

enum class SignatureAlgorithm { None, Sha256, Md5 };

namespace detail {
class Caller;
}

class EmailClient {
public:
    explicit EmailClient(ClientOptions options = {});
    EmailClient(std::string user, std::string key, ClientOptions options = {});
    ~EmailClient();
    EmailClient(EmailClient&&) noexcept;
    EmailClient& operator=(EmailClient&&) noexcept;

    EmailResult send(const EmailRequest& request);
    EmailResult sendTemplate(const TemplateEmailRequest& request);
    // /email/status; a server without it answers 404 request.not_found.
    std::vector<StatusEntry> status(const std::vector<std::string>& emailIds);

private:
    std::unique_ptr<detail::Caller> caller_;
};

class SmsClient {
public:
    explicit SmsClient(ClientOptions options = {});
    SmsClient(std::string user, std::string key, ClientOptions options = {});
    ~SmsClient();
    SmsClient(SmsClient&&) noexcept;
    SmsClient& operator=(SmsClient&&) noexcept;

    // Signed requests (docs/api.md §7) send a signature instead of the key.
    void signRequests(SignatureAlgorithm algorithm);
    SmsResult send(const SmsRequest& request);
    std::vector<StatusEntry> status(const std::vector<std::string>& smsIds);

private:
    std::unique_ptr<detail::Caller> caller_;
};

// Pure helpers, public for tests and tools.
// The delay before retry number `retry` (0 for the first retry): full jitter, at least
// retryAfter.
std::chrono::milliseconds backoffDelay(const RetryPolicy& policy, int retry, double random01,
                                       std::chrono::milliseconds retryAfter);
// Retry-After as seconds (delta-seconds only); nullopt when absent or not a number.
std::optional<std::chrono::milliseconds> parseRetryAfter(const std::string& value);
// Whether an answer with this status may be retried (429, 5xx); never 400/401/403/413.
bool retryableStatus(int httpStatus);
// SendCloud's SMS signature over the parameters (every one but smsKey and signature).
std::string smsSignature(const std::string& smsKey,
                         const std::vector<std::pair<std::string, std::string>>& params,
                         SignatureAlgorithm algorithm);
// Lower-case hex of `size` bytes: request ids and signatures are written this way.
std::string hexOf(const unsigned char* bytes, size_t size);
// The lower-case hex SHA-256 of `data` (the command line's bulk run ids).
std::string sha256Hex(const std::string& data);
// name=value&... with every value whose name holds key, signature, password, secret or token
// written as ***: what the log shows.
std::string maskedParams(const std::vector<HttpPart>& params);
// Parses a credentials file's text; throws Error on a malformed line.
std::vector<std::pair<std::string, std::string>> parseCredentialsText(const std::string& text);

}  // namespace sendcloud
