#include "delivery/smtp/traffic_shaping.h"

#include <toml++/toml.h>

#include <algorithm>
#include <fstream>
#include <set>

namespace sc::delivery::smtp {

extern const char kBuiltInShapingToml[];  // shaping_builtin.cpp, generated from the shipped file

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

bool validName(std::string_view n) {
    return !n.empty() && n.size() <= 64 && std::all_of(n.begin(), n.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
    });
}

bool validSuffix(std::string_view s) {
    return !s.empty() && s.size() <= kMaxShapingTextBytes && s != "." &&
           std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
           });
}

// Reads one table's keys with errors that name the source, the line and the key.
class TableReader {
public:
    TableReader(const toml::table& t, const std::string& source, std::string what)
        : table_(t), source_(source), what_(std::move(what)) {}

    std::string at(const toml::node& n) const {
        return source_ + ":" + std::to_string(n.source().begin.line) + ": ";
    }
    std::string here() const { return at(table_); }
    int line() const { return static_cast<int>(table_.source().begin.line); }

    Status<> onlyKeys(const std::set<std::string_view>& known) const {
        for (const auto& [key, value] : table_) {
            if (!known.contains(key.str()))
                return fail(at(value) + what_ + ": unknown key '" +
                            std::string(key.str().substr(0, 64)) + "'");
        }
        return Ok{};
    }

    Result<std::optional<std::string>, std::string> text(const char* key) const {
        const toml::node* n = table_.get(key);
        if (!n) return std::optional<std::string>();
        auto v = n->value<std::string>();
        if (!v || v->size() > kMaxShapingTextBytes)
            return fail(at(*n) + what_ + ": " + key + " must be a string of at most " +
                        std::to_string(kMaxShapingTextBytes) + " bytes");
        return std::optional<std::string>(*v);
    }

    Result<std::optional<int>, std::string> integer(const char* key, int min, int max) const {
        const toml::node* n = table_.get(key);
        if (!n) return std::optional<int>();
        auto v = n->value<int64_t>();
        if (!n->is_integer() || !v || *v < min || *v > max)
            return fail(at(*n) + what_ + ": " + key + " must be an integer in " +
                        std::to_string(min) + ".." + std::to_string(max));
        return std::optional<int>(static_cast<int>(*v));
    }

    Status<> limits(SiteLimits& l) const {
        auto c = integer("connections", 1, 10000);
        if (!c) return fail(c.error());
        if (*c) l.connections = **c;
        auto m = integer("messages_per_connection", 1, 100000);
        if (!m) return fail(m.error());
        if (*m) l.messagesPerConnection = **m;
        auto r = integer("messages_per_minute", 0, 10000000);
        if (!r) return fail(r.error());
        if (*r) l.messagesPerMinute = **r;
        return Ok{};
    }

    const toml::table& table() const { return table_; }

private:
    const toml::table& table_;
    const std::string& source_;
    std::string what_;
};

// `node` must be an array of tables ([[name]]); returns them, or an error at `node`.
Result<std::vector<const toml::table*>, std::string> tablesOf(const toml::node& node,
                                                              const std::string& source,
                                                              const std::string& name,
                                                              std::size_t max) {
    const toml::array* array = node.as_array();
    const std::string at = source + ":" + std::to_string(node.source().begin.line) + ": ";
    if (!array) return fail(at + name + " must be written as [[" + name + "]] tables");
    if (array->size() > max)
        return fail(at + "at most " + std::to_string(max) + " [[" + name + "]] tables");
    std::vector<const toml::table*> out;
    for (const auto& item : *array) {
        const toml::table* t = item.as_table();
        if (!t) return fail(at + name + " must be written as [[" + name + "]] tables");
        out.push_back(t);
    }
    return out;
}

bool suffixMatches(std::string_view host, std::string_view suffix) {
    if (suffix.front() == '.') return host.size() > suffix.size() && host.ends_with(suffix);
    return host == suffix;
}

}  // namespace

const char* actionName(ReplyRule::Action a) {
    return a == ReplyRule::Action::Suspend ? "suspend" : "throttle";
}

