#pragma once
// SMTP replies (RFC 5321 §4.2) as the server sends them: one or more lines "ddd-text", the last
// "ddd text" (or a bare "ddd"), every line with the same code. The parser is pure (no I/O) and
// bounded, because the remote side is untrusted: a line longer than `maxLineBytes` or a reply of
// more than `maxLines` lines is an error, never an unbounded buffer. Fuzzed by
// tests/fuzz/fuzz_smtp_reply.cpp.
//
// The RFC 3463 enhanced status code ("5.1.1") is taken from the first line when it leads the
// text and its class agrees with the basic code, as Postfix's smtp_chat does.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sc::delivery::smtp {

struct ReplyLimits {
    // RFC 5321 §4.5.3.1.5 allows 512 octets per reply line; real servers send longer banners.
    std::size_t maxLineBytes = 4096;
    std::size_t maxLines = 100;
};

struct SmtpReply {
    int code = 0;                    // 200..599
    std::string enhancedCode;        // "5.1.1" or empty
    std::vector<std::string> lines;  // the text of each line, without code and separator

    int codeClass() const { return code / 100; }
    bool positive() const { return code >= 200 && code < 400; }
    // "550 5.1.1 no such user" style: code, then the lines joined by a space, at most
    // `maxBytes` bytes (the attempt log keeps 512).
    std::string summary(std::size_t maxBytes = 512) const;
    // The lines joined with a space, for matching rules against the text.
    std::string text() const;
};

struct ReplyParse {
    enum class Status { NeedMore, Complete, Error };
    Status status = Status::NeedMore;
    std::size_t consumed = 0;  // bytes of the input that the complete reply took
    SmtpReply reply;           // when Complete
    std::string error;         // when Error: what was wrong (never echoes more than a few bytes)
};

// Parses the first reply at the start of `input`. NeedMore when the input ends before the last
// line does (and no limit is exceeded yet). Lines end in CRLF; a bare LF is accepted too, as
// most clients do.
ReplyParse parseReply(std::string_view input, const ReplyLimits& limits = {});

// The enhanced status code at the start of `text` ("5.7.1 ..."), when its class matches
// `codeClass`; empty otherwise.
std::string enhancedCodeOf(std::string_view text, int codeClass);

}  // namespace sc::delivery::smtp
