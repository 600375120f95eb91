#include "delivery/smtp/smtp_reply.h"

namespace sc::delivery::smtp {

namespace {

bool isDigit(char c) {
    return c >= '0' && c <= '9';
}

// 1 to 3 digits at `pos`; returns how many, 0 when none or more than 3.
std::size_t digitRun(std::string_view s, std::size_t pos) {
    std::size_t n = 0;
    while (pos + n < s.size() && isDigit(s[pos + n])) ++n;
    return n >= 1 && n <= 3 ? n : 0;
}

}  // namespace

std::string enhancedCodeOf(std::string_view text, int codeClass) {
    // class "." subject "." detail, followed by a space or the end (RFC 3463 §2).
    if (text.size() < 5) return {};
    char cls = text[0];
    if (cls != '2' && cls != '4' && cls != '5') return {};
    if (cls - '0' != codeClass) return {};
    if (text[1] != '.') return {};
    std::size_t subject = digitRun(text, 2);
    if (subject == 0) return {};
    std::size_t dot = 2 + subject;
    if (dot >= text.size() || text[dot] != '.') return {};
    std::size_t detail = digitRun(text, dot + 1);
    if (detail == 0) return {};
    std::size_t end = dot + 1 + detail;
    if (end < text.size() && text[end] != ' ' && text[end] != '\t') return {};
    return std::string(text.substr(0, end));
}

ReplyParse parseReply(std::string_view input, const ReplyLimits& limits) {
    ReplyParse out;
    std::size_t pos = 0;
    int code = 0;
    while (true) {
        std::size_t lf = input.find('\n', pos);
        std::size_t available = (lf == std::string_view::npos ? input.size() : lf) - pos;
        if (available > limits.maxLineBytes) {
            out.status = ReplyParse::Status::Error;
            out.error = "reply line longer than " + std::to_string(limits.maxLineBytes) + " bytes";
            return out;
        }
        if (lf == std::string_view::npos) return out;  // NeedMore
        std::string_view line = input.substr(pos, lf - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (out.reply.lines.size() >= limits.maxLines) {
            out.status = ReplyParse::Status::Error;
            out.error = "reply of more than " + std::to_string(limits.maxLines) + " lines";
            return out;
        }
        if (line.size() < 3 || !isDigit(line[0]) || !isDigit(line[1]) || !isDigit(line[2]) ||
            line[0] < '2' || line[0] > '5') {
            out.status = ReplyParse::Status::Error;
            out.error = "reply line does not start with a reply code";
            return out;
        }
        int lineCode = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
        if (code != 0 && lineCode != code) {
            out.status = ReplyParse::Status::Error;
            out.error = "reply lines carry different codes";
            return out;
        }
        code = lineCode;
        bool last;
        if (line.size() == 3) {
            last = true;
        } else if (line[3] == ' ') {
            last = true;
        } else if (line[3] == '-') {
            last = false;
        } else {
            out.status = ReplyParse::Status::Error;
            out.error = "reply code not followed by a space or '-'";
            return out;
        }
        out.reply.lines.emplace_back(line.size() > 4 ? line.substr(4) : std::string_view{});
        pos = lf + 1;
        if (last) break;
    }
    out.reply.code = code;
    out.reply.enhancedCode = enhancedCodeOf(out.reply.lines.front(), code / 100);
    out.status = ReplyParse::Status::Complete;
    out.consumed = pos;
    return out;
}

std::string SmtpReply::text() const {
    std::string t;
    for (const auto& l : lines) {
        if (!t.empty()) t.push_back(' ');
        t += l;
    }
    return t;
}

std::string SmtpReply::summary(std::size_t maxBytes) const {
    std::string s = std::to_string(code);
    std::string t = text();
    if (!t.empty()) s += " " + t;
    if (s.size() > maxBytes) s.resize(maxBytes);
    return s;
}

}  // namespace sc::delivery::smtp