Result<std::chrono::seconds, std::string> parseShapingDuration(std::string_view text) {
    if (text.empty() || text.size() > 12) return fail(std::string("expected a duration like 2h"));
    std::size_t i = 0;
    int64_t value = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
        value = value * 10 + (text[i] - '0');
        ++i;
    }
    if (i == 0) return fail(std::string("expected a duration like 2h"));
    int64_t unit = 1;
    std::string_view rest = text.substr(i);
    if (rest == "" || rest == "s")
        unit = 1;
    else if (rest == "m")
        unit = 60;
    else if (rest == "h")
        unit = 3600;
    else if (rest == "d")
        unit = 86400;
    else
        return fail("unknown unit '" + std::string(rest) + "' (s, m, h or d)");
    // 12 characters hold at most 11 digits: no overflow before this check.
    if (value <= 0 || value > kMaxShapingDuration.count() / unit)
        return fail(std::string("the duration must be more than 0 and at most 7d"));
    return std::chrono::seconds(value * unit);
}

Site ShapingRules::siteFor(std::string_view mxHost) const {
    std::string host = lower(mxHost);
    while (!host.empty() && host.back() == '.') host.pop_back();
    const SiteRule* best = nullptr;
    std::size_t bestLength = 0;
    for (const auto& s : sites) {
        for (const auto& suffix : s.mxSuffixes) {
            if (suffix.size() > bestLength && suffixMatches(host, suffix)) {
                best = &s;
                bestLength = suffix.size();
            }
        }
    }
    if (best) return Site{best->name, best->limits};
    return Site{host, defaults};
}

const ReplyRule* ShapingRules::matchReply(std::string_view site, const SmtpReply& reply) const {
    if (replyRules.empty()) return nullptr;
    const std::string text = lower(reply.text());
    for (const auto& r : replyRules) {
        if (!r.site.empty() && r.site != site) continue;
        if (r.code != 0 && r.code != reply.code) continue;
        if (!r.text.empty() && text.find(r.text) == std::string::npos) continue;
        return &r;
    }
    return nullptr;
}

namespace {

// One [[site]] table. `names` and `suffixes` are those of the sites read before it: a name or a
// suffix may belong to one site only.
Result<SiteRule, std::string> parseSite(const toml::table& t, const std::string& source,
                                        const SiteLimits& defaults, std::set<std::string>& names,
                                        std::set<std::string>& suffixes) {
    TableReader r(t, source, "[[site]]");
    if (auto ok = r.onlyKeys({"name", "mx_suffixes", "connections", "messages_per_connection",
                              "messages_per_minute"});
        !ok)
        return fail(ok.error());
    SiteRule site;
    site.limits = defaults;
    auto name = r.text("name");
    if (!name) return fail(name.error());
    if (!*name || !validName(**name))
        return fail(r.here() + "[[site]]: name is required: a-z, 0-9, '.', '_' or '-', at most 64");
    site.name = **name;
    if (!names.insert(site.name).second)
        return fail(r.here() + "[[site]]: name '" + site.name + "' is used twice");
    const toml::node* list = t.get("mx_suffixes");
    const toml::array* array = list ? list->as_array() : nullptr;
    if (!array || array->empty() || array->size() > kMaxSuffixesPerSite)
        return fail((list ? r.at(*list) : r.here()) + "[[site]] " + site.name +
                    ": mx_suffixes must be a list of 1.." + std::to_string(kMaxSuffixesPerSite) +
                    " host name suffixes");
    for (const auto& item : *array) {
        auto v = item.value<std::string>();
        std::string suffix = v ? lower(*v) : std::string();
        if (!v || !validSuffix(suffix))
            return fail(r.at(item) + "[[site]] " + site.name +
                        ": mx_suffixes holds host names or '.suffixes' (a-z, 0-9, '-', '.')");
        if (!suffixes.insert(suffix).second)
            return fail(r.at(item) + "[[site]] " + site.name + ": suffix '" + suffix +
                        "' belongs to two sites");
        site.mxSuffixes.push_back(std::move(suffix));
    }
    if (auto ok = r.limits(site.limits); !ok) return fail(ok.error());
    return site;
}

// A reply rule's duration: a string like "2h" or a number of seconds.
Result<std::chrono::seconds, std::string> ruleDuration(const TableReader& r, const toml::table& t) {
    const toml::node* d = t.get("duration");
    if (!d) return fail(r.here() + "[[reply_rule]]: duration is required (e.g. \"2h\")");
    Result<std::chrono::seconds, std::string> duration =
        fail(std::string("must be a string like \"2h\" or a number of seconds"));
    if (auto s = d->value<std::string>(); s && d->is_string())
        duration = parseShapingDuration(*s);
    else if (auto n = d->value<int64_t>(); n && d->is_integer())
        duration = parseShapingDuration(std::to_string(*n));
    if (!duration) return fail(r.at(*d) + "[[reply_rule]]: duration: " + duration.error());
    return duration;
}

// One [[reply_rule]] table; `names` are the sites of the file, the only ones it may name.
Result<ReplyRule, std::string> parseReplyRule(const toml::table& t, const std::string& source,
                                              const std::set<std::string>& names) {
    TableReader r(t, source, "[[reply_rule]]");
    if (auto ok = r.onlyKeys({"site", "code", "text", "action", "duration"}); !ok)
        return fail(ok.error());
    ReplyRule rule;
    rule.line = r.line();
    auto site = r.text("site");
    if (!site) return fail(site.error());
    if (*site) {
        if (!names.contains(**site))
            return fail(r.here() + "[[reply_rule]]: site '" + (*site)->substr(0, 64) +
                        "' is not a [[site]] of this file");
        rule.site = **site;
    }
    auto code = r.integer("code", 200, 599);
    if (!code) return fail(code.error());
    if (*code) rule.code = **code;
    auto text = r.text("text");
    if (!text) return fail(text.error());
    if (*text) rule.text = lower(**text);
    if (rule.code == 0 && rule.text.empty())
        return fail(r.here() + "[[reply_rule]]: needs a code, a text or both");
    auto action = r.text("action");
    if (!action) return fail(action.error());
    if (*action && **action == "suspend")
        rule.action = ReplyRule::Action::Suspend;
    else if (*action && **action == "throttle")
        rule.action = ReplyRule::Action::Throttle;
    else
        return fail(r.here() + "[[reply_rule]]: action must be \"throttle\" or \"suspend\"");
    auto duration = ruleDuration(r, t);
    if (!duration) return fail(duration.error());
    rule.duration = *duration;
    return rule;
}

}  // namespace

