#include "common/sms_routes_toml.h"

#include <algorithm>
#include <set>

namespace sc {
namespace {

bool validName(std::string_view n) {
    return !n.empty() && n.size() <= 32 && std::all_of(n.begin(), n.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
}

bool validPrefix(std::string_view p) {
    return p.size() >= 2 && p.size() <= 16 && p[0] == '+' &&
           std::all_of(p.begin() + 1, p.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string durationName(std::chrono::milliseconds d) {
    const int64_t ms = d.count();
    if (ms % 3600000 == 0) return std::to_string(ms / 3600000) + "h";
    if (ms % 60000 == 0) return std::to_string(ms / 60000) + "m";
    if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
    return std::to_string(ms) + "ms";
}

}  // namespace

std::optional<std::chrono::milliseconds> parseRouteDuration(std::string_view text) {
    size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    // Nine digits keep every unit's product inside int64.
    if (digits == 0 || digits > 9) return std::nullopt;
    int64_t n = 0;
    for (size_t i = 0; i < digits; ++i) n = n * 10 + (text[i] - '0');
    const std::string_view unit = text.substr(digits);
    if (unit == "ms") return std::chrono::milliseconds(n);
    if (unit == "s") return std::chrono::milliseconds(n * 1000);
    if (unit == "m") return std::chrono::milliseconds(n * 60000);
    if (unit == "h") return std::chrono::milliseconds(n * 3600000);
    return std::nullopt;
}

const char* connectorName(SmsRouteConfig::Connector c) {
    switch (c) {
        case SmsRouteConfig::Connector::Smpp:
            return "smpp";
        case SmsRouteConfig::Connector::Kannel:
            return "kannel";
        case SmsRouteConfig::Connector::Http:
            return "http";
        case SmsRouteConfig::Connector::Sandbox:
            return "sandbox";
    }
    return "?";
}

namespace {

// Reads one [[sms_route]] table's values into a route, each with its bounds. The first problem
// is kept (later reads do nothing) and named with `where`: the table's number, then its name
// once that is known.
class RouteReader {
public:
    RouteReader(const toml::table& table, size_t index)
        : table_(table), where_("[[sms_route]] #" + std::to_string(index + 1)) {}

    const std::string& where() const { return where_; }
    const std::string& error() const { return error_; }
    bool ok() const { return error_.empty(); }
    void refuse(const std::string& what) {
        if (ok()) error_ = where_ + ": " + what;
    }
    void nameIt(const std::string& name) {
        if (ok()) where_ = "sms_route '" + name + "'";
    }

    void text(const char* key, std::string& out, size_t max) {
        const toml::node* n = present(key);
        if (!n) return;
        auto v = n->value<std::string>();
        if (!v || v->size() > max) {
            refuse(std::string(key) + " must be a string of at most " + std::to_string(max) +
                   " bytes");
            return;
        }
        out = *v;
    }

    void integer(const char* key, int& out, int min, int max) {
        const toml::node* n = present(key);
        if (!n) return;
        auto v = n->value<int64_t>();
        if (!v || *v < min || *v > max) {
            refuse(std::string(key) + " must be an integer in " + std::to_string(min) + ".." +
                   std::to_string(max));
            return;
        }
        out = static_cast<int>(*v);
    }

    void duration(const char* key, std::optional<std::chrono::milliseconds>& out,
                  std::chrono::milliseconds min, std::chrono::milliseconds max) {
        const toml::node* n = present(key);
        if (!n) return;
        auto v = n->value<std::string>();
        auto d = v && v->size() <= 16 ? parseRouteDuration(*v) : std::nullopt;
        if (!d || *d < min || *d > max) {
            refuse(std::string(key) + " must be a duration such as \"10s\" (ms, s, m or h) in " +
                   durationName(min) + ".." + durationName(max));
            return;
        }
        out = *d;
    }

    void rate(double& out) {
        const toml::node* n = present("rate");
        if (!n) return;
        auto v = n->value<double>();
        if (!v || !(*v >= 0 && *v <= 1e6)) {
            refuse("rate must be a number in 0..1000000");
            return;
        }
        out = *v;
    }

    void boolean(const char* key, bool& out) {
        const toml::node* n = present(key);
        if (!n) return;
        auto v = n->value<bool>();
        if (!v) {
            refuse(std::string(key) + " must be true or false");
            return;
        }
        out = *v;
    }

    void prefixes(std::vector<std::string>& out) {
        const toml::node* n = present("prefixes");
        if (!n) return;
        const toml::array* p = n->as_array();
        if (!p || p->size() > 1000) refuse("prefixes must be a list of at most 1000");
        for (size_t j = 0; p && j < p->size() && ok(); ++j) {
            auto v = (*p)[j].value<std::string>();
            if (!v || !validPrefix(*v)) {
                refuse("prefix #" + std::to_string(j + 1) + " must be '+' and 1..15 digits");
            } else {
                out.push_back(*v);
            }
        }
    }

private:
    // The key's node when it is set and nothing has failed yet.
    const toml::node* present(const char* key) const { return ok() ? table_.get(key) : nullptr; }

    const toml::table& table_;
    std::string where_;
    std::string error_;
};

// The first key that no route has, or nullopt.
std::optional<std::string> unknownKeyOf(const toml::table& t) {
    static const std::set<std::string_view> known = {
        "name",         "connector",       "host",         "port",     "system_id",
        "system_type",  "password_file",   "window",       "rate",     "source_addr",
        "prefixes",     "default",         "url",          "username", "auth_header_file",
        "dlr_base_url", "reconnect_delay", "reconnect_max"};
    for (const auto& [key, value] : t) {
        (void)value;
        if (!known.contains(key.str())) return std::string(key.str());
    }
    return std::nullopt;
}

std::optional<SmsRouteConfig::Connector> connectorNamed(std::string_view name) {
    for (auto c : {SmsRouteConfig::Connector::Smpp, SmsRouteConfig::Connector::Kannel,
                   SmsRouteConfig::Connector::Http, SmsRouteConfig::Connector::Sandbox}) {
        if (name == connectorName(c)) return c;
    }
    return std::nullopt;
}

// What each connector cannot work without; empty when the route has it.
std::string missingForConnector(const SmsRouteConfig& r) {
    using C = SmsRouteConfig::Connector;
    if (r.connector == C::Smpp && (r.host.empty() || r.systemId.empty())) {
        return "an smpp route needs host and system_id";
    }
    if ((r.connector == C::Kannel || r.connector == C::Http) && r.url.empty()) {
        return std::string("a ") + connectorName(r.connector) + " route needs url";
    }
    if (r.connector == C::Kannel && (r.username.empty() || r.passwordFile.empty())) {
        return "a kannel route needs username and password_file";
    }
    return "";
}

Result<SmsRouteConfig, std::string> parseRoute(const toml::table& t, size_t index) {
    RouteReader read(t, index);
    if (auto unknown = unknownKeyOf(t)) {
        return fail(read.where() + ": unknown key '" + *unknown + "'");
    }
    SmsRouteConfig r;
    read.text("name", r.name, 32);
    if (read.ok() && !validName(r.name)) read.refuse("name must be 1..32 of a-z, 0-9, '_' or '-'");
    read.nameIt(r.name);
    std::string connector;
    read.text("connector", connector, 16);
    if (read.ok()) {
        if (auto c = connectorNamed(connector)) {
            r.connector = *c;
        } else {
            read.refuse("connector must be smpp, kannel, http or sandbox");
        }
    }
    read.text("host", r.host, 253);
    read.integer("port", r.port, 1, 65535);
    read.text("system_id", r.systemId, 15);
    read.text("system_type", r.systemType, 12);
    read.text("password_file", r.passwordFile, 4096);
    read.integer("window", r.window, 1, 1000);
    read.duration("reconnect_delay", r.reconnectDelay, kMinReconnectDelay, kMaxReconnectDelay);
    read.duration("reconnect_max", r.reconnectMax, kMinReconnectDelay, kMaxReconnectMax);
    if (r.reconnectDelay && r.reconnectMax && *r.reconnectMax < *r.reconnectDelay) {
        read.refuse("reconnect_max must be at least reconnect_delay");
    }
    read.rate(r.rate);
    read.text("source_addr", r.sourceAddr, 20);
    read.text("url", r.url, 2048);
    read.text("username", r.username, 256);
    read.text("auth_header_file", r.authHeaderFile, 4096);
    read.text("dlr_base_url", r.dlrBaseUrl, 2048);
    read.boolean("default", r.isDefault);
    read.prefixes(r.prefixes);
    if (!read.ok()) return fail(read.error());
    if (connector.empty()) return fail(read.where() + ": connector is required");
    if (auto missing = missingForConnector(r); !missing.empty()) {
        return fail(read.where() + ": " + missing);
    }
    return r;
}

}  // namespace

Result<std::vector<SmsRouteConfig>, std::string> parseSmsRoutes(const toml::node& node) {
    const toml::array* array = node.as_array();
    if (!array) return fail(std::string("sms_route must be written as [[sms_route]] tables"));
    if (array->size() > kMaxSmsRoutes) {
        return fail("at most " + std::to_string(kMaxSmsRoutes) + " [[sms_route]] tables");
    }
    std::vector<SmsRouteConfig> routes;
    std::set<std::string> names;
    for (size_t i = 0; i < array->size(); ++i) {
        const toml::table* t = (*array)[i].as_table();
        if (!t) return fail("[[sms_route]] #" + std::to_string(i + 1) + " is not a table");
        auto route = parseRoute(*t, i);
        if (!route) return fail(route.error());
        if (!names.insert(route->name).second) {
            return fail("sms_route '" + route->name + "': a second route of that name");
        }
        routes.push_back(std::move(*route));
    }
    return routes;
}

Result<std::vector<SmsRouteConfig>, std::string> parseSmsRoutesToml(std::string_view text) {
    toml::table table;
    try {
        table = toml::parse(text);
    } catch (const toml::parse_error& e) {
        return fail(std::string(e.description()));
    }
    const toml::node* node = table.get("sms_route");
    if (!node) return std::vector<SmsRouteConfig>{};
    return parseSmsRoutes(*node);
}

}  // namespace sc
