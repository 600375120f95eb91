#pragma once
// The encodings the message builder writes (docs/delivery.md, "The message on the wire"):
// base64 and quoted-printable bodies (RFC 2045) whose lines stay far below SMTP's 998 octets,
// RFC 2047 encoded-words for non-ASCII header text and display names, RFC 2231 parameters for
// attachment file names, and header folding. Pure functions on bytes, no allocation beyond the
// output; exposed for the unit tests and the fuzz target.

#include <cstdint>
#include <string>
#include <string_view>

namespace sc::delivery::mime {

// Base64 in lines of 76 characters, each ended by CRLF (the last one too).
void appendBase64Lines(std::string& out, std::string_view data);

// Quoted-printable of text whose line breaks (CRLF, bare LF or bare CR) become CRLF hard breaks;
// soft breaks keep every line at most 76 characters. Ends with CRLF.
void appendQuotedPrintable(std::string& out, std::string_view text);

// `text` with every line break (CRLF, bare LF, bare CR) written as CRLF, ending with CRLF.
void appendCanonicalText(std::string& out, std::string_view text);

// True when every byte is printable ASCII, space or tab.
bool isPrintableAscii(std::string_view s);

// "Name: value" for unstructured text (Subject, the caller's headers): folded at spaces to keep
// lines near 78 characters; RFC 2047 B encoded-words (UTF-8, at most 75 characters each, never
// splitting a UTF-8 sequence) when the value holds non-ASCII bytes, control characters, "=?" or a
// word too long to fold. Ends with CRLF.
void appendUnstructuredHeader(std::string& out, std::string_view name, std::string_view value);

// A display name as a phrase: as is when it is atoms and spaces, a quoted-string when it holds
// specials such as `"`, `<` or `,`, encoded-words when it holds non-ASCII bytes.
std::string encodeDisplayName(std::string_view name);

// `; filename="a.pdf"` or, for non-ASCII or long names, RFC 2231 continuations
// (`;\r\n filename*0*=utf-8''...`), each on its own folded line.
void appendFilenameParameter(std::string& out, std::string_view parameter, std::string_view value);

// RFC 5322 date-time in UTC ("Sat, 05 Dec 2026 02:10:15 +0000").
std::string rfc5322Date(int64_t unixMillis);

}  // namespace sc::delivery::mime