Result<ShapingRules, std::string> parseShapingRules(std::string_view text,
                                                    const std::string& source) {
    if (text.size() > kMaxShapingFileBytes)
        return fail(source + ": larger than " + std::to_string(kMaxShapingFileBytes) + " bytes");
    toml::table root;
    try {
        root = toml::parse(text, source);
    } catch (const toml::parse_error& e) {
        return fail(source + ":" + std::to_string(e.source().begin.line) + ": " +
                    std::string(e.description()));
    }
    ShapingRules rules;
    const toml::node* siteNode = nullptr;
    const toml::node* ruleNode = nullptr;
    for (const auto& [key, value] : root) {
        const std::string at = source + ":" + std::to_string(value.source().begin.line) + ": ";
        if (key.str() == "default") {
            const toml::table* t = value.as_table();
            if (!t) return fail(at + "default must be a [default] table");
            TableReader r(*t, source, "[default]");
            if (auto ok =
                    r.onlyKeys({"connections", "messages_per_connection", "messages_per_minute"});
                !ok)
                return fail(ok.error());
            if (auto ok = r.limits(rules.defaults); !ok) return fail(ok.error());
        } else if (key.str() == "site") {
            siteNode = &value;
        } else if (key.str() == "reply_rule") {
            ruleNode = &value;
        } else {
            return fail(at + "unknown key '" + std::string(key.str().substr(0, 64)) +
                        "' (expected [default], [[site]] or [[reply_rule]])");
        }
    }
    // Sites after [default] (whatever the order in the file): a site starts from the defaults.
    std::set<std::string> names;
    std::set<std::string> suffixes;
    if (siteNode) {
        auto tables = tablesOf(*siteNode, source, "site", kMaxShapingSites);
        if (!tables) return fail(tables.error());
        for (const toml::table* t : *tables) {
            auto site = parseSite(*t, source, rules.defaults, names, suffixes);
            if (!site) return fail(site.error());
            rules.sites.push_back(std::move(site).value());
        }
    }
    if (ruleNode) {
        auto tables = tablesOf(*ruleNode, source, "reply_rule", kMaxReplyRules);
        if (!tables) return fail(tables.error());
        for (const toml::table* t : *tables) {
            auto rule = parseReplyRule(*t, source, names);
            if (!rule) return fail(rule.error());
            rules.replyRules.push_back(std::move(rule).value());
        }
    }
    return rules;
}

Result<ShapingRules, std::string> loadShapingRules(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail("cannot read " + path);
    std::string text(kMaxShapingFileBytes + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (in.bad()) return fail("cannot read " + path);
    return parseShapingRules(text, path);
}

std::string_view builtInShapingText() {
    return kBuiltInShapingToml;
}

Result<ShapingRules, std::string> builtInShapingRules() {
    return parseShapingRules(builtInShapingText(), "built-in shaping.toml");
}

}  // namespace sc::delivery::smtp
