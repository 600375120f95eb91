#pragma once
// Traffic shaping rules for the SMTP agent (docs/operations.md, "Traffic shaping"), modelled on
// KumoMTA's shaping.toml: MX host names are grouped into *sites* by suffix, so that every domain
// a provider hosts shares one budget (connections, messages per connection, messages per
// minute); and reply rules that match a reply's code *and text* throttle or suspend a whole site
// for a while, because codes alone misfire (QQ throttles with a 550, Yahoo says [TSS04] in a
// 421 that otherwise looks like any other).
//
// The file is TOML and untrusted enough to be bounded: at most kMaxShapingFileBytes, a capped
// number of sites, suffixes and rules, and every error names the source, the line and the key.
// The rules shipped in config/shaping.toml are compiled in (builtInShapingRules) so the server
// needs no file to start; --smtp-shaping-file replaces them.
//
// Pure data and parsing: the agent (smtp_agent.cpp) keeps the per-site state.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "delivery/smtp/smtp_reply.h"

namespace sc::delivery::smtp {

constexpr std::size_t kMaxShapingFileBytes = 256 * 1024;
constexpr std::size_t kMaxShapingSites = 256;
constexpr std::size_t kMaxSuffixesPerSite = 64;
constexpr std::size_t kMaxReplyRules = 256;
constexpr std::size_t kMaxShapingTextBytes = 256;  // a name, a suffix, a rule's text
constexpr std::chrono::seconds kMaxShapingDuration{7 * 24 * 3600};

struct SiteLimits {
    int connections = 10;             // open at once to all MX hosts of the site
    int messagesPerConnection = 100;  // then the connection is closed and a new one opened
    int messagesPerMinute = 0;        // 0: unlimited; else a token bucket holding a minute's worth
};

struct SiteRule {
    std::string name;
    std::vector<std::string> mxSuffixes;  // lower case; ".google.com" or a whole host name
    SiteLimits limits;
};

struct ReplyRule {
    enum class Action { Throttle, Suspend };
    std::string site;  // empty: any site
    int code = 0;      // 0: any code
    std::string text;  // lower case substring of the reply's text; empty: any text
    Action action = Action::Throttle;
    std::chrono::seconds duration{300};
    int line = 0;  // where the rule is written, for the log
};
const char* actionName(ReplyRule::Action a);

// The site an MX host belongs to: a named site, or (no suffix matches) the host alone.
struct Site {
    std::string name;  // the rule's name, or the host name itself
    SiteLimits limits;
};

struct ShapingRules {
    SiteLimits defaults;
    std::vector<SiteRule> sites;
    std::vector<ReplyRule> replyRules;

    // The longest matching suffix wins; a suffix that starts with '.' matches host names that
    // end with it, any other matches that exact host name. Case-insensitive, trailing dot
    // ignored.
    Site siteFor(std::string_view mxHost) const;
    // The first rule, in file order, whose site, code and text all match `reply`.
    const ReplyRule* matchReply(std::string_view site, const SmtpReply& reply) const;
};

// Parses rules written in `source` (a file name, for error messages: "<source>:<line>: ...").
Result<ShapingRules, std::string> parseShapingRules(std::string_view text,
                                                    const std::string& source);
// Reads and parses a file, refusing one larger than kMaxShapingFileBytes.
Result<ShapingRules, std::string> loadShapingRules(const std::string& path);
// config/shaping.toml as it was when the binary was built.
std::string_view builtInShapingText();
Result<ShapingRules, std::string> builtInShapingRules();

// "2h", "30m", "45s", "1d" or a bare number of seconds; at most kMaxShapingDuration.
Result<std::chrono::seconds, std::string> parseShapingDuration(std::string_view text);

}  // namespace sc::delivery::smtp
