#pragma once
// Turns one leased email recipient into the RFC 5322 message that goes over SMTP: headers
// (From with fromName, To/Cc as the caller gave them, never Bcc, Reply-To, Subject, Date,
// Message-ID derived from the emailId, MIME-Version, the caller's extra headers), RFC 2047 for
// non-ASCII header text, multipart/alternative (plain + html) inside multipart/mixed when there
// are attachments, quoted-printable or base64 so that no line exceeds 998 octets, CRLF endings.
// Declared here by the lead so the SMTP agent and the builder can be written in parallel.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "queue/delivery.h"

namespace sc::delivery::mime {

struct BuildOptions {
    std::string hostname;  // right-hand side of Message-ID
    int64_t nowMs = 0;     // the Date header (from the injected clock)
};

struct BuiltMessage {
    std::string bytes;           // the whole message, CRLF line endings, dot-stuffing NOT applied
    std::string envelopeFrom;    // MAIL FROM (the `from` address)
    std::string fromDomain;      // lower case; picks the DKIM key
    bool needsSmtpUtf8 = false;  // a UTF-8 address in the envelope or headers
    bool has8bit = false;        // some body part is 8bit (needs 8BITMIME)
};

// The error says what is wrong with the stored content (a person reads it in the attempt log);
// it is permanent: building the same job again gives the same error.
Result<BuiltMessage, std::string> buildEmail(const queue::DeliveryJob& job,
                                             const BuildOptions& options);

// True for the header names the service writes itself or that belong to transport and trace
// (From, To, Date, Message-ID, Content-*, MIME-Version, Return-Path, Received, DKIM-Signature,
// Resent-*, ARC-*, Authentication-Results, ...): a caller's extra header by such a name is refused,
// by the send API at once and by the builder for content stored before the rule.
bool isServiceHeaderName(std::string_view name);

}  // namespace sc::delivery::mime
