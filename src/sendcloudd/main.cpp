// sendcloudd: reads the configuration, builds the object graph and runs the server or an
// operator command. Nothing else lives here.

#include <signal.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <thread>
#include <tuple>
#include <utility>

#include "api/ids.h"
#include "api/send_handlers.h"
#include "api/status_handlers.h"
#include "audit/audit_recorder.h"
#include "auth/credential_verifier.h"
#include "auth/lockout.h"
#include "common/config.h"
#include "common/logging.h"
#include "console/domains_api.h"
#include "console/management_api.h"
#include "console/messages_api.h"
#include "console/pages.h"
#include "console/password_hasher.h"
#include "domain/limits.h"
#include "domain/phone_number.h"
#include "http/server.h"
#include "metrics/metrics.h"
#include "policy/daily_quota.h"
#include "policy/rate_limiter.h"
#include "retention/retention_worker.h"
#include "sendcloudd/console_domains.h"
#include "sendcloudd/domain_commands.h"
#include "sendcloudd/email_delivery.h"
#include "sendcloudd/operator_commands.h"
#include "sendcloudd/runtime.h"
#include "sendcloudd/sms_delivery.h"
#include "test_controls/test_controls.h"

namespace {

using namespace sc;

std::string hostName(const Settings& s) {
    if (!s.hostname.empty()) return s.hostname;
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
    return buf;
}

// On the first start of an empty database, a demo account with one user of each kind, so that
// `make run` ends with two commands a newcomer can paste. Keys go to stdout once, never the log.
void createDemo(app::Runtime& rt, const std::string& baseUrl) {
    const std::string email = "demo@example.com";
    auto existing = rt.backend->credentials().findAccountByEmail(email);
    if (!existing || existing.value()) return;
    auto account = rt.issuer->createAccount(email);
    if (!account) return;
    auto api = rt.issuer->createUser("demo_api", store::UserKind::Email, email);
    auto sms = rt.issuer->createUser("demo_sms", store::UserKind::Sms, email);
    if (!api || !sms) {
        std::cerr << "sendcloudd: could not create the demo users\n";
        return;
    }
    // A console password made here and shown once with the keys: nothing guessable ships.
    const std::string password = rt.random.alphanumeric(20);
    auto hash = console::hashPassword(password, console::PasswordLimits::interactive());
    if (!hash || !rt.backend->credentials().setAccountPassword(account->id, *hash)) {
        std::cerr << "sendcloudd: could not set the demo account's console password\n";
        return;
    }
    std::cout
        << "\nFirst start: created the demo account " << email << " with\n"
        << "  console  " << baseUrl << "/console  e-mail " << email << "  password " << password
        << "\n"
        << "  API_USER demo_api  API_KEY " << api->key << "\n"
        << "  SMS_USER demo_sms  SMS_KEY " << sms->key << "\n"
        << "These keys are shown only this once. Try:\n\n"
        << "  curl \"" << baseUrl << "/email/send?apiUser=demo_api&apiKey=" << api->key
        << "&from=demo@example.com&to=you@example.com&subject=Hello&plain=Hello+from+Aurora\"\n\n"
        << "  curl -X POST " << baseUrl << "/smsapi/send -d smsUser=demo_sms -d smsKey=" << sms->key
        << " -d to=+14155550100 -d message=Hello\n\n"
        << std::flush;
}

// The listeners, their limits and the trusted proxies; nullopt after printing what is wrong.
std::optional<http::ServerOptions> serverOptions(const Settings& settings) {
    http::ServerOptions options;
    if (!http::splitHostPort(settings.listen, options.host, options.port)) {
        std::cerr << "sendcloudd: --listen wants HOST:PORT, got '" << settings.listen << "'\n";
        return std::nullopt;
    }
    if (!settings.tlsListen.empty()) {
        http::TlsListenerOptions tls;
        if (!http::splitHostPort(settings.tlsListen, tls.host, tls.port)) {
            std::cerr << "sendcloudd: --tls-listen wants HOST:PORT, got '" << settings.tlsListen
                      << "'\n";
            return std::nullopt;
        }
        if (settings.tlsCert.empty() || settings.tlsKey.empty()) {
            std::cerr << "sendcloudd: --tls-listen needs --tls-cert and --tls-key\n";
            return std::nullopt;
        }
        tls.certFile = settings.tlsCert;
        tls.keyFile = settings.tlsKey;
        options.tls = std::move(tls);
    }
    if (auto proxies = http::TrustedProxies::parse(settings.trustedProxies); !proxies) {
        std::cerr << "sendcloudd: --trusted-proxies: " << proxies.error() << "\n";
        return std::nullopt;
    } else {
        options.trustedProxies = std::move(proxies).value();
    }
    // HSTS on the console only: the API's clients are programs that were given their URL.
    options.hstsPathPrefix = "/console";
    unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    options.ioThreads = settings.ioThreads > 0 ? settings.ioThreads : static_cast<int>(cores);
    auto& lim = options.limits;
    lim.maxHeaderBytes = static_cast<size_t>(settings.maxHeaderBytes);
    lim.maxBodyBytes = static_cast<size_t>(settings.maxBodyBytes);
    lim.headerTimeout = std::chrono::milliseconds(settings.headerTimeoutMs);
    lim.bodyTimeout = std::chrono::milliseconds(settings.bodyTimeoutMs);
    lim.idleTimeout = std::chrono::milliseconds(settings.idleTimeoutMs);
    lim.maxConnections = static_cast<size_t>(settings.maxConnections);
    lim.maxConnectionsPerClient = static_cast<size_t>(settings.maxConnectionsPerClient);
    lim.maxBufferedBodyBytes =
        settings.maxBufferedBodyBytes == 0
            ? 0
            : std::max(static_cast<size_t>(settings.maxBufferedBodyBytes), lim.maxBodyBytes);
    lim.maxRequestsPerConnection = static_cast<size_t>(settings.maxRequestsPerConnection);
    return options;
}

// Blocks the stop signals (and SIGHUP, the certificate reload); called before any thread starts
// so that only waitForStop()'s sigwait() sees them.
sigset_t blockStopSignals() {
    sigset_t stopSignals;
    sigemptyset(&stopSignals);
    sigaddset(&stopSignals, SIGTERM);
    sigaddset(&stopSignals, SIGINT);
    sigaddset(&stopSignals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
    return stopSignals;
}

api::SendLimits sendLimitsOf(const Settings& settings) {
    api::SendLimits sendLimits;
    sendLimits.maxRecipients = static_cast<size_t>(settings.maxRecipients);
    sendLimits.maxContentBytes = static_cast<size_t>(settings.maxContentBytes);
    // The parser stops only what cannot fit the body at all; the content rules (and their
    // email.attachments_too_large) are the send handler's.
    sendLimits.parse.maxFileBytes = static_cast<size_t>(settings.maxBodyBytes);
    sendLimits.authFailureLogLinesPerSecond = static_cast<uint32_t>(
        std::min<int64_t>(settings.authFailureLogPerSecond, std::numeric_limits<uint32_t>::max()));
    return sendLimits;
}

// The send and status APIs and what they stand on: credentials, lockout, rate limits, quotas
// and the audit recorder (started by the caller, stopped after the server).
struct SendPath {
    SendPath(app::Runtime& rt, app::Delivery& delivery, const Settings& settings,
             domain::PhoneValidation phoneMode)
        : phones(phoneMode),
          verifier(rt.backend->credentials(), *rt.keys, rt.clock),
          ids(rt.clock, rt.random, hostName(settings)),
          lockout(rt.clock,
                  auth::LockoutOptions{settings.lockoutIpFailures, settings.lockoutUserFailures,
                                       std::chrono::seconds(settings.lockoutWindow),
                                       std::chrono::seconds(settings.lockoutDuration)}),
          rateLimiter(rt.clock),
          quota(rt.clock,
                [&auditStore = rt.backend->audit()](int64_t userId, int64_t from, int64_t to) {
                    // Usage rows are hourly buckets named by their start: the bucket `to` falls
                    // in counts.
                    auto r = auditStore.recipientsBetween(userId, from,
                                                          to + domain::kUsageBucket.count());
                    return r ? r.value() : int64_t{0};
                }),
          recorder(rt.backend->audit(), rt.clock, auditOptionsOf(settings)),
          sendApi({verifier, *delivery.messages, ids, phones, rt.clock, lockout, rateLimiter, quota,
                   recorder, rt.backend->templates()},
                  sendLimitsOf(settings)),
          statusApi([this](const api::SendRoute& r,
                           const http::Request& q) { return sendApi.authenticate(r, q); },
                    [&delivery](const std::vector<std::string>& ids) {
                        return delivery.queue->statusOf(ids);
                    }) {}

    static audit::AuditOptions auditOptionsOf(const Settings& settings) {
        audit::AuditOptions auditOptions;
        auditOptions.retention = std::chrono::hours(24 * settings.auditRetentionDays);
        return auditOptions;
    }

    domain::PhoneNumberValidator phones;
    auth::CredentialVerifier verifier;
    api::IdGenerator ids;
    auth::LockoutTracker lockout;
    policy::RateLimiter rateLimiter;
    policy::DailyQuota quota;
    audit::AuditRecorder recorder;
    api::SendApi sendApi;
    api::StatusApi statusApi;
};

// The console: its API rooms (the management API's, domains, messages) and the pages, on their
// own work pool (stopped by the caller, after the server).
struct Console {
    Console(app::Runtime& rt, app::Delivery& delivery, const Settings& settings)
        : api({rt.backend->credentials(), rt.backend->sessions(), rt.backend->audit(), *rt.issuer,
               rt.backend->templates(), rt.clock, rt.random, pool},
              optionsOf(settings)),
          domainAdmin(app::makeConsoleDomainAdmin(rt, settings)),
          domains(*domainAdmin, api.sessionGuard(), pool),
          messages(rt.clock, rt.backend->messages(), api.sessionGuard()),
          pages(rt.clock) {
        messages.setAttemptLogReader([&delivery](const std::vector<std::string>& ids) {
            return delivery.queue->statusOf(ids);
        });
    }

    void registerRoutes(http::Router& router) {
        api.registerRoutes(router);
        domains.registerRoutes(router);
        messages.registerRoutes(router);
        pages.registerRoutes(router);
    }

    static console::ManagementOptions optionsOf(const Settings& settings) {
        console::ManagementOptions options;
        options.secureCookies = settings.effectiveSecureCookies();
        options.sessionTtl = std::chrono::seconds(settings.sessionTtl);
        for (const auto& r : settings.smsRoutes) options.smsRoutes.push_back(r.name);
        return options;
    }

    console::WorkPool pool{2};
    console::ManagementApi api;
    std::unique_ptr<console::DomainAdmin> domainAdmin;
    console::DomainsApi domains;
    console::MessagesApi messages;
    console::Pages pages;
};

retention::RetentionPolicy retentionPolicyOf(const Settings& settings) {
    retention::RetentionPolicy retentionPolicy;
    retentionPolicy.messageBodies = std::chrono::hours(24 * settings.messageRetentionDays);
    retentionPolicy.usage = std::chrono::hours(24 * settings.usageRetentionDays);
    retentionPolicy.interval = std::chrono::seconds(settings.retentionInterval);
    return retentionPolicy;
}

std::string urlOf(const char* scheme, const std::string& host, uint16_t port) {
    const std::string bracketed = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    return std::string(scheme) + "://" + bracketed + ":" + std::to_string(port);
}

// The "listening" lines: the log's, and stdout's, whose plain-HTTP line the tests wait for.
void announceListening(const Settings& settings, const http::ServerOptions& options,
                       const std::string& baseUrl, const std::string& tlsUrl) {
    // Before the "listening" line, which tests wait for.
    if (auto warning = exposureWarning(settings)) spdlog::warn("{}", *warning);
    spdlog::info("sendcloudd listening on {} (data dir {}, {} I/O threads)", baseUrl,
                 settings.dataDir, options.ioThreads);
    if (!tlsUrl.empty()) {
        spdlog::info("sendcloudd listening on {} (TLS, certificate {})", tlsUrl, settings.tlsCert);
        // Before the plain line, which is the one tests wait for.
        std::cout << "sendcloudd listening on " << tlsUrl << " (TLS)" << std::endl;
    }
    std::cout << "sendcloudd listening on " << baseUrl << "\nconsole: " << baseUrl << "/console"
              << std::endl;
}

// Waits for SIGTERM or SIGINT (the signal that came); a SIGHUP meanwhile reloads the TLS
// certificate.
int waitForStop(const sigset_t& stopSignals, http::Server& server, bool tls,
                const Settings& settings) {
    int sig = 0;
    for (;;) {
        sigwait(&stopSignals, &sig);
        if (sig != SIGHUP) return sig;
        // SIGHUP: new certificate files (a renewal). Open connections keep the old certificate.
        if (!tls) {
            spdlog::info("received SIGHUP: no TLS listener, nothing to reload");
        } else if (auto r = server.reloadTls(); r) {
            spdlog::info("received SIGHUP: TLS certificate reloaded from {}", settings.tlsCert);
        } else {
            spdlog::error(
                "received SIGHUP: TLS certificate not reloaded, the old one stays in use: {}",
                r.error());
        }
    }
}

// The sinks of the parts that report news and failures without a caller to answer.
void logError(std::string_view m) {
    spdlog::error("{}", m);
}
void logInfo(std::string_view m) {
    spdlog::info("{}", m);
}

int runServer(const Settings& settings) {
    if (auto r = initLogging(settings.logLevel); !r) {
        std::cerr << "sendcloudd: " << r.error() << "\n";
        return 2;
    }
    auto options = serverOptions(settings);
    if (!options) return 2;
    auto phoneMode = domain::parsePhoneValidation(settings.phoneValidation);
    if (!phoneMode) {
        std::cerr << "sendcloudd: phone_validation: " << phoneMode.error() << "\n";
        return 2;
    }
    const sigset_t stopSignals = blockStopSignals();

    auto rt = app::openRuntime(settings, logError, logInfo);
    if (!rt) return 1;
    auto delivery = app::openDelivery(*rt, settings, logError);
    if (!delivery) return 1;

    SendPath send(*rt, *delivery, settings, phoneMode.value());
    send.recorder.start();
    retention::RetentionWorker retentionWorker(rt->backend->retention(), rt->clock,
                                               retentionPolicyOf(settings));
    retentionWorker.start();
    http::Router router(api::routerError);
    send.sendApi.registerRoutes(router);
    send.statusApi.registerRoutes(router);
    metrics::DeliveryCounters deliveryCounters;
    delivery->recorder->setObserver(metrics::countingObserver(deliveryCounters, rt->clock));
    metrics::MetricsEndpoint metricsEndpoint(
        rt->clock, [&delivery](int64_t now) { return delivery->queue->stats(now); },
        deliveryCounters);
    app::registerSmsMetrics(metricsEndpoint, *delivery);
    app::registerEmailMetrics(metricsEndpoint, *delivery);
    app::registerStoreMetrics(metricsEndpoint, *rt);
    if (settings.metrics) metricsEndpoint.registerRoutes(router);
    Console webConsole(*rt, *delivery, settings);
    webConsole.registerRoutes(router);
    app::registerDlrRoutes(router, *delivery, *rt, settings);
    // Test-only routes: need both a build with SC_TEST_CONTROLS and --enable-test-controls=true.
    test_controls::TestControls testControls(rt->clock);
    if (settings.enableTestControls) {
        if (!test_controls::compiledIn()) {
            std::cerr << "sendcloudd: --enable-test-controls needs a build with SC_TEST_CONTROLS\n";
            return 2;
        }
        testControls.registerRoutes(router);
    }
    http::AccessLog accessLog(settings.accessLog);
    http::Server server(*options, router, accessLog, rt->clock);

    uint16_t port;
    try {
        port = server.start();
    } catch (const std::exception& e) {
        std::cerr << "sendcloudd: " << e.what() << "\n";
        return 1;
    }
    const std::string baseUrl = urlOf("http", options->host, port);
    const std::string tlsUrl =
        options->tls ? urlOf("https", options->tls->host, server.tlsPort()) : "";
    if (settings.demo) createDemo(*rt, baseUrl);
    if (delivery->enabled) delivery->scheduler->start();
    announceListening(settings, *options, baseUrl, tlsUrl);

    const int sig = waitForStop(stopSignals, server, options->tls.has_value(), settings);
    spdlog::info("received {}, draining", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    server.stop(std::chrono::milliseconds(settings.drainTimeoutMs));
    // No new sends now: the scheduler stops claiming, lets in-flight attempts finish within the
    // drain time and hands back the rest of its leases.
    delivery->scheduler->stop(std::chrono::milliseconds(settings.drainTimeoutMs));
    app::stopDeliveryIo(*delivery);
    webConsole.pool.stop();
    retentionWorker.stop();
    rt->backend->messages().stop();
    send.recorder.stop();
    spdlog::info("stopped");
    return 0;
}

// The operator commands' arguments, bound to CLI11 by reference: they live as long as main().
struct UserCommands {
    CLI::App *create = nullptr, *reset = nullptr, *disable = nullptr, *enable = nullptr,
             *list = nullptr;
    std::string name, account;
    bool revokeOld = false;
};

struct OperatorCommands {
    CLI::App *accountCreate = nullptr, *accountPassword = nullptr;
    std::string accountEmail;
    bool passwordStdin = false;

    UserCommands emailUser, smsUser;
    CLI::App* smsSetRoute = nullptr;
    std::string smsRouteName;

    // Templates: email ones by invokeName, SMS ones by id.
    std::string templateAccount, invokeName;
    int64_t smsTemplateId = 0;
    sc::app::TemplateFields fields;
    std::map<CLI::App*, std::pair<bool, std::string>> templateOps;  // sub → (sms, op)

    std::shared_ptr<sc::app::DomainCommands> domains;
};

void addAccountCommands(CLI::App& app, OperatorCommands& c) {
    auto* account = app.add_subcommand("account", "manage accounts");
    account->require_subcommand(1);
    account->fallthrough();
    c.accountCreate = account->add_subcommand("create", "create an account");
    c.accountCreate->add_option("--email", c.accountEmail, "the account owner's e-mail")
        ->required();
    c.accountCreate->add_flag("--password-stdin", c.passwordStdin,
                              "read a console password from standard input");
    c.accountCreate->fallthrough();
    c.accountPassword =
        account->add_subcommand("set-password", "set the console password (read from stdin)");
    c.accountPassword->add_option("--email", c.accountEmail, "the account owner's e-mail")
        ->required();
    c.accountPassword->fallthrough();
}

// `sms-user set-route NAME ROUTE`, the one user command of the SMS kind alone.
void addSmsSetRoute(CLI::App* group, OperatorCommands& c) {
    c.smsSetRoute = group->add_subcommand(
        "set-route", "send this user's SMS over a named [[sms_route]] (\"\" clears)");
    c.smsSetRoute->add_option("NAME", c.smsUser.name, "SMS_USER")->required();
    c.smsSetRoute->add_option("ROUTE", c.smsRouteName, "an [[sms_route]] name, or \"\"")
        ->required();
    c.smsSetRoute->fallthrough();
}

void addUserCommands(CLI::App& app, OperatorCommands& c) {
    for (auto [cmd, kind, desc, sms] :
         {std::tuple{&c.emailUser, "email-user", "Email API users (API_USER / API_KEY)", false},
          std::tuple{&c.smsUser, "sms-user", "SMS API users (SMS_USER / SMS_KEY)", true}}) {
        auto* group = app.add_subcommand(kind, desc);
        group->require_subcommand(1);
        group->fallthrough();
        cmd->create = group->add_subcommand("create", "create a user and print its key once");
        cmd->create->add_option("--account", cmd->account, "owning account's e-mail")->required();
        cmd->reset = group->add_subcommand(
            "reset", sms ? "new SMS_KEY; the old one is refused at once"
                         : "new API_KEY; the old one works for the grace period");
        if (!sms) {
            cmd->reset->add_flag("--revoke-old", cmd->revokeOld,
                                 "end the old key at once (emergency)");
        }
        cmd->disable = group->add_subcommand("disable", "refuse every request of the user");
        cmd->enable = group->add_subcommand("enable", "accept the user's requests again");
        for (auto* sub : {cmd->create, cmd->reset, cmd->disable, cmd->enable}) {
            sub->add_option("NAME", cmd->name, "user name: ^[a-z][a-z0-9_]{5,63}$")->required();
        }
        if (sms) addSmsSetRoute(group, c);
        cmd->list = group->add_subcommand("list", "list an account's users (never their keys)");
        cmd->list->add_option("--account", cmd->account, "owning account's e-mail")->required();
        for (auto* sub : {cmd->create, cmd->reset, cmd->disable, cmd->enable, cmd->list}) {
            sub->fallthrough();
        }
    }
}

// The options of `template|sms-template create|update`: what a template holds.
void addTemplateFields(CLI::App* sub, bool sms, sc::app::TemplateFields& fields) {
    sub->add_option("--name", fields.name, "display name");
    if (sms) {
        sub->add_option("--text", fields.text, "text with %var% placeholders");
        return;
    }
    sub->add_option("--subject", fields.subject, "subject (may hold %var%)");
    sub->add_option("--html", fields.html, "HTML body");
    sub->add_option("--plain", fields.plain, "plain-text body");
    sub->add_option("--html-file", fields.htmlFile, "read the HTML body from a file");
    sub->add_option("--plain-file", fields.plainFile, "read the plain body from a file");
}

void addTemplateCommands(CLI::App& app, OperatorCommands& c) {
    for (auto [group, sms] : {std::pair{"template", false}, std::pair{"sms-template", true}}) {
        auto* g = app.add_subcommand(group, sms ? "SMS templates (sent by templateId)"
                                                : "email templates (sent by invokeName)");
        g->require_subcommand(1);
        g->fallthrough();
        for (const char* op : {"create", "update", "delete", "list"}) {
            auto* sub = g->add_subcommand(op, std::string(op) + " " + group + "s");
            sub->fallthrough();
            sub->add_option("--account", c.templateAccount, "owning account's e-mail")->required();
            const std::string o = op;
            if (o != "list") {
                if (sms) {
                    if (o != "create")
                        sub->add_option("ID", c.smsTemplateId, "template id")->required();
                } else {
                    sub->add_option("INVOKE_NAME", c.invokeName, "the name sends use")->required();
                }
            }
            if (o == "create" || o == "update") addTemplateFields(sub, sms, c.fields);
            c.templateOps[sub] = {sms, o};
        }
    }
}

// The exit status of the operator command that was parsed, or nullopt when none was: then the
// server runs.
std::optional<int> runOperatorCommand(const OperatorCommands& c, const Settings& settings) {
    if (c.accountCreate->parsed())
        return sc::app::runAccountCreate(settings, c.accountEmail, c.passwordStdin);
    if (c.accountPassword->parsed())
        return sc::app::runAccountSetPassword(settings, c.accountEmail);
    if (auto status = sc::app::runDomainCommand(*c.domains, settings)) return *status;
    for (const auto& [sub, what] : c.templateOps) {
        if (!sub->parsed()) continue;
        return what.first ? sc::app::runSmsTemplate(settings, what.second, c.templateAccount,
                                                    c.smsTemplateId, c.fields)
                          : sc::app::runEmailTemplate(settings, what.second, c.templateAccount,
                                                      c.invokeName, c.fields);
    }
    if (c.smsSetRoute->parsed())
        return sc::app::runSmsUserSetRoute(settings, c.smsUser.name, c.smsRouteName);
    for (auto [cmd, sms] : {std::pair{&c.emailUser, false}, std::pair{&c.smsUser, true}}) {
        if (cmd->create->parsed())
            return sc::app::runUserCreate(settings, sms, cmd->name, cmd->account);
        if (cmd->reset->parsed())
            return sc::app::runUserReset(settings, sms, cmd->name, cmd->revokeOld);
        if (cmd->disable->parsed())
            return sc::app::runUserSetDisabled(settings, sms, cmd->name, true);
        if (cmd->enable->parsed())
            return sc::app::runUserSetDisabled(settings, sms, cmd->name, false);
        if (cmd->list->parsed()) return sc::app::runUserList(settings, sms, cmd->account);
    }
    return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"sendcloudd: the Aurora SendCloud server and its operator commands"};
    app.set_help_all_flag("--help-all", "show help for every command");
    sc::SettingsLoader loader;
    loader.bindFlags(app);
    app.require_subcommand(0, 1);

    OperatorCommands commands;
    addAccountCommands(app, commands);
    addUserCommands(app, commands);
    addTemplateCommands(app, commands);
    commands.domains = sc::app::addDomainCommands(app);

    CLI11_PARSE(app, argc, argv);

    auto settings = loader.resolve();
    if (!settings) {
        std::cerr << "sendcloudd: " << settings.error() << "\n";
        return 2;
    }
    if (auto status = runOperatorCommand(commands, *settings)) return *status;
    return runServer(*settings);
}
