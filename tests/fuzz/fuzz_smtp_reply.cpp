// Fuzzes the SMTP reply parser (src/delivery/smtp/smtp_reply.cpp): whatever a remote server
// sends, the parser stays within its limits and consumes only bytes it was given.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "delivery/smtp/smtp_reply.h"

namespace {

void check(bool condition) {
    if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    sc::delivery::smtp::ReplyLimits limits;
    limits.maxLineBytes = 512;
    limits.maxLines = 20;
    // Replies back to back, as a pipelining client reads them.
    while (!input.empty()) {
        auto p = sc::delivery::smtp::parseReply(input, limits);
        if (p.status != sc::delivery::smtp::ReplyParse::Status::Complete) break;
        check(p.consumed > 0 && p.consumed <= input.size());
        check(p.reply.code >= 200 && p.reply.code <= 599);
        check(!p.reply.lines.empty() && p.reply.lines.size() <= limits.maxLines);
        for (const auto& l : p.reply.lines) check(l.size() <= limits.maxLineBytes);
        check(p.reply.enhancedCode.empty() || p.reply.enhancedCode[0] - '0' == p.reply.code / 100);
        input.remove_prefix(p.consumed);
    }
    return 0;
}
