#include "delivery/mime/message_builder.h"

#include <strings.h>
#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include <nlohmann/json.hpp>

#include "delivery/mime/mime_encoding.h"

namespace sc::delivery::mime {

namespace {

// Stored content is written by the send API under its own limits (10 MiB of content, 50
// headers); these are the builder's own, for content that did not come that way.
constexpr size_t kMaxContentJsonBytes = 64u << 20;
constexpr size_t kMaxExtraHeaders = 100;
constexpr size_t kMaxAddressesPerHeader = 1000;

struct Mailbox {
    std::string address;
    std::string name;
};

bool hasNonAscii(std::string_view s) {
    return std::any_of(s.begin(), s.end(),
                       [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
    return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

bool startsWithIgnoreCase(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && strncasecmp(s.data(), prefix.data(), prefix.size()) == 0;
}

bool hasLineBreak(std::string_view s) {
    return s.find_first_of("\r\n\0", 0, 3) != std::string_view::npos;
}

bool isAtext(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

bool isHeaderNameChar(char c) {
    // RFC 5322 ftext: printable ASCII except ':'.
    return c > 32 && c < 127 && c != ':';
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

Result<std::string, std::string> stringField(const nlohmann::json& content, const char* key) {
    auto it = content.find(key);
    if (it == content.end() || it->is_null()) return std::string();
    if (!it->is_string()) return fail(std::string("stored content: '") + key + "' is not a string");
    return it->get<std::string>();
}

Result<std::vector<Mailbox>, std::string> mailboxes(const nlohmann::json& content,
                                                    const char* key) {
    std::vector<Mailbox> out;
    auto it = content.find(key);
    if (it == content.end() || it->is_null()) return out;
    if (!it->is_array() || it->size() > kMaxAddressesPerHeader) {
        return fail(std::string("stored content: '") + key + "' is not a list of addresses");
    }
    for (const auto& e : *it) {
        if (!e.is_object() || !e.contains("address") || !e["address"].is_string()) {
            return fail(std::string("stored content: an entry of '") + key + "' has no address");
        }
        Mailbox m{e["address"].get<std::string>(), {}};
        if (auto n = e.find("name"); n != e.end() && n->is_string()) m.name = n->get<std::string>();
        if (m.address.empty() || m.address.find_first_of("\r\n<>\0", 0, 5) != std::string::npos) {
            return fail(std::string("stored content: an address of '") + key + "' is malformed");
        }
        out.push_back(std::move(m));
    }
    return out;
}

std::vector<std::string> mailboxTokens(const std::vector<Mailbox>& list) {
    // One token per unbreakable piece; folding may go between them (appendFoldedTokens).
    std::vector<std::string> tokens;
    for (size_t i = 0; i < list.size(); ++i) {
        std::string phrase = encodeDisplayName(list[i].name);
        std::string token;
        // Encoded-words are separate tokens so a long name folds between them.
        size_t start = 0;
        while (!phrase.empty() && phrase.compare(0, 2, "=?") == 0 && start < phrase.size()) {
            size_t space = phrase.find(' ', start);
            std::string word = phrase.substr(
                start, space == std::string::npos ? std::string::npos : space - start);
            tokens.push_back((tokens.empty() ? "" : " ") + word);
            if (space == std::string::npos) break;
            start = space + 1;
        }
        if (!phrase.empty() && phrase.compare(0, 2, "=?") != 0) {
            tokens.push_back((tokens.empty() ? "" : " ") + phrase);
        }
        std::string addr = phrase.empty() ? list[i].address : "<" + list[i].address + ">";
        if (i + 1 < list.size()) addr += ',';
        tokens.push_back((tokens.empty() ? "" : " ") + addr);
    }
    return tokens;
}

void appendAddressHeader(std::string& out, std::string_view name,
                         const std::vector<Mailbox>& list) {
    std::vector<std::string> tokens = mailboxTokens(list);
    // appendFoldedTokens lives in the encoding unit; the same folding through an unstructured
    // header would encode the '<' of addresses, so fold here.
    out += name;
    out += ':';
    size_t lineLength = name.size() + 1;
    for (size_t i = 0; i < tokens.size(); ++i) {
        const std::string& t = tokens[i];
        if (i > 0 && lineLength + t.size() > 78) {
            out += "\r\n";
            lineLength = 0;
        } else if (i == 0) {
            out += ' ';
            ++lineLength;
        }
        out += t;
        lineLength += t.size();
    }
    out += "\r\n";
}

// A boundary that no encoded part can contain: quoted-printable writes '=' only before two hex
// digits or a line break and base64 never writes '_', so "=_" cannot occur in them; 7bit parts
// are checked for it (textPart).
std::string boundary(std::string_view recipientId, char kind) {
    uint64_t h = 1469598103934665603ull;  // FNV-1a: stable across runs, so tests can compare
    for (char c : recipientId) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ull;
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string b = "=_sc";
    b += kind;
    b += '_';
    for (int i = 60; i >= 0; i -= 4) b += kHex[(h >> i) & 15];
    return b;
}

bool fitsSevenBit(std::string_view text) {
    size_t lineLength = 0;
    for (char ch : text) {
        auto c = static_cast<unsigned char>(ch);
        if (c == '\r' || c == '\n') {
            lineLength = 0;
            continue;
        }
        if ((c < 32 && c != '\t') || c >= 127) return false;
        if (++lineLength > 900) return false;
    }
    return text.find("=_sc") == std::string_view::npos;
}

// One text part: headers and body. 7bit when the text is short-lined ASCII, else
// quoted-printable when mostly ASCII (readable, little growth), else base64 (a third larger,
// where quoted-printable would triple every non-ASCII byte).
void appendTextPart(std::string& out, std::string_view subtype, std::string_view text) {
    out += "Content-Type: text/";
    out += subtype;
    out += "; charset=\"utf-8\"\r\n";
    if (fitsSevenBit(text)) {
        out += "Content-Transfer-Encoding: 7bit\r\n\r\n";
        appendCanonicalText(out, text);
        return;
    }
    size_t high = static_cast<size_t>(std::count_if(
        text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; }));
    if (high * 5 <= text.size()) {
        out += "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
        appendQuotedPrintable(out, text);
        return;
    }
    out += "Content-Transfer-Encoding: base64\r\n\r\n";
    std::string canonical;
    appendCanonicalText(canonical, text);
    canonical.resize(canonical.size() - 2);  // the break before the boundary is not content
    appendBase64Lines(out, canonical);
}

bool isTokenChar(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("!#$&^_.+-").find(c) != std::string_view::npos;
}

std::string attachmentType(std::string_view given) {
    std::string t = lower(given);
    size_t slash = t.find('/');
    bool ok = slash != std::string::npos && slash > 0 && slash + 1 < t.size() && t.size() <= 127 &&
              std::all_of(t.begin(), t.begin() + static_cast<std::ptrdiff_t>(slash), isTokenChar) &&
              std::all_of(t.begin() + static_cast<std::ptrdiff_t>(slash) + 1, t.end(), isTokenChar);
    // A multipart or message type would make a reader look for boundaries inside the data.
    if (!ok || t.starts_with("multipart/") || t.starts_with("message/")) {
        return "application/octet-stream";
    }
    return t;
}

void appendAttachmentPart(std::string& out, const store::Attachment& a) {
    out += "Content-Type: ";
    out += attachmentType(a.contentType);
    if (!a.filename.empty()) appendFilenameParameter(out, "name", a.filename);
    out += "\r\nContent-Disposition: attachment";
    if (!a.filename.empty()) appendFilenameParameter(out, "filename", a.filename);
    out += "\r\nContent-Transfer-Encoding: base64\r\n\r\n";
    appendBase64Lines(out, a.data);
}

// The part for the text: one text part, or multipart/alternative when both were given (plain
// first: RFC 2046 puts the preferred, richest form last).
void appendBody(std::string& out, const std::string& plain, const std::string& html,
                std::string_view recipientId) {
    if (!plain.empty() && !html.empty()) {
        std::string b = boundary(recipientId, 'a');
        out += "Content-Type: multipart/alternative; boundary=\"" + b + "\"\r\n\r\n";
        out += "--" + b + "\r\n";
        appendTextPart(out, "plain", plain);
        out += "--" + b + "\r\n";
        appendTextPart(out, "html", html);
        out += "--" + b + "--\r\n";
    } else if (!html.empty()) {
        appendTextPart(out, "html", html);
    } else {
        appendTextPart(out, "plain", plain);
    }
}

std::string messageIdLocalPart(std::string_view recipientId) {
    // The emailId is "<messageId><index>$<address>": the part before '$' is already unique per
    // recipient and made of dot-atom characters; anything else is mapped to '-' so that the
    // header stays a valid msg-id whatever the store holds.
    std::string_view unique = recipientId.substr(0, recipientId.find('$'));
    std::string out;
    for (char c : unique) out += (isAtext(c) || c == '.') ? c : '-';
    while (!out.empty() && out.front() == '.') out.erase(0, 1);
    while (!out.empty() && out.back() == '.') out.pop_back();
    for (size_t p; (p = out.find("..")) != std::string::npos;) out.erase(p, 1);
    return out.empty() ? "message" : out;
}

std::string messageIdDomain(std::string_view hostname, std::string_view fromDomain) {
    std::string out;
    for (char c : hostname.empty() ? fromDomain : hostname) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '.';
        out += ok ? c : '-';
    }
    return out.empty() ? "localhost" : out;
}

}  // namespace

bool isServiceHeaderName(std::string_view name) {
    static constexpr std::string_view kExact[] = {"from",
                                                  "to",
                                                  "cc",
                                                  "bcc",
                                                  "subject",
                                                  "date",
                                                  "message-id",
                                                  "sender",
                                                  "reply-to",
                                                  "mime-version",
                                                  "return-path",
                                                  "received",
                                                  "received-spf",
                                                  "authentication-results",
                                                  "dkim-signature",
                                                  "domainkey-signature",
                                                  "delivered-to",
                                                  "x-original-to"};
    for (auto e : kExact) {
        if (equalsIgnoreCase(name, e)) return true;
    }
    for (std::string_view prefix : {"content-", "resent-", "arc-"}) {
        if (startsWithIgnoreCase(name, prefix)) return true;
    }
    return false;
}

namespace {

// The caller's extra headers ("headers" of the stored content): none a service or transport
// header, each value one line.
Status<std::string> appendCallerHeaders(std::string& out, const nlohmann::json& content) {
    auto h = content.find("headers");
    if (h == content.end() || h->is_null()) return Ok{};
    if (!h->is_object() || h->size() > kMaxExtraHeaders) {
        return fail(std::string("stored content: 'headers' is not an object of at most 100"));
    }
    for (const auto& [name, value] : h->items()) {
        if (name.empty() || name.size() > 76 ||
            !std::all_of(name.begin(), name.end(), isHeaderNameChar)) {
            return fail("stored content: '" + name.substr(0, 80) + "' is not a header name");
        }
        if (isServiceHeaderName(name)) {
            return fail("the header " + name +
                        " is written by the service (or belongs to transport) and may not "
                        "be given by the caller");
        }
        if (!value.is_string()) {
            return fail("stored content: the value of header " + name + " is not a string");
        }
        const auto& v = value.get_ref<const std::string&>();
        if (hasLineBreak(v)) {
            return fail("stored content: the value of header " + name + " holds a line break");
        }
        appendUnstructuredHeader(out, name, v);
    }
    return Ok{};
}

// The body: the text parts alone, or inside multipart/mixed with the attachments after them.
void appendContent(std::string& out, const std::string& plain, const std::string& html,
                   const queue::DeliveryJob& job) {
    const auto& attachments = job.message->attachments;
    if (attachments.empty()) {
        appendBody(out, plain, html, job.recipientId);
        return;
    }
    std::string b = boundary(job.recipientId, 'm');
    out += "Content-Type: multipart/mixed; boundary=\"" + b + "\"\r\n\r\n";
    out += "--" + b + "\r\n";
    appendBody(out, plain, html, job.recipientId);
    for (const auto& a : attachments) {
        out += "--" + b + "\r\n";
        appendAttachmentPart(out, a);
    }
    out += "--" + b + "--\r\n";
}

}  // namespace

Result<BuiltMessage, std::string> buildEmail(const queue::DeliveryJob& job,
                                             const BuildOptions& options) {
    if (!job.message) return fail(std::string("the job has no message"));
    const std::string& text = job.content();
    if (text.size() > kMaxContentJsonBytes) {
        return fail(std::string("stored content is larger than the builder's 64 MiB limit"));
    }
    nlohmann::json content = nlohmann::json::parse(text, nullptr, false);
    if (content.is_discarded() || !content.is_object()) {
        return fail(std::string("stored content is not a JSON object"));
    }

    auto from = stringField(content, "from");
    auto fromName = stringField(content, "fromName");
    auto subject = stringField(content, "subject");
    auto html = stringField(content, "html");
    auto plain = stringField(content, "plain");
    for (const auto* r : {&from, &fromName, &subject, &html, &plain}) {
        if (!*r) return fail(r->error());
    }
    size_t at = from->rfind('@');
    if (from->empty() || at == std::string::npos || at == 0 || at + 1 == from->size() ||
        from->find_first_of("\r\n<>\0", 0, 5) != std::string::npos) {
        return fail(std::string("stored content: the from address is malformed"));
    }
    auto replyTo = mailboxes(content, "replyTo");
    auto to = mailboxes(content, "to");
    auto cc = mailboxes(content, "cc");
    for (const auto* r : {&replyTo, &to, &cc}) {
        if (!*r) return fail(r->error());
    }
    if (hasLineBreak(*subject) || hasLineBreak(*fromName)) {
        return fail(std::string("stored content: the subject or from name holds a line break"));
    }

    BuiltMessage built;
    built.envelopeFrom = *from;
    built.fromDomain = lower(std::string_view(*from).substr(at + 1));

    std::string& out = built.bytes;
    out.reserve(1024 + html->size() * 11 / 10 + plain->size() * 11 / 10 + [&] {
        size_t n = 0;
        for (const auto& a : job.message->attachments) n += a.data.size() * 14 / 10 + 256;
        return n;
    }());

    appendAddressHeader(out, "From", {Mailbox{*from, *fromName}});
    if (!replyTo->empty()) appendAddressHeader(out, "Reply-To", *replyTo);
    if (to->empty() && cc->empty()) {
        out += "To: undisclosed-recipients:;\r\n";  // only Bcc recipients: none to show
    } else if (!to->empty()) {
        appendAddressHeader(out, "To", *to);
    }
    if (!cc->empty()) appendAddressHeader(out, "Cc", *cc);
    appendUnstructuredHeader(out, "Subject", *subject);
    out += "Date: " + rfc5322Date(options.nowMs) + "\r\n";
    out += "Message-ID: <" + messageIdLocalPart(job.recipientId) + "@" +
           messageIdDomain(options.hostname, built.fromDomain) + ">\r\n";
    out += "MIME-Version: 1.0\r\n";

    if (auto extra = appendCallerHeaders(out, content); !extra) return fail(extra.error());
    appendContent(out, *plain, *html, job);

    built.needsSmtpUtf8 = hasNonAscii(*from) || hasNonAscii(job.address);
    for (const auto* list : {&*replyTo, &*to, &*cc}) {
        for (const auto& m : *list) built.needsSmtpUtf8 |= hasNonAscii(m.address);
    }
    built.has8bit = false;  // every part is 7bit, quoted-printable or base64
    return built;
}

}  // namespace sc::delivery::mime
