#include "common/config.h"
#include "common/sms_routes_toml.h"

#include <toml++/toml.h>
#include <CLI/CLI.hpp>

#include <cctype>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string_view>

namespace sc {

std::string Settings::secretFilePath() const {
    return serverSecretFile.empty() ? dataDir + "/server.secret" : serverSecretFile;
}

std::string Settings::databasePath() const {
    return dataDir + "/sendcloud.db";
}

namespace {

using Setter = std::function<Status<std::string>(Settings&, const std::string&)>;

struct SettingDef {
    std::string key;  // TOML key; flag is --key-with-dashes; env is SENDCLOUD_KEY
    std::string help;
    std::string defaultText;
    Setter set;
};

Status<std::string> parseInt(const std::string& text, int64_t min, int64_t& out) {
    if (text.empty()) return fail(std::string("expected a number"));
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(text.c_str(), &end, 10);
    if (errno != 0 || *end != '\0') return fail("'" + text + "' is not a whole number");
    if (v < min) return fail("must be at least " + std::to_string(min));
    out = v;
    return Ok{};
}

Status<std::string> parseBool(const std::string& text, bool& out) {
    std::string t;
    for (char c : text) t.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    if (t == "true" || t == "1" || t == "yes" || t == "on") {
        out = true;
        return Ok{};
    }
    if (t == "false" || t == "0" || t == "no" || t == "off") {
        out = false;
        return Ok{};
    }
    return fail("'" + text + "' is not a boolean (true/false)");
}

SettingDef intSetting(std::string key, std::string help, int64_t Settings::*field, int64_t min) {
    Settings defaults;
    return {key, std::move(help), std::to_string(defaults.*field),
            [field, min](Settings& s, const std::string& v) { return parseInt(v, min, s.*field); }};
}

SettingDef stringSetting(std::string key, std::string help, std::string Settings::*field) {
    Settings defaults;
    return {key, std::move(help), defaults.*field, [field](Settings& s, const std::string& v) {
                s.*field = v;
                return Status<std::string>(Ok{});
            }};
}

SettingDef boolSetting(std::string key, std::string help, bool Settings::*field) {
    Settings defaults;
    return {key, std::move(help), (defaults.*field) ? "true" : "false",
            [field](Settings& s, const std::string& v) { return parseBool(v, s.*field); }};
}

// Every setting: its key, help and default, in the order --help lists them. Over 80 lines because
// it is one table, one row a setting; split into parts, a reader would look in several places for
// the one list of what can be set.
const std::vector<SettingDef>& settingDefs() {
    static const std::vector<SettingDef> defs = [] {
        std::vector<SettingDef> d;
        d.push_back(stringSetting("listen", "HOST:PORT to listen on (port 0 picks a free port)",
                                  &Settings::listen));
        d.push_back(stringSetting("tls_listen",
                                  "HOST:PORT for HTTPS (needs tls_cert and tls_key; empty: none)",
                                  &Settings::tlsListen));
        d.push_back(stringSetting("tls_cert",
                                  "PEM certificate chain for tls_listen (re-read on SIGHUP)",
                                  &Settings::tlsCert));
        d.push_back(stringSetting("tls_key", "PEM private key for tls_listen (re-read on SIGHUP)",
                                  &Settings::tlsKey));
        d.push_back(stringSetting("trusted_proxies",
                                  "CIDR,... of reverse proxies whose X-Forwarded-For and "
                                  "X-Forwarded-Proto are believed (empty: nobody's)",
                                  &Settings::trustedProxies));
        d.push_back(stringSetting(
            "data_dir", "folder for the database, the server secret and everything else written",
            &Settings::dataDir));
        d.push_back({"io_threads", "I/O threads (0: one per core)", "0",
                     [](Settings& s, const std::string& v) -> Status<std::string> {
                         int64_t n = 0;
                         auto r = parseInt(v, 0, n);
                         if (!r) return r;
                         if (n > 256) return fail(std::string("must be at most 256"));
                         s.ioThreads = static_cast<int>(n);
                         return Ok{};
                     }});
        d.push_back(intSetting("max_connections", "open connections at most; more get 503",
                               &Settings::maxConnections, 1));
        d.push_back(intSetting("max_connections_per_client",
                               "open connections from one client address at most (loopback "
                               "exempt; 0: no cap); more get 503",
                               &Settings::maxConnectionsPerClient, 0));
        d.push_back(intSetting("max_buffered_body_bytes",
                               "request bodies held in memory at once, all clients together (0: "
                               "no budget; at least max_body_bytes); past it 503 server.busy",
                               &Settings::maxBufferedBodyBytes, 0));
        d.push_back(intSetting("max_header_bytes", "request header size limit (431 beyond)",
                               &Settings::maxHeaderBytes, 1024));
        d.push_back(intSetting("max_body_bytes", "request body size limit (413 beyond)",
                               &Settings::maxBodyBytes, 1024));
        d.push_back(intSetting("header_timeout_ms", "time allowed to receive a request's header",
                               &Settings::headerTimeoutMs, 1));
        d.push_back(intSetting("body_timeout_ms", "time allowed to receive a request's body",
                               &Settings::bodyTimeoutMs, 1));
        d.push_back(intSetting("idle_timeout_ms", "keep-alive connections idle longer are closed",
                               &Settings::idleTimeoutMs, 1));
        d.push_back(intSetting("max_requests_per_connection",
                               "then the connection closes (0: no cap)",
                               &Settings::maxRequestsPerConnection, 0));
        d.push_back(intSetting("drain_timeout_ms",
                               "on SIGTERM, how long in-flight requests may take to finish",
                               &Settings::drainTimeoutMs, 0));
        d.push_back(intSetting("max_recipients", "recipients per email or SMS request",
                               &Settings::maxRecipients, 1));
        d.push_back(intSetting("max_content_bytes",
                               "email html+plain together, and attachments together, at most",
                               &Settings::maxContentBytes, 1024));
        d.push_back(stringSetting("phone_validation", "valid | possible | syntax",
                                  &Settings::phoneValidation));
        d.push_back(
            stringSetting("server_secret_file",
                          "file holding the server secret (default <data_dir>/server.secret)",
                          &Settings::serverSecretFile));
        d.push_back(stringSetting("hostname", "host name used in message ids (default: this host)",
                                  &Settings::hostname));
        d.push_back(
            stringSetting("log_level", "trace | debug | info | warn | error", &Settings::logLevel));
        d.push_back(boolSetting("access_log", "one log line per request", &Settings::accessLog));
        d.push_back(boolSetting("demo", "on first start, create a demo account and print its keys",
                                &Settings::demo));
        d.push_back(intSetting("email_key_grace", "seconds an API_KEY stays valid after a reset",
                               &Settings::emailKeyGrace, 0));
        d.push_back(intSetting("lockout_ip_failures",
                               "failed authentications per window that lock a client IP (0: off)",
                               &Settings::lockoutIpFailures, 0));
        d.push_back(intSetting("lockout_user_failures",
                               "failed authentications per window that lock a user name (0: off)",
                               &Settings::lockoutUserFailures, 0));
        d.push_back(intSetting("auth_failure_log_per_second",
                               "authentication failures written to the log per second; the rest "
                               "are counted (all are in the authentication log; 0: no cap)",
                               &Settings::authFailureLogPerSecond, 0));
        d.push_back(intSetting("lockout_window", "seconds over which failures are counted",
                               &Settings::lockoutWindow, 1));
        d.push_back(
            intSetting("lockout_duration", "seconds a lock lasts", &Settings::lockoutDuration, 1));
        d.push_back(intSetting("audit_retention_days",
                               "authentication events older than this are pruned",
                               &Settings::auditRetentionDays, 1));
        d.push_back(intSetting("message_retention_days",
                               "message bodies (content, attachments) older than this are "
                               "pruned once delivered; the message, its recipients, attempts "
                               "and events stay",
                               &Settings::messageRetentionDays, 1));
        d.push_back(intSetting("usage_retention_days",
                               "hourly usage rows older than this are pruned",
                               &Settings::usageRetentionDays, 1));
        d.push_back(intSetting("retention_interval", "seconds between retention runs",
                               &Settings::retentionInterval, 1));
        d.push_back(intSetting("session_ttl", "seconds a console session lasts",
                               &Settings::sessionTtl, 60));
        d.push_back(boolSetting("secure_cookies",
                                "mark console cookies Secure (set when TLS terminates in front; "
                                "always on with tls_listen)",
                                &Settings::secureCookies));
        d.push_back(boolSetting("metrics",
                                "serve GET /metrics (Prometheus; unauthenticated: firewall it)",
                                &Settings::metrics));
        d.push_back(boolSetting("delivery", "off: accept and queue only (an API-only node)",
                                &Settings::delivery));
        d.push_back(intSetting("retry_first", "seconds before the first retry of a deferral",
                               &Settings::retryFirst, 1));
        d.push_back(intSetting("retry_max", "the retry delay doubles up to this many seconds",
                               &Settings::retryMax, 1));
        d.push_back(intSetting("queue_lifetime",
                               "seconds a recipient may stay deferred before it expires",
                               &Settings::queueLifetime, 1));
        d.push_back(intSetting("delivery_max_in_flight",
                               "delivery attempts open at once (all channels together)",
                               &Settings::deliveryMaxInFlight, 1));
        d.push_back({"public_url",
                     "this server's base URL as SMS gateways reach it, for Kannel's delivery "
                     "reports (http[s]://HOST:PORT[/PATH])",
                     "", [](Settings& s, const std::string& v) -> Status<std::string> {
                         if (!v.empty() && !v.starts_with("http://") && !v.starts_with("https://"))
                             return fail("'" + v + "' is not an http:// or https:// URL");
                         if (v.size() > 2048 || v.find_first_of("?# \r\n") != std::string::npos)
                             return fail(
                                 std::string("must be a base URL of at most 2048 "
                                             "characters, without query or fragment"));
                         s.publicUrl = v;
                         return Ok{};
                     }});
        d.push_back(stringSetting("smtp_relay",
                                  "HOST:PORT: hand every email to this relay instead of the MX",
                                  &Settings::smtpRelay));
        d.push_back(
            stringSetting("smtp_relay_user", "AUTH user for the relay", &Settings::smtpRelayUser));
        d.push_back(stringSetting("smtp_relay_password_file",
                                  "file holding the relay's AUTH password",
                                  &Settings::smtpRelayPasswordFile));
        d.push_back(stringSetting("smtp_route",
                                  "DOMAIN=HOST:PORT[,DOMAIN=HOST:PORT]: a smart host per "
                                  "recipient domain",
                                  &Settings::smtpRoute));
        d.push_back(stringSetting("dns_servers",
                                  "HOST:PORT[,HOST:PORT] for MX/A/AAAA look-ups (default: the "
                                  "system resolver)",
                                  &Settings::dnsServers));
        d.push_back(intSetting("smtp_port", "port used for MX hosts", &Settings::smtpPort, 1));
        d.push_back({"smtp_tls", "none | may | encrypt | verify (STARTTLS policy)", "may",
                     [](Settings& s, const std::string& v) -> Status<std::string> {
                         if (v != "none" && v != "may" && v != "encrypt" && v != "verify")
                             return fail("'" + v + "' is not one of none, may, encrypt, verify");
                         s.smtpTls = v;
                         return Ok{};
                     }});
        d.push_back(stringSetting("smtp_ca_file", "extra trust anchors for smtp_tls=verify",
                                  &Settings::smtpCaFile));
        d.push_back(stringSetting("ehlo_name", "name sent in EHLO (default: hostname)",
                                  &Settings::ehloName));
        d.push_back(intSetting("smtp_connections_per_host", "concurrent connections to one host",
                               &Settings::smtpConnectionsPerHost, 1));
        d.push_back(intSetting("smtp_messages_per_connection",
                               "messages per SMTP connection, then QUIT and reconnect",
                               &Settings::smtpMessagesPerConnection, 1));
        d.push_back(stringSetting("smtp_shaping_file",
                                  "traffic shaping rules (TOML: [[site]], [[reply_rule]]) "
                                  "replacing the built-in ones",
                                  &Settings::smtpShapingFile));
        d.push_back(boolSetting("enable_test_controls",
                                "test builds only: let the e2e tests move the server's clock",
                                &Settings::enableTestControls));
        return d;
    }();
    return defs;
}

std::string flagName(const std::string& key) {
    std::string f = "--";
    for (char c : key) f.push_back(c == '_' ? '-' : c);
    return f;
}

std::string envName(const std::string& key) {
    std::string e = "SENDCLOUD_";
    for (char c : key) e.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    return e;
}

std::optional<std::string> tomlValueText(const toml::node& node) {
    if (auto s = node.value<std::string>()) return *s;
    if (node.is_boolean()) return *node.value<bool>() ? "true" : "false";
    if (auto i = node.value<int64_t>()) return std::to_string(*i);
    return std::nullopt;
}

}  // namespace

struct SettingsLoader::Impl {
    std::string configFile;
    std::map<std::string, std::string> flagValues;
    std::map<std::string, CLI::Option*> options;
    CLI::Option* configOption = nullptr;
};

SettingsLoader::SettingsLoader() : impl_(std::make_unique<Impl>()) {}
SettingsLoader::~SettingsLoader() = default;

void SettingsLoader::bindFlags(CLI::App& app) {
    impl_->configOption = app.add_option("--config", impl_->configFile,
                                         "TOML configuration file (env SENDCLOUD_CONFIG)");
    for (const auto& def : settingDefs()) {
        auto* opt = app.add_option(flagName(def.key), impl_->flagValues[def.key],
                                   def.help + " [env " + envName(def.key) + "]");
        opt->default_str(def.defaultText);
        impl_->options[def.key] = opt;
    }
}

Result<Settings, std::string> SettingsLoader::resolve() const {
    Settings s;
    const auto& defs = settingDefs();

    std::string configFile = impl_->configFile;
    if (configFile.empty()) {
        if (const char* env = std::getenv("SENDCLOUD_CONFIG")) configFile = env;
    }
    if (!configFile.empty()) {
        toml::table table;
        try {
            table = toml::parse_file(configFile);
        } catch (const toml::parse_error& e) {
            return fail("cannot read config file " + configFile + ": " +
                        std::string(e.description()));
        }
        for (const auto& [key, node] : table) {
            std::string k(key.str());
            if (k == "sms_route") {
                auto routes = parseSmsRoutes(node);
                if (!routes) return fail(configFile + ": " + routes.error());
                s.smsRoutes = std::move(*routes);
                continue;
            }
            auto it = std::find_if(defs.begin(), defs.end(),
                                   [&](const SettingDef& d) { return d.key == k; });
            if (it == defs.end()) return fail(configFile + ": unknown setting '" + k + "'");
            auto text = tomlValueText(node);
            if (!text) return fail(configFile + ": setting '" + k + "' has an unsupported type");
            if (auto r = it->set(s, *text); !r)
                return fail(configFile + ": " + k + ": " + r.error());
        }
    }
    for (const auto& def : defs) {
        if (const char* env = std::getenv(envName(def.key).c_str())) {
            if (auto r = def.set(s, env); !r) return fail(envName(def.key) + ": " + r.error());
        }
    }
    for (const auto& def : defs) {
        auto opt = impl_->options.find(def.key);
        if (opt == impl_->options.end() || opt->second->count() == 0) continue;
        if (auto r = def.set(s, impl_->flagValues.at(def.key)); !r)
            return fail(flagName(def.key) + ": " + r.error());
    }
    return s;
}

namespace {

// The host part of HOST:PORT ([v6]:PORT too), as written.
std::string_view listenHost(std::string_view listen) {
    if (!listen.empty() && listen.front() == '[') {
        const auto close = listen.find(']');
        return close == std::string_view::npos ? listen : listen.substr(1, close - 1);
    }
    const auto colon = listen.rfind(':');
    return colon == std::string_view::npos ? listen : listen.substr(0, colon);
}

bool isLoopbackHost(std::string_view host) {
    return host == "localhost" || host == "::1" || host.substr(0, 4) == "127.";
}

}  // namespace

std::optional<std::string> exposureWarning(const Settings& settings) {
    std::string_view host = listenHost(settings.listen);
    const bool plainExposed = !isLoopbackHost(host);
    const bool tlsExposed =
        !settings.tlsListen.empty() && !isLoopbackHost(listenHost(settings.tlsListen));
    if (!plainExposed && !tlsExposed) return std::nullopt;
    if (!plainExposed) host = listenHost(settings.tlsListen);
    std::string what;
    std::string fix;
    if (settings.demo) {
        what = "demo = true (an empty database gets a demo account whose keys are printed)";
        fix = "set demo = false";
    }
    if (plainExposed && !settings.effectiveSecureCookies()) {
        if (!what.empty()) {
            what += " and ";
            fix += ", and ";
        }
        what +=
            "secure_cookies = false (console session cookies cross the network in clear over "
            "plain HTTP)";
        fix += "serve the console through a TLS proxy with secure_cookies = true";
    }
    if (what.empty()) return std::nullopt;
    return "listening on " + std::string(host) + ", which other machines can reach, with " + what +
           ": " + fix;
}

}  // namespace sc
