// sendcloudd: reads the configuration, builds the object graph and runs the server or an
// operator command. Nothing else lives here.

#include <signal.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <iostream>
#include <limits>
#include <map>
#include <thread>

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

int runServer(const Settings& settings) {
    if (auto r = initLogging(settings.logLevel); !r) {
        std::cerr << "sendcloudd: " << r.error() << "\n";
        return 2;
    }
    http::ServerOptions options;
    if (!http::splitHostPort(settings.listen, options.host, options.port)) {
        std::cerr << "sendcloudd: --listen wants HOST:PORT, got '" << settings.listen << "'\n";
        return 2;
    }
    if (!settings.tlsListen.empty()) {
        http::TlsListenerOptions tls;
        if (!http::splitHostPort(settings.tlsListen, tls.host, tls.port)) {
            std::cerr << "sendcloudd: --tls-listen wants HOST:PORT, got '" << settings.tlsListen
                      << "'\n";
            return 2;
        }
        if (settings.tlsCert.empty() || settings.tlsKey.empty()) {
            std::cerr << "sendcloudd: --tls-listen needs --tls-cert and --tls-key\n";
            return 2;
        }
        tls.certFile = settings.tlsCert;
        tls.keyFile = settings.tlsKey;
        options.tls = std::move(tls);
    }
    if (auto proxies = http::TrustedProxies::parse(settings.trustedProxies); !proxies) {
        std::cerr << "sendcloudd: --trusted-proxies: " << proxies.error() << "\n";
        return 2;
    } else {
        options.trustedProxies = std::move(proxies).value();
    }
    // HSTS on the console only: the API's clients are programs that were given their URL.
    options.hstsPathPrefix = "/console";
    auto phoneMode = domain::parsePhoneValidation(settings.phoneValidation);
    if (!phoneMode) {
        std::cerr << "sendcloudd: phone_validation: " << phoneMode.error() << "\n";
        return 2;
    }
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

    // Block the stop signals (and SIGHUP, the certificate reload) before any thread starts so
    // that only sigwait() below sees them.
    sigset_t stopSignals;
    sigemptyset(&stopSignals);
    sigaddset(&stopSignals, SIGTERM);
    sigaddset(&stopSignals, SIGINT);
    sigaddset(&stopSignals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);
    ::signal(SIGPIPE, SIG_IGN);

    auto rt = app::openRuntime(settings, [](std::string_view m) { spdlog::error("{}", m); });
    if (!rt) return 1;

    auto delivery =
        app::openDelivery(*rt, settings, [](std::string_view m) { spdlog::error("{}", m); });
    if (!delivery) return 1;

    domain::PhoneNumberValidator phones(phoneMode.value());
    auth::CredentialVerifier verifier(rt->backend->credentials(), *rt->keys, rt->clock);
    api::IdGenerator ids(rt->clock, rt->random, hostName(settings));
    auth::LockoutTracker lockout(
        rt->clock, auth::LockoutOptions{settings.lockoutIpFailures, settings.lockoutUserFailures,
                                        std::chrono::seconds(settings.lockoutWindow),
                                        std::chrono::seconds(settings.lockoutDuration)});
    policy::RateLimiter rateLimiter(rt->clock);
    store::AuditStore& auditStore = rt->backend->audit();
    policy::DailyQuota quota(rt->clock, [&auditStore](int64_t userId, int64_t from, int64_t to) {
        // Usage rows are hourly buckets named by their start: the bucket `to` falls in counts.
        auto r = auditStore.recipientsBetween(userId, from, to + domain::kUsageBucket.count());
        return r ? r.value() : int64_t{0};
    });
    audit::AuditOptions auditOptions;
    auditOptions.retention = std::chrono::hours(24 * settings.auditRetentionDays);
    audit::AuditRecorder recorder(auditStore, rt->clock, auditOptions);
    recorder.start();
    retention::RetentionPolicy retentionPolicy;
    retentionPolicy.messageBodies = std::chrono::hours(24 * settings.messageRetentionDays);
    retentionPolicy.usage = std::chrono::hours(24 * settings.usageRetentionDays);
    retentionPolicy.interval = std::chrono::seconds(settings.retentionInterval);
    retention::RetentionWorker retentionWorker(rt->backend->retention(), rt->clock,
                                               retentionPolicy);
    retentionWorker.start();
    api::SendLimits sendLimits;
    sendLimits.maxRecipients = static_cast<size_t>(settings.maxRecipients);
    sendLimits.maxContentBytes = static_cast<size_t>(settings.maxContentBytes);
    // The parser stops only what cannot fit the body at all; the content rules (and their
    // email.attachments_too_large) are the send handler's.
    sendLimits.parse.maxFileBytes = static_cast<size_t>(settings.maxBodyBytes);
    sendLimits.authFailureLogLinesPerSecond = static_cast<uint32_t>(
        std::min<int64_t>(settings.authFailureLogPerSecond, std::numeric_limits<uint32_t>::max()));
    api::SendApi sendApi({verifier, *delivery->messages, ids, phones, rt->clock, lockout,
                          rateLimiter, quota, recorder, rt->backend->templates()},
                         sendLimits);
    http::Router router(api::routerError);
    sendApi.registerRoutes(router);
    api::StatusApi statusApi(
        [&sendApi](const api::SendRoute& r, const http::Request& q) {
            return sendApi.authenticate(r, q);
        },
        [&delivery](const std::vector<std::string>& ids) {
            return delivery->queue->statusOf(ids);
        });
    statusApi.registerRoutes(router);
    metrics::DeliveryCounters deliveryCounters;
    delivery->recorder->setObserver(metrics::countingObserver(deliveryCounters, rt->clock));
    metrics::MetricsEndpoint metricsEndpoint(
        rt->clock, [&delivery](int64_t now) { return delivery->queue->stats(now); },
        deliveryCounters);
    app::registerSmsMetrics(metricsEndpoint, *delivery);
    app::registerEmailMetrics(metricsEndpoint, *delivery);
    if (settings.metrics) metricsEndpoint.registerRoutes(router);
    console::WorkPool consolePool(2);
    console::ManagementOptions consoleOptions;
    consoleOptions.secureCookies = settings.effectiveSecureCookies();
    consoleOptions.sessionTtl = std::chrono::seconds(settings.sessionTtl);
    for (const auto& r : settings.smsRoutes) consoleOptions.smsRoutes.push_back(r.name);
    console::ManagementApi consoleApi(
        {rt->backend->credentials(), rt->backend->sessions(), rt->backend->audit(), *rt->issuer,
         rt->backend->templates(), rt->clock, rt->random, consolePool},
        consoleOptions);
    consoleApi.registerRoutes(router);
    auto domainAdmin = app::makeConsoleDomainAdmin(*rt, settings);
    console::DomainsApi domainsApi(*domainAdmin, consoleApi.sessionGuard(), consolePool);
    domainsApi.registerRoutes(router);
    console::MessagesApi messagesApi(rt->clock, rt->backend->messages(), consoleApi.sessionGuard());
    messagesApi.setAttemptLogReader([&delivery](const std::vector<std::string>& ids) {
        return delivery->queue->statusOf(ids);
    });
    messagesApi.registerRoutes(router);
    console::Pages consolePages(rt->clock);
    consolePages.registerRoutes(router);
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
    http::Server server(options, router, accessLog, rt->clock);

    uint16_t port;
    try {
        port = server.start();
    } catch (const std::exception& e) {
        std::cerr << "sendcloudd: " << e.what() << "\n";
        return 1;
    }
    std::string hostForUrl =
        options.host.find(':') != std::string::npos ? "[" + options.host + "]" : options.host;
    std::string baseUrl = "http://" + hostForUrl + ":" + std::to_string(port);
    std::string tlsUrl;
    if (options.tls) {
        const auto& h = options.tls->host;
        tlsUrl = "https://" + (h.find(':') != std::string::npos ? "[" + h + "]" : h) + ":" +
                 std::to_string(server.tlsPort());
    }
    if (settings.demo) createDemo(*rt, baseUrl);
    if (delivery->enabled) delivery->scheduler->start();
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

    int sig = 0;
    for (;;) {
        sigwait(&stopSignals, &sig);
        if (sig != SIGHUP) break;
        // SIGHUP: new certificate files (a renewal). Open connections keep the old certificate.
        if (!options.tls) {
            spdlog::info("received SIGHUP: no TLS listener, nothing to reload");
        } else if (auto r = server.reloadTls(); r) {
            spdlog::info("received SIGHUP: TLS certificate reloaded from {}", settings.tlsCert);
        } else {
            spdlog::error(
                "received SIGHUP: TLS certificate not reloaded, the old one stays in use: {}",
                r.error());
        }
    }
    spdlog::info("received {}, draining", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    server.stop(std::chrono::milliseconds(settings.drainTimeoutMs));
    // No new sends now: the scheduler stops claiming, lets in-flight attempts finish within the
    // drain time and hands back the rest of its leases.
    delivery->scheduler->stop(std::chrono::milliseconds(settings.drainTimeoutMs));
    app::stopDeliveryIo(*delivery);
    consolePool.stop();
    retentionWorker.stop();
    rt->backend->messages().stop();
    recorder.stop();
    spdlog::info("stopped");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"sendcloudd: the Aurora SendCloud server and its operator commands"};
    app.set_help_all_flag("--help-all", "show help for every command");
    sc::SettingsLoader loader;
    loader.bindFlags(app);
    app.require_subcommand(0, 1);

    std::string accountEmail;
    bool passwordStdin = false;
    auto* account = app.add_subcommand("account", "manage accounts");
    account->require_subcommand(1);
    account->fallthrough();
    auto* accountCreate = account->add_subcommand("create", "create an account");
    accountCreate->add_option("--email", accountEmail, "the account owner's e-mail")->required();
    accountCreate->add_flag("--password-stdin", passwordStdin,
                            "read a console password from standard input");
    accountCreate->fallthrough();
    auto* accountPassword =
        account->add_subcommand("set-password", "set the console password (read from stdin)");
    accountPassword->add_option("--email", accountEmail, "the account owner's e-mail")->required();
    accountPassword->fallthrough();

    struct UserCommands {
        CLI::App *create, *reset, *disable, *enable, *list;
        std::string name, account;
        bool revokeOld = false;
    };
    UserCommands emailUser, smsUser;
    CLI::App* smsSetRoute = nullptr;
    std::string smsRouteName;
    for (auto [cmd, kind, desc, sms] :
         {std::tuple{&emailUser, "email-user", "Email API users (API_USER / API_KEY)", false},
          std::tuple{&smsUser, "sms-user", "SMS API users (SMS_USER / SMS_KEY)", true}}) {
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
        if (sms) {
            smsSetRoute = group->add_subcommand(
                "set-route", "send this user's SMS over a named [[sms_route]] (\"\" clears)");
            smsSetRoute->add_option("NAME", cmd->name, "SMS_USER")->required();
            smsSetRoute->add_option("ROUTE", smsRouteName, "an [[sms_route]] name, or \"\"")
                ->required();
            smsSetRoute->fallthrough();
        }
        cmd->list = group->add_subcommand("list", "list an account's users (never their keys)");
        cmd->list->add_option("--account", cmd->account, "owning account's e-mail")->required();
        for (auto* sub : {cmd->create, cmd->reset, cmd->disable, cmd->enable, cmd->list}) {
            sub->fallthrough();
        }
    }

    // Templates: email ones by invokeName, SMS ones by id.
    std::string templateAccount, invokeName;
    int64_t smsTemplateId = 0;
    sc::app::TemplateFields fields;
    std::map<CLI::App*, std::pair<bool, std::string>> templateOps;  // sub → (sms, op)
    for (auto [group, sms] : {std::pair{"template", false}, std::pair{"sms-template", true}}) {
        auto* g = app.add_subcommand(group, sms ? "SMS templates (sent by templateId)"
                                                : "email templates (sent by invokeName)");
        g->require_subcommand(1);
        g->fallthrough();
        for (const char* op : {"create", "update", "delete", "list"}) {
            auto* sub = g->add_subcommand(op, std::string(op) + " " + group + "s");
            sub->fallthrough();
            sub->add_option("--account", templateAccount, "owning account's e-mail")->required();
            const std::string o = op;
            if (o != "list") {
                if (sms) {
                    if (o != "create")
                        sub->add_option("ID", smsTemplateId, "template id")->required();
                } else {
                    sub->add_option("INVOKE_NAME", invokeName, "the name sends use")->required();
                }
            }
            if (o == "create" || o == "update") {
                sub->add_option("--name", fields.name, "display name");
                if (sms) {
                    sub->add_option("--text", fields.text, "text with %var% placeholders");
                } else {
                    sub->add_option("--subject", fields.subject, "subject (may hold %var%)");
                    sub->add_option("--html", fields.html, "HTML body");
                    sub->add_option("--plain", fields.plain, "plain-text body");
                    sub->add_option("--html-file", fields.htmlFile,
                                    "read the HTML body from a file");
                    sub->add_option("--plain-file", fields.plainFile,
                                    "read the plain body from a file");
                }
            }
            templateOps[sub] = {sms, o};
        }
    }

    auto domainCommands = sc::app::addDomainCommands(app);

    CLI11_PARSE(app, argc, argv);

    auto settings = loader.resolve();
    if (!settings) {
        std::cerr << "sendcloudd: " << settings.error() << "\n";
        return 2;
    }
    if (accountCreate->parsed())
        return sc::app::runAccountCreate(*settings, accountEmail, passwordStdin);
    if (accountPassword->parsed()) return sc::app::runAccountSetPassword(*settings, accountEmail);
    if (auto status = sc::app::runDomainCommand(*domainCommands, *settings)) return *status;
    for (const auto& [sub, what] : templateOps) {
        if (!sub->parsed()) continue;
        return what.first ? sc::app::runSmsTemplate(*settings, what.second, templateAccount,
                                                    smsTemplateId, fields)
                          : sc::app::runEmailTemplate(*settings, what.second, templateAccount,
                                                      invokeName, fields);
    }
    if (smsSetRoute->parsed())
        return sc::app::runSmsUserSetRoute(*settings, smsUser.name, smsRouteName);
    for (auto [cmd, sms] : {std::pair{&emailUser, false}, std::pair{&smsUser, true}}) {
        if (cmd->create->parsed())
            return sc::app::runUserCreate(*settings, sms, cmd->name, cmd->account);
        if (cmd->reset->parsed())
            return sc::app::runUserReset(*settings, sms, cmd->name, cmd->revokeOld);
        if (cmd->disable->parsed())
            return sc::app::runUserSetDisabled(*settings, sms, cmd->name, true);
        if (cmd->enable->parsed())
            return sc::app::runUserSetDisabled(*settings, sms, cmd->name, false);
        if (cmd->list->parsed()) return sc::app::runUserList(*settings, sms, cmd->account);
    }
    return runServer(*settings);
}
