// Fuzzes the traffic shaping rules parser (src/delivery/smtp/traffic_shaping.cpp): whatever a
// rules file holds, parsing stays within its limits and what it accepts is usable by the agent.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "delivery/smtp/traffic_shaping.h"

namespace {

void check(bool condition) {
    if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace sc::delivery::smtp;
    std::string_view input(reinterpret_cast<const char*>(data), size);
    auto rules = parseShapingRules(input, "fuzz.toml");
    if (!rules) {
        check(!rules.error().empty());
        return 0;
    }
    check(rules->sites.size() <= kMaxShapingSites);
    check(rules->replyRules.size() <= kMaxReplyRules);
    for (const auto& s : rules->sites) {
        check(!s.mxSuffixes.empty() && s.mxSuffixes.size() <= kMaxSuffixesPerSite);
        check(s.limits.connections >= 1 && s.limits.messagesPerConnection >= 1 &&
              s.limits.messagesPerMinute >= 0);
        // Every suffix finds its own site.
        for (const auto& suffix : s.mxSuffixes) {
            const std::string host = suffix.front() == '.' ? "mx" + suffix : suffix;
            check(rules->siteFor(host).limits.connections >= 1);
        }
    }
    for (const auto& r : rules->replyRules) {
        check(r.duration.count() > 0 && r.duration <= kMaxShapingDuration);
        check(r.code != 0 || !r.text.empty());
    }
    sc::delivery::smtp::SmtpReply reply;
    reply.code = 421;
    reply.lines = {std::string(input.substr(0, 512))};
    (void)rules->matchReply("site", reply);
    return 0;
}
