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
        std::string where = "[[sms_route]] #" + std::to_string(i + 1);
        if (!t) return fail(where + " is not a table");
        SmsRouteConfig r;
        std::string error;
        auto text = [&](const char* key, std::string& out, size_t max) {
            const toml::node* n = t->get(key);
            if (!n || !error.empty()) return;
            auto v = n->value<std::string>();
            if (!v || v->size() > max) {
                error = where + ": " + key + " must be a string of at most " + std::to_string(max) +
                        " bytes";
                return;
            }
            out = *v;
        };
        auto integer = [&](const char* key, int& out, int min, int max) {
            const toml::node* n = t->get(key);
            if (!n || !error.empty()) return;
            auto v = n->value<int64_t>();
            if (!v || *v < min || *v > max) {
                error = where + ": " + key + " must be an integer in " + std::to_string(min) +
                        ".." + std::to_string(max);
                return;
            }
            out = static_cast<int>(*v);
        };
        auto duration = [&](const char* key, std::optional<std::chrono::milliseconds>& out,
                            std::chrono::milliseconds min, std::chrono::milliseconds max) {
            const toml::node* n = t->get(key);
            if (!n || !error.empty()) return;
            auto v = n->value<std::string>();
            auto d = v && v->size() <= 16 ? parseRouteDuration(*v) : std::nullopt;
            if (!d || *d < min || *d > max) {
                error = where + ": " + key +
                        " must be a duration such as \"10s\" (ms, s, m or h) in " +
                        durationName(min) + ".." + durationName(max);
                return;
            }
            out = *d;
        };
        for (const auto& [key, value] : *t) {
            static const std::set<std::string_view> known = {
                "name",         "connector",       "host",         "port",     "system_id",
                "system_type",  "password_file",   "window",       "rate",     "source_addr",
                "prefixes",     "default",         "url",          "username", "auth_header_file",
                "dlr_base_url", "reconnect_delay", "reconnect_max"};
            if (!known.contains(key.str())) {
                return fail(where + ": unknown key '" + std::string(key.str()) + "'");
            }
            (void)value;
        }
        text("name", r.name, 32);
        if (error.empty() && !validName(r.name)) {
            error = where + ": name must be 1..32 of a-z, 0-9, '_' or '-'";
        }
        if (error.empty()) where = "sms_route '" + r.name + "'";
        std::string connector;
        text("connector", connector, 16);
        if (error.empty()) {
            if (connector == "smpp")
                r.connector = SmsRouteConfig::Connector::Smpp;
            else if (connector == "kannel")
                r.connector = SmsRouteConfig::Connector::Kannel;
            else if (connector == "http")
                r.connector = SmsRouteConfig::Connector::Http;
            else if (connector == "sandbox")
                r.connector = SmsRouteConfig::Connector::Sandbox;
            else
                error = where + ": connector must be smpp, kannel, http or sandbox";
        }
        text("host", r.host, 253);
        integer("port", r.port, 1, 65535);
        text("system_id", r.systemId, 15);
        text("system_type", r.systemType, 12);
        text("password_file", r.passwordFile, 4096);
        integer("window", r.window, 1, 1000);
        duration("reconnect_delay", r.reconnectDelay, kMinReconnectDelay, kMaxReconnectDelay);
        duration("reconnect_max", r.reconnectMax, kMinReconnectDelay, kMaxReconnectMax);
        if (error.empty() && r.reconnectDelay && r.reconnectMax &&
            *r.reconnectMax < *r.reconnectDelay) {
            error = where + ": reconnect_max must be at least reconnect_delay";
        }
        if (const toml::node* n = t->get("rate"); n && error.empty()) {
            auto v = n->value<double>();
            if (!v || !(*v >= 0 && *v <= 1e6))
                error = where + ": rate must be a number in 0..1000000";
            else
                r.rate = *v;
        }
        text("source_addr", r.sourceAddr, 20);
        text("url", r.url, 2048);
        text("username", r.username, 256);
        text("auth_header_file", r.authHeaderFile, 4096);
        text("dlr_base_url", r.dlrBaseUrl, 2048);
        if (const toml::node* n = t->get("default"); n && error.empty()) {
            auto v = n->value<bool>();
            if (!v)
                error = where + ": default must be true or false";
            else
                r.isDefault = *v;
        }
        if (const toml::node* n = t->get("prefixes"); n && error.empty()) {
            const toml::array* p = n->as_array();
            if (!p || p->size() > 1000) error = where + ": prefixes must be a list of at most 1000";
            for (size_t j = 0; p && j < p->size() && error.empty(); ++j) {
                auto v = (*p)[j].value<std::string>();
                if (!v || !validPrefix(*v)) {
                    error = where + ": prefix #" + std::to_string(j + 1) +
                            " must be '+' and 1..15 digits";
                } else {
                    r.prefixes.push_back(*v);
                }
            }
        }
        if (!error.empty()) return fail(error);
        if (connector.empty()) return fail(where + ": connector is required");
        using C = SmsRouteConfig::Connector;
        if (r.connector == C::Smpp && (r.host.empty() || r.systemId.empty())) {
            return fail(where + ": an smpp route needs host and system_id");
        }
        if ((r.connector == C::Kannel || r.connector == C::Http) && r.url.empty()) {
            return fail(where + ": a " + connectorName(r.connector) + " route needs url");
        }
        if (r.connector == C::Kannel && (r.username.empty() || r.passwordFile.empty())) {
            return fail(where + ": a kannel route needs username and password_file");
        }
        if (!names.insert(r.name).second) return fail(where + ": a second route of that name");
        routes.push_back(std::move(r));
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
