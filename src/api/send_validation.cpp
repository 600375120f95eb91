#include "api/send_validation.h"

#include <strings.h>
#include <algorithm>
#include <array>
#include <cctype>

#include "api/json_text.h"
#include "delivery/mime/message_builder.h"
#include "domain/limits.h"

namespace sc::api {

namespace {

std::optional<std::string_view> param(const http::FormData& f, std::string_view name) {
    return f.params.get(name);
}

bool isBlank(std::string_view s) {
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; });
}

bool isHeaderNameChar(char c) {
    if (std::isalnum(static_cast<unsigned char>(c))) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

constexpr std::array<std::string_view, 12> kReservedHeaders = {
    "from",           "to",     "cc",       "bcc",          "subject",     "date", "message-id",
    "dkim-signature", "sender", "reply-to", "mime-version", "content-type"};

Result<nlohmann::json, ApiError> parseHeaders(std::string_view text) {
    nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return fail(badRequest("email.headers_invalid",
                               "headers must be a JSON object of header names to string values, "
                               "e.g. {\"X-Campaign\":\"spring\"}"));
    }
    if (j.size() > 50) return fail(badRequest("email.headers_invalid", "at most 50 extra headers"));
    nlohmann::json out = nlohmann::json::object();
    for (auto& [name, value] : j.items()) {
        if (name.empty() || name.size() > 76 ||
            !std::all_of(name.begin(), name.end(), isHeaderNameChar)) {
            return fail(badRequest(
                "email.headers_invalid",
                "header name '" + name.substr(0, 80) + "' is not a valid header field name"));
        }
        for (auto reserved : kReservedHeaders) {
            if (name.size() == reserved.size() &&
                strncasecmp(name.data(), reserved.data(), name.size()) == 0) {
                return fail(badRequest("email.headers_invalid",
                                       "the header " + name +
                                           " is set by the service; use the matching parameter "
                                           "instead"));
            }
        }
        if (delivery::mime::isServiceHeaderName(name)) {
            return fail(badRequest("email.headers_invalid",
                                   "the header " + name +
                                       " belongs to the servers a message passes through or is "
                                       "written by the service; it cannot be given"));
        }
        std::string v;
        if (value.is_string()) {
            v = value.get<std::string>();
        } else if (value.is_number()) {
            v = value.dump();
        } else {
            return fail(badRequest("email.headers_invalid",
                                   "the value of header " + name + " must be a string"));
        }
        if (domain::hasLineBreak(v) || !domain::isValidUtf8(v) ||
            v.size() > domain::kMaxHeaderLineBytes) {
            return fail(badRequest("email.headers_invalid",
                                   "the value of header " + name +
                                       " must be one line of UTF-8 text (no CR or LF), at most " +
                                       std::to_string(domain::kMaxHeaderLineBytes) + " bytes"));
        }
        out[name] = v;
    }
    return out;
}

Result<std::vector<domain::EmailAddress>, ApiError> addressList(const http::FormData& f,
                                                                std::string_view name, size_t max) {
    auto v = f.params.get(name);
    if (!v || isBlank(*v)) return std::vector<domain::EmailAddress>{};
    auto r = domain::parseAddressList(*v, max);
    if (!r) {
        if (r.error().code == "address.too_many") {
            return fail(badRequest("email.too_many_recipients", r.error().hint));
        }
        return fail(badRequest("email." + std::string(name) + "_invalid",
                               std::string(name) + ": " + r.error().hint));
    }
    return std::move(r).value();
}

nlohmann::json addressesJson(const std::vector<domain::EmailAddress>& list) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& e : list) {
        a.push_back(e.displayName.empty()
                        ? nlohmann::json{{"address", e.address}}
                        : nlohmann::json{{"address", e.address}, {"name", e.displayName}});
    }
    return a;
}

void appendAddressesText(std::string& out, const std::vector<domain::EmailAddress>& list) {
    out += '[';
    for (size_t i = 0; i < list.size(); ++i) {
        if (i > 0) out += ',';
        out += R"({"address":)";
        json_text::appendString(out, list[i].address);
        if (!list[i].displayName.empty()) {
            out += R"(,"name":)";
            json_text::appendString(out, list[i].displayName);
        }
        out += '}';
    }
    out += ']';
}

}  // namespace

