#include "http/access_log.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>

namespace sc::http {

namespace {

// Route words are short, lower-case and unencoded (`email`, `mail.send.json`, `sms-templates`,
// a template id). A key is 32 mixed-case characters, so it never passes, and neither does
// anything percent-encoded.
constexpr size_t kMaxRouteWord = 24;

bool isRouteWord(std::string_view segment) {
    if (segment.empty() || segment.size() > kMaxRouteWord) return false;
    return std::all_of(segment.begin(), segment.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
    });
}

// Every parameter name the API, the console and Kannel's delivery reports (token, id, type)
// read (docs/api.md, docs/delivery.md), with SendCloud's v1 spellings. A name outside the list is
// logged as `*`: a client may put anything there.
constexpr std::array<std::string_view, 42> kKnownParameters = {"apiUser",
                                                               "apiKey",
                                                               "api_user",
                                                               "api_key",
                                                               "smsUser",
                                                               "smsKey",
                                                               "from",
                                                               "fromName",
                                                               "fromname",
                                                               "to",
                                                               "cc",
                                                               "bcc",
                                                               "replyTo",
                                                               "replyto",
                                                               "subject",
                                                               "html",
                                                               "plain",
                                                               "headers",
                                                               "attachments",
                                                               "xsmtpapi",
                                                               "x_smtpapi",
                                                               "substitution_vars",
                                                               "respEmailId",
                                                               "resp_email_id",
                                                               "templateInvokeName",
                                                               "template_invoke_name",
                                                               "sendRequestId",
                                                               "phone",
                                                               "message",
                                                               "vars",
                                                               "msgType",
                                                               "templateId",
                                                               "timestamp",
                                                               "signature",
                                                               "user",
                                                               "outcome",
                                                               "before",
                                                               "limit",
                                                               "csrfToken",
                                                               "token",
                                                               "id",
                                                               "type"};

bool isKnownParameter(std::string_view name) {
    return std::find(kKnownParameters.begin(), kKnownParameters.end(), name) !=
           kKnownParameters.end();
}

void appendPath(std::string& out, std::string_view path) {
    // Segments split on '/' only; ';' or ':' inside one make it a non-word, so it is replaced.
    size_t start = 0;
    while (true) {
        const auto slash = path.find('/', start);
        const auto segment = path.substr(
            start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
        if (segment.empty() || isRouteWord(segment)) {
            out.append(segment);
        } else {
            out.push_back('*');
        }
        if (slash == std::string_view::npos) break;
        out.push_back('/');
        start = slash + 1;
    }
}

void appendQuery(std::string& out, std::string_view query) {
    // '&' and ';' both separate parameters for some parsers; splitting on both can only make
    // pieces smaller, and every piece's value is hidden anyway.
    size_t start = 0;
    while (true) {
        const auto sep = query.find_first_of("&;", start);
        const auto piece = query.substr(
            start, sep == std::string_view::npos ? std::string_view::npos : sep - start);
        const auto eq = piece.find('=');
        const auto name = piece.substr(0, eq);
        if (!name.empty()) out.append(isKnownParameter(name) ? name : std::string_view("*"));
        if (eq != std::string_view::npos) {
            out.push_back('=');
            if (eq + 1 < piece.size()) out.append("***");
        }
        if (sep == std::string_view::npos) break;
        out.push_back(query[sep]);
        start = sep + 1;
    }
}

}  // namespace

std::string redactTarget(std::string_view target) {
    std::string out;
    out.reserve(target.size());
    const auto q = target.find('?');
    appendPath(out, target.substr(0, q));
    if (q != std::string_view::npos) {
        out.push_back('?');
        appendQuery(out, target.substr(q + 1));
    }
    return out;
}

std::string_view loggedMethod(std::string_view method) {
    static constexpr std::array<std::string_view, 10> kMethods = {
        "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE", "-"};
    auto it = std::find(kMethods.begin(), kMethods.end(), method);
    return it == kMethods.end() ? std::string_view("OTHER") : *it;
}

void AccessLog::record(std::string_view method, std::string_view target, int status,
                       std::chrono::microseconds latency, std::string_view clientIp,
                       std::string_view user) const {
    if (!enabled_) return;
    spdlog::info("access method={} path={} status={} latency_us={} ip={} user={}",
                 loggedMethod(method), redactTarget(target), status, latency.count(), clientIp,
                 user.empty() ? std::string_view("-") : user);
}

}  // namespace sc::http
