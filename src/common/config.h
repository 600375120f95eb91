#pragma once
// Settings of sendcloudd, from four layers, each overriding the one before: built-in defaults,
// a TOML file (--config / SENDCLOUD_CONFIG), SENDCLOUD_* environment variables, and flags.
// Every setting is declared once in config.cpp's table, which drives all four layers and
// `--help`, so none can be reachable one way and missing another.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/sms_routes.h"

namespace CLI {
class App;
}

namespace sc {

struct Settings {
    std::string listen = "127.0.0.1:8080";
    // The HTTPS listener (docs/operations.md "TLS"); empty: none. Needs tlsCert and tlsKey.
    std::string tlsListen;
    std::string tlsCert;  // PEM certificate chain, re-read on SIGHUP
    std::string tlsKey;   // PEM private key, re-read on SIGHUP
    // CIDR,... whose X-Forwarded-For / X-Forwarded-Proto are believed (src/http/forwarded.h).
    std::string trustedProxies;
    std::string dataDir = "./var";
    int ioThreads = 0;  // 0: one per core
    int64_t maxConnections = 10000;
    int64_t maxConnectionsPerClient = 64;              // 0: no cap; loopback clients are exempt
    int64_t maxBufferedBodyBytes = 256 * 1024 * 1024;  // 0: no budget
    int64_t maxHeaderBytes = 16 * 1024;
    int64_t maxBodyBytes = 12 * 1024 * 1024;
    int64_t headerTimeoutMs = 10000;
    int64_t bodyTimeoutMs = 30000;
    int64_t idleTimeoutMs = 60000;
    int64_t maxRequestsPerConnection = 0;  // 0: unlimited
    int64_t drainTimeoutMs = 10000;
    int64_t maxRecipients = 100;
    int64_t maxContentBytes = 10 * 1024 * 1024;
    std::string phoneValidation = "valid";
    std::string serverSecretFile;  // empty: <data_dir>/server.secret
    std::string hostname;          // empty: the machine's host name (used in message ids)
    std::string logLevel = "info";
    bool accessLog = true;
    bool demo = true;
    int64_t emailKeyGrace = 900;
    int64_t lockoutIpFailures = 20;
    int64_t authFailureLogPerSecond = 20;
    int64_t lockoutUserFailures = 20;
    int64_t lockoutWindow = 60;
    int64_t lockoutDuration = 300;
    int64_t auditRetentionDays = 90;
    int64_t messageRetentionDays = 30;
    int64_t usageRetentionDays = 400;
    int64_t retentionInterval = 3600;  // seconds between retention runs
    int64_t sessionTtl = 43200;
    bool secureCookies = false;
    // GET /metrics, unauthenticated: operators firewall it (docs/operations.md "Metrics").
    bool metrics = true;
    // Delivery (docs/delivery.md, docs/operations.md).
    bool delivery = true;            // off: accept and queue only (an API-only node)
    int64_t retryFirst = 60;         // seconds; doubles after each deferral...
    int64_t retryMax = 3600;         // ...up to this
    int64_t queueLifetime = 432000;  // seconds a recipient may stay deferred before it expires
    int64_t deliveryMaxInFlight = 1000;
    // This server's base URL as peers reach it (Kannel's delivery reports), e.g.
    // "http://10.0.0.5:8080"; a kannel route's dlr_base_url overrides it.
    std::string publicUrl;
    // Email delivery over SMTP (docs/operations.md, "Email delivery over SMTP").
    std::string smtpRelay;              // HOST:PORT, empty: MX routing
    std::string smtpRelayUser;          //
    std::string smtpRelayPasswordFile;  // the password itself never passes through argv
    std::string smtpRoute;              // DOMAIN=HOST:PORT[,DOMAIN=HOST:PORT...]
    std::string dnsServers;             // HOST:PORT[,HOST:PORT], empty: the system resolver
    int64_t smtpPort = 25;
    std::string smtpTls = "may";  // none | may | encrypt | verify
    std::string smtpCaFile;
    std::string ehloName;                 // empty: hostname
    int64_t smtpConnectionsPerHost = 20;  // Postfix's default_destination_concurrency_limit
    int64_t smtpMessagesPerConnection = 100;
    std::string smtpShapingFile;  // traffic shaping rules (TOML); empty: the built-in rules
    // Only in builds with SC_TEST_CONTROLS: expose POST /test/clock/advance (e2e tests).
    bool enableTestControls = false;
    // [[sms_route]] tables of the config file (docs/operations.md); empty: SMS stay queued.
    std::vector<SmsRouteConfig> smsRoutes;

    std::string secretFilePath() const;
    // Console cookies are Secure: asked for, or implied by our own TLS listener (a console
    // offered over TLS is meant to be used over TLS).
    bool effectiveSecureCookies() const { return secureCookies || !tlsListen.empty(); }
    std::string databasePath() const;
};

// Binds one flag per setting (plus --config) to `app`, so that every subcommand and the server
// itself share them. Call resolve() after app.parse().
class SettingsLoader {
public:
    SettingsLoader();
    ~SettingsLoader();
    void bindFlags(CLI::App& app);
    // Applies defaults, the TOML file, the environment and the flags, in that order.
    Result<Settings, std::string> resolve() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// The one warning line sendcloudd logs at start-up when a listener that other machines can reach
// (not 127.0.0.0/8, ::1 or localhost) runs with `demo` on (an empty database gets an account
// whose keys are printed), or the plain listener does with console cookies without `Secure`
// (over plain HTTP a session cookie crosses the network in clear; our own TLS listener turns
// Secure on); nullopt when neither applies.
std::optional<std::string> exposureWarning(const Settings& settings);

}  // namespace sc