std::string ValidatedEmail::contentJsonText() const {
    // nlohmann::json objects keep their keys sorted: the same order here, so the text is the
    // one contentJson().dump() gave (tests compare the two).
    std::string j;
    j.reserve(256 + subject.size() + html.size() + plain.size() + fromName.size() +
              64 * (to.size() + cc.size() + bcc.size() + replyTo.size()));
    j += R"({"bcc":)";
    appendAddressesText(j, bcc);
    j += R"(,"cc":)";
    appendAddressesText(j, cc);
    j += R"(,"from":)";
    json_text::appendString(j, from.address);
    j += R"(,"fromName":)";
    json_text::appendString(j, fromName);
    j += R"(,"headers":)";
    if (headers.empty()) {
        j += "{}";
    } else {
        j += headers.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    if (!html.empty()) {
        j += R"(,"html":)";
        json_text::appendString(j, html);
    }
    if (!plain.empty()) {
        j += R"(,"plain":)";
        json_text::appendString(j, plain);
    }
    j += R"(,"replyTo":)";
    appendAddressesText(j, replyTo);
    j += R"(,"subject":)";
    json_text::appendString(j, subject);
    j += R"(,"to":)";
    appendAddressesText(j, to);
    j += '}';
    return j;
}

nlohmann::json ValidatedEmail::contentJson() const {
    nlohmann::json j = {{"from", from.address},
                        {"fromName", fromName},
                        {"replyTo", addressesJson(replyTo)},
                        {"to", addressesJson(to)},
                        {"cc", addressesJson(cc)},
                        {"bcc", addressesJson(bcc)},
                        {"subject", subject},
                        {"headers", headers.is_null() ? nlohmann::json::object() : headers}};
    if (!html.empty()) j["html"] = html;
    if (!plain.empty()) j["plain"] = plain;
    return j;
}

namespace {

// The steps of validateEmail, in their order: each reads its parameters into the message, or
// says what to fix.
using EmailStep = Result<Ok, ApiError> (*)(const http::FormData&, const EmailLimits&,
                                           ValidatedEmail&);

Result<Ok, ApiError> readSender(const http::FormData& form, const EmailLimits&, ValidatedEmail& m) {
    auto from = param(form, "from");
    if (!from || isBlank(*from)) {
        return fail(badRequest(
            "email.from_missing",
            "the 'from' parameter is missing: every email needs a sender address, for example "
            "from=news@yourdomain.com (optionally with fromName=Your Company)"));
    }
    auto parsedFrom = domain::parseMailbox(*from);
    if (!parsedFrom) {
        return fail(badRequest("email.from_invalid", "from: " + parsedFrom.error().hint));
    }
    m.from = std::move(parsedFrom).value();

    if (auto fromName = param(form, "fromName")) {
        if (domain::hasLineBreak(*fromName) || !domain::isValidUtf8(*fromName) ||
            fromName->size() > 256) {
            return fail(badRequest("email.from_name_invalid",
                                   "fromName must be one line of UTF-8 text (no CR or LF), at "
                                   "most 256 bytes"));
        }
        m.fromName.assign(*fromName);
    }
    if (m.fromName.empty()) m.fromName = m.from.displayName;
    return Ok{};
}

Result<Ok, ApiError> readRecipients(const http::FormData& form, const EmailLimits& limits,
                                    ValidatedEmail& m) {
    if (limits.recipientsFromXsmtpapi) return Ok{};
    auto to = form.params.get("to");
    if (!to || isBlank(*to)) {
        return fail(badRequest("email.to_missing",
                               "the 'to' parameter is missing: give one or more recipient "
                               "addresses separated by ';' or ','"));
    }
    for (auto [name, list] :
         {std::pair{"to", &m.to}, std::pair{"cc", &m.cc}, std::pair{"bcc", &m.bcc}}) {
        auto r = addressList(form, name, limits.maxRecipients);
        if (!r) return fail(std::move(r).error());
        *list = std::move(r).value();
    }
    if (m.to.size() + m.cc.size() + m.bcc.size() > limits.maxRecipients) {
        return fail(badRequest("email.too_many_recipients",
                               "to, cc and bcc together may name at most " +
                                   std::to_string(limits.maxRecipients) + " recipients"));
    }
    return Ok{};
}

Result<Ok, ApiError> readReplyTo(const http::FormData& form, const EmailLimits&,
                                 ValidatedEmail& m) {
    auto r = addressList(form, "replyTo", 3);
    if (!r) {
        ApiError e = std::move(r).error();
        if (e.code == "email.too_many_recipients") {
            e = badRequest("email.replyTo_invalid", "replyTo may name at most 3 addresses");
        }
        return fail(std::move(e));
    }
    m.replyTo = std::move(r).value();
    return Ok{};
}

Result<Ok, ApiError> readSubject(const http::FormData& form, const EmailLimits&,
                                 ValidatedEmail& m) {
    auto subject = param(form, "subject");
    if (!subject || subject->empty()) {
        return fail(badRequest("email.subject_missing", "the 'subject' parameter is missing"));
    }
    if (domain::hasLineBreak(*subject)) {
        return fail(badRequest("email.subject_invalid",
                               "subject must be one line: CR and LF are not allowed"));
    }
    if (!domain::isValidUtf8(*subject) || subject->size() > domain::kMaxSubjectBytes) {
        return fail(badRequest("email.subject_invalid",
                               "subject must be UTF-8 text of at most " +
                                   std::to_string(domain::kMaxSubjectBytes) + " bytes"));
    }
    m.subject.assign(*subject);
    return Ok{};
}

Result<Ok, ApiError> readBody(const http::FormData& form, const EmailLimits& limits,
                              ValidatedEmail& m) {
    m.html.assign(param(form, "html").value_or(std::string_view()));
    m.plain.assign(param(form, "plain").value_or(std::string_view()));
    if (m.html.empty() && m.plain.empty()) {
        return fail(
            badRequest("email.body_missing", "give the message body in 'html', 'plain' or both"));
    }
    if (m.html.size() + m.plain.size() > limits.maxContentBytes) {
        return fail(ApiError{413,
                             "email.content_too_large",
                             "html and plain together may hold at most " +
                                 std::to_string(limits.maxContentBytes) + " bytes",
                             {}});
    }
    if (!domain::isValidUtf8(m.html) || !domain::isValidUtf8(m.plain)) {
        return fail(badRequest("email.body_invalid", "html and plain must be UTF-8 text"));
    }
    return Ok{};
}

Result<Ok, ApiError> readHeaders(const http::FormData& form, const EmailLimits&,
                                 ValidatedEmail& m) {
    auto headers = param(form, "headers");
    if (!headers || headers->empty()) return Ok{};
    auto r = parseHeaders(*headers);
    if (!r) return fail(std::move(r).error());
    m.headers = std::move(r).value();
    return Ok{};
}

Result<Ok, ApiError> readAttachments(const http::FormData& form, const EmailLimits& limits,
                                     ValidatedEmail& m) {
    size_t attachmentBytes = 0;
    for (const auto& file : form.files) {
        if (file.field != "attachments") {
            return fail(badRequest("email.unexpected_file",
                                   "file parts are accepted only as 'attachments', not as '" +
                                       file.field.substr(0, 64) + "'"));
        }
        if (domain::hasLineBreak(file.filename) || domain::hasLineBreak(file.contentType)) {
            return fail(badRequest("email.attachment_invalid",
                                   "attachment file names and types must not contain CR or LF"));
        }
        attachmentBytes += file.data.size();
        m.attachments.push_back({file.filename, file.contentType, file.data});
    }
    if (attachmentBytes > limits.maxContentBytes) {
        return fail(ApiError{413,
                             "email.attachments_too_large",
                             "attachments together may hold at most " +
                                 std::to_string(limits.maxContentBytes) + " bytes",
                             {}});
    }
    return Ok{};
}

constexpr EmailStep kEmailSteps[] = {readSender, readRecipients, readReplyTo,    readSubject,
                                     readBody,   readHeaders,    readAttachments};

}  // namespace

Result<ValidatedEmail, ApiError> validateEmail(const http::FormData& form,
                                               const EmailLimits& limits) {
    ValidatedEmail m;
    for (EmailStep step : kEmailSteps) {
        if (auto r = step(form, limits, m); !r) return fail(std::move(r).error());
    }
    return m;
}

std::string ValidatedSms::contentJsonText() const {
    // Keys in nlohmann::json's (sorted) order, so the text is the one its dump() gave.
    std::string j;
    j.reserve(message.size() + 64);
    j = segments.encoding == domain::SmsEncoding::Gsm7 ? R"({"encoding":"gsm7")"
                                                       : R"({"encoding":"ucs2")";
    j += R"(,"message":)";
    json_text::appendString(j, message);
    j += R"(,"segments":)";
    json_text::appendUint(j, segments.segments);
    j += '}';
    return j;
}

Result<ValidatedSms, ApiError> validateSms(const http::FormData& form,
                                           const domain::PhoneNumberValidator& phones,
                                           size_t maxRecipients, size_t maxCharacters) {
    ValidatedSms s;
    auto to = form.params.get("to");
    if (!to || to->empty()) {
        return fail(badRequest("sms.to_missing",
                               "the 'to' parameter is missing: give one or more phone numbers in "
                               "E.164 form, like +14155550100, separated by ','"));
    }
    auto numbers = phones.normalizeList(*to, maxRecipients);
    if (!numbers) {
        const auto& e = numbers.error();
        std::string code =
            e.code == "phone.too_many" ? "sms.too_many_recipients" : "sms.to_invalid";
        return fail(badRequest(code, e.hint));
    }
    s.to = std::move(numbers).value();

    auto message = form.params.get("message");
    if (!message || message->empty()) {
        return fail(badRequest("sms.message_missing", "the 'message' parameter is missing"));
    }
    auto seg = domain::measureSms(*message);
    if (!seg) return fail(badRequest("sms.message_invalid", "message must be UTF-8 text"));
    if (seg->characters > maxCharacters) {
        return fail(badRequest("sms.message_too_long",
                               "message may hold at most " + std::to_string(maxCharacters) +
                                   " characters; it has " + std::to_string(seg->characters)));
    }
    s.message = std::string(*message);
    s.segments = seg.value();
    return s;
}

}  // namespace sc::api
