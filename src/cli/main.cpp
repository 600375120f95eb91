// sendcloud: the command line for the Aurora SendCloud API, on libsendcloud. Commands, options
// and exit codes are documented in docs/client.md.

#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>

#include "bulk.h"
#include "sendcloud/sendcloud.h"

namespace {

using nlohmann::json;
namespace sc = sendcloud;

// Documented exit codes.
constexpr int kOk = 0;
constexpr int kUsage = 2;
constexpr int kAuthentication = 3;
constexpr int kRejected = 4;
constexpr int kUnavailable = 5;

std::atomic<bool> interrupted{false};
void onInterrupt(int) {
    interrupted.store(true);
}

struct Global {
    std::string server;
    std::string credentialsFile;
    bool json = false;
    bool verbose = false;
};

int exitCodeOf(const sc::Error& e) {
    const std::string& code = e.errorCode();
    if (code == "client.credentials") return kAuthentication;
    if (code == "client.attachment") return kUsage;
    if (code == "client.connection" || code == "client.bad_response") return kUnavailable;
    if (e.httpStatus() == 401) return kAuthentication;
    if (e.httpStatus() == 403 && (code == "auth.user_disabled" || code == "auth.ip_not_allowed"))
        return kAuthentication;
    if (e.httpStatus() == 429 || e.httpStatus() >= 500) return kUnavailable;
    if (e.httpStatus() == 404 && code == "request.not_found") return kUnavailable;
    return kRejected;
}

int reportError(const Global& g, const sc::Error& e, const std::string& what) {
    std::string hint = e.hint();
    if (e.httpStatus() == 404 && e.errorCode() == "request.not_found" &&
        what.find("status") != std::string::npos) {
        hint = "the server at " + g.server + " does not serve " + what +
               " yet (it answered 404); status queries need a newer sendcloudd";
    }
    if (g.json) {
        json j = {{"result", false}, {"errorCode", e.errorCode()}, {"httpStatus", e.httpStatus()},
                  {"hint", hint},    {"retryable", e.retryable()}, {"attempts", e.attempts()}};
        std::cout << j.dump() << std::endl;
    } else {
        std::cerr << "sendcloud: " << e.errorCode();
        if (e.httpStatus()) std::cerr << " (HTTP " << e.httpStatus() << ")";
        std::cerr << ": " << hint;
        if (e.attempts() > 1) std::cerr << " [after " << e.attempts() << " attempts]";
        std::cerr << std::endl;
    }
    return exitCodeOf(e);
}

sc::ClientOptions clientOptions(const Global& g, sc::Api api) {
    sc::ClientOptions o;
    o.server = g.server;
    o.credentials = sc::defaultCredentials(api, g.credentialsFile);
    if (g.verbose) o.log = [](const std::string& line) { std::cerr << line << std::endl; };
    return o;
}

std::vector<std::string> splitList(const std::vector<std::string>& items) {
    std::vector<std::string> out;
    for (const auto& item : items) {
        std::string cur;
        for (char c : item) {
            if (c == ';' || c == ',') {
                if (!cur.empty()) out.push_back(cur);
                cur.clear();
            } else {
                cur += c;
            }
        }
        if (!cur.empty()) out.push_back(cur);
    }
    return out;
}

std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw sc::Error(0, "client.attachment", "cannot read " + path, false);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

json parseVars(const std::string& text) {
    if (text.empty()) return json::object();
    json v = json::parse(text, nullptr, false);
    if (!v.is_object()) throw CLI::ValidationError("--vars", "must be a JSON object");
    return v;
}

void printIds(const Global& g, const std::vector<std::string>& ids, const std::string& requestId,
              int attempts, const char* idName) {
    if (g.json) {
        std::cout << json{{"result", true},
                          {idName, ids},
                          {"sendRequestId", requestId},
                          {"attempts", attempts}}
                         .dump()
                  << std::endl;
        return;
    }
    for (const auto& id : ids) std::cout << id << "\n";
    std::cout << std::flush;
}

void printStatus(const Global& g, const std::vector<sc::StatusEntry>& entries) {
    if (g.json) {
        json list = json::array();
        for (const auto& e : entries) {
            list.push_back({{"id", e.id},
                            {"recipient", e.recipient},
                            {"status", e.status},
                            {"requestTime", e.requestTime},
                            {"modifiedTime", e.modifiedTime},
                            {"sendLog", json::parse(e.sendLogJson, nullptr, false)}});
        }
        std::cout << json{{"result", true}, {"voList", list}}.dump() << std::endl;
        return;
    }
    for (const auto& e : entries) {
        std::cout << e.id << "\t" << e.recipient << "\t" << e.status << "\t" << e.modifiedTime
                  << "\n";
    }
    std::cout << std::flush;
}

// The options of each command, bound to CLI11 by reference: they live as long as main().
struct EmailSendArgs {
    std::string from, fromName, subject, html, htmlFile, plain, templateName, vars;
    std::vector<std::string> to, cc, bcc, attach;
};

struct SmsSendArgs {
    std::vector<std::string> to;
    std::string message, vars;
    int64_t templateId = 0;
};

struct BulkArgs {
    sc::cli::BulkOptions options;
    std::string htmlFile;
};

// The command line as parsed: which command was given, and its options.
struct Commands {
    Global global;
    CLI::App *emailSend = nullptr, *smsSend = nullptr;
    CLI::App *emailStatus = nullptr, *smsStatus = nullptr;
    CLI::App *emailBulk = nullptr, *smsBulk = nullptr;
    EmailSendArgs email;
    SmsSendArgs sms;
    std::vector<std::string> statusIds;
    BulkArgs bulk;
};

void addGlobalOptions(CLI::App& app, Global& g) {
    const char* envServer = std::getenv("SENDCLOUD_URL");
    g.server = envServer && *envServer ? envServer : "http://127.0.0.1:8080";
    app.add_option("--server", g.server,
                   "server URL (default: $SENDCLOUD_URL, then http://127.0.0.1:8080)");
    app.add_option("--credentials-file", g.credentialsFile,
                   "KEY=value file (mode 600); default: the environment variables, then "
                   "~/.config/sendcloud/credentials");
    app.add_flag("--json", g.json, "print results and errors as JSON");
    app.add_flag("-v,--verbose", g.verbose, "show each request and answer (keys as ***)");
    app.footer(
        "Exit codes: 0 ok, 2 usage, 3 authentication, 4 rejected, 5 unavailable.\n"
        "Credentials: EMAIL_API_USER/EMAIL_API_KEY and SMS_API_USER/SMS_API_KEY.");
}

CLI::App* addEmailSend(CLI::App* email, EmailSendArgs& es) {
    auto* emailSend = email->add_subcommand("send", "send one email");
    emailSend->add_option("--from", es.from, "sender address")->required();
    emailSend->add_option("--from-name", es.fromName, "sender display name");
    emailSend->add_option("--to", es.to, "recipients (repeat, or separate with ';')")->required();
    emailSend->add_option("--cc", es.cc, "copies");
    emailSend->add_option("--bcc", es.bcc, "blind copies");
    emailSend->add_option("--subject", es.subject, "subject");
    auto* html = emailSend->add_option("--html", es.html, "HTML body");
    auto* htmlFile =
        emailSend->add_option("--html-file", es.htmlFile, "read the HTML body from a file");
    auto* plain = emailSend->add_option("--plain", es.plain, "plain-text body");
    html->excludes(htmlFile);
    emailSend->add_option("--attach", es.attach, "attach a file (repeatable)")
        ->check(CLI::ExistingFile);
    auto* tmpl = emailSend->add_option("--template", es.templateName,
                                       "send the stored template with this invoke name");
    emailSend->add_option("--vars", es.vars, R"(template variables, JSON: {"%name%":"Ann"})");
    tmpl->excludes(html)->excludes(htmlFile)->excludes(plain);
    return emailSend;
}

CLI::App* addSmsSend(CLI::App* sms, SmsSendArgs& ss) {
    auto* smsSend = sms->add_subcommand("send", "send one SMS");
    smsSend->add_option("--to", ss.to, "E.164 numbers (repeat, or separate with ',')")->required();
    auto* msg = smsSend->add_option("--message", ss.message, "the text");
    auto* smsTmpl = smsSend->add_option("--template", ss.templateId, "an SMS template id");
    smsSend->add_option("--vars", ss.vars, R"(template variables, JSON: {"%code%":"1234"})");
    msg->excludes(smsTmpl);
    return smsSend;
}

void addStatus(CLI::App* email, CLI::App* sms, Commands& c) {
    c.emailStatus = email->add_subcommand("status", "delivery status of email ids");
    c.emailStatus->add_option("ID", c.statusIds, "emailIds")->required();
    c.smsStatus = sms->add_subcommand("status", "delivery status of SMS ids");
    c.smsStatus->add_option("ID", c.statusIds, "smsIds")->required();
}

void addBulk(CLI::App* email, CLI::App* sms, Commands& c) {
    sc::cli::BulkOptions& bulk = c.bulk.options;
    auto* emailBulk = email->add_subcommand(
        "send-bulk", "one email per CSV row (column 'to'; the others are %column% variables)");
    emailBulk->add_option("--csv", bulk.csvPath, "the CSV file")
        ->required()
        ->check(CLI::ExistingFile);
    emailBulk->add_option("--from", bulk.from, "sender address")->required();
    emailBulk->add_option("--from-name", bulk.fromName, "sender display name");
    emailBulk->add_option("--subject", bulk.subject, "subject (may hold %column%)");
    auto* bHtml = emailBulk->add_option("--html", bulk.html, "HTML body (may hold %column%)");
    auto* bHtmlFile =
        emailBulk->add_option("--html-file", c.bulk.htmlFile, "read the HTML body from a file");
    auto* bPlain = emailBulk->add_option("--plain", bulk.plain, "plain-text body");
    auto* bTmpl =
        emailBulk->add_option("--template", bulk.templateName, "a stored template's invoke name");
    bHtml->excludes(bHtmlFile);
    bTmpl->excludes(bHtml)->excludes(bHtmlFile)->excludes(bPlain);
    auto* smsBulk = sms->add_subcommand(
        "send-bulk", "one SMS per CSV row (column 'to'; the others are %column% variables)");
    smsBulk->add_option("--csv", bulk.csvPath, "the CSV file")
        ->required()
        ->check(CLI::ExistingFile);
    auto* bMsg = smsBulk->add_option("--message", bulk.message, "text (may hold %column%)");
    auto* bSmsTmpl = smsBulk->add_option("--template", bulk.smsTemplateId, "an SMS template id");
    bMsg->excludes(bSmsTmpl);
    for (auto* b : {emailBulk, smsBulk}) {
        b->add_option("--state-dir", bulk.stateDir,
                      "where the resume state is kept (default ~/.local/state/sendcloud)");
    }
    c.emailBulk = emailBulk;
    c.smsBulk = smsBulk;
}

void defineCommands(CLI::App& app, Commands& c) {
    app.require_subcommand(1);
    addGlobalOptions(app, c.global);
    auto* email = app.add_subcommand("email", "the Email API");
    email->require_subcommand(1);
    auto* sms = app.add_subcommand("sms", "the SMS API");
    sms->require_subcommand(1);
    for (auto* sub : {email, sms}) sub->fallthrough();
    c.emailSend = addEmailSend(email, c.email);
    c.smsSend = addSmsSend(sms, c.sms);
    addStatus(email, sms, c);
    addBulk(email, sms, c);
    // Global options are accepted after the command too: `sendcloud email send ... --json`.
    for (auto* sub : {c.emailSend, c.smsSend, c.emailStatus, c.smsStatus, c.emailBulk, c.smsBulk}) {
        sub->fallthrough();
    }
}

// The sender, subject and X-SMTPAPI that an email and a template email both carry.
template <class Request>
Request emailFrom(const std::string& from, const std::string& fromName, const std::string& subject,
                  std::string xsmtpapi) {
    Request r;
    r.from = from;
    r.fromName = fromName;
    r.subject = subject;
    r.xsmtpapi = std::move(xsmtpapi);
    return r;
}

int runEmailSend(const Global& g, const EmailSendArgs& es) {
    if (es.templateName.empty() && es.html.empty() && es.htmlFile.empty() && es.plain.empty()) {
        std::cerr << "sendcloud: email send needs --html, --html-file, --plain or --template\n";
        return kUsage;
    }
    json vars = parseVars(es.vars);
    sc::EmailClient client(clientOptions(g, sc::Api::Email));
    std::vector<sc::Attachment> attachments;
    for (const auto& f : es.attach) attachments.push_back(sc::Attachment::fromFile(f));
    sc::EmailResult r;
    if (!es.templateName.empty()) {
        json x = {{"to", splitList(es.to)}};
        if (!vars.empty()) x["pubsub"] = vars;
        auto t = emailFrom<sc::TemplateEmailRequest>(es.from, es.fromName, es.subject, x.dump());
        t.templateInvokeName = es.templateName;
        t.attachments = std::move(attachments);
        r = client.sendTemplate(t);
    } else {
        if (es.subject.empty()) {
            std::cerr << "sendcloud: email send needs --subject\n";
            return kUsage;
        }
        auto e = emailFrom<sc::EmailRequest>(es.from, es.fromName, es.subject,
                                             vars.empty() ? "" : json{{"pubsub", vars}}.dump());
        e.to = splitList(es.to);
        e.cc = splitList(es.cc);
        e.bcc = splitList(es.bcc);
        e.html = es.htmlFile.empty() ? es.html : readFile(es.htmlFile);
        e.plain = es.plain;
        e.attachments = std::move(attachments);
        r = client.send(e);
    }
    printIds(g, r.emailIds, r.sendRequestId, r.attempts, "emailIds");
    return kOk;
}

int runSmsSend(const Global& g, const SmsSendArgs& ss) {
    if (ss.message.empty() && ss.templateId == 0) {
        std::cerr << "sendcloud: sms send needs --message or --template\n";
        return kUsage;
    }
    parseVars(ss.vars);
    sc::SmsClient client(clientOptions(g, sc::Api::Sms));
    sc::SmsRequest s;
    s.to = splitList(ss.to);
    s.message = ss.message;
    if (ss.templateId) s.templateId = ss.templateId;
    s.vars = ss.vars;
    auto r = client.send(s);
    printIds(g, r.smsIds, r.sendRequestId, r.attempts, "smsIds");
    return kOk;
}

int runStatus(const Global& g, bool sms, const std::vector<std::string>& statusIds) {
    auto ids = splitList(statusIds);
    if (sms) {
        sc::SmsClient client(clientOptions(g, sc::Api::Sms));
        printStatus(g, client.status(ids));
    } else {
        sc::EmailClient client(clientOptions(g, sc::Api::Email));
        printStatus(g, client.status(ids));
    }
    return kOk;
}

// Ctrl-C (or SIGTERM) lets the row in flight finish, then the bulk run stops and says so.
void stopBulkOnInterrupt() {
    struct sigaction sa {};
    sa.sa_handler = onInterrupt;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
}

// Sends one CSV row: its columns are the template variables of an SMS, or X-SMTPAPI `sub`
// values of an email to that one recipient.
class BulkRowSender {
public:
    BulkRowSender(const Global& g, const sc::cli::BulkOptions& options, bool sms)
        : options_(options) {
        if (sms) {
            smsClient_ = std::make_unique<sc::SmsClient>(clientOptions(g, sc::Api::Sms));
        } else {
            emailClient_ = std::make_unique<sc::EmailClient>(clientOptions(g, sc::Api::Email));
        }
    }

    void operator()(const std::string& to,
                    const std::vector<std::pair<std::string, std::string>>& vars,
                    const std::string& requestId) const {
        if (smsClient_) {
            sendSms(to, vars, requestId);
        } else {
            sendEmail(to, vars, requestId);
        }
    }

private:
    void sendSms(const std::string& to,
                 const std::vector<std::pair<std::string, std::string>>& vars,
                 const std::string& requestId) const {
        sc::SmsRequest s;
        s.to = {to};
        s.message = options_.message;
        if (options_.smsTemplateId) s.templateId = options_.smsTemplateId;
        json v = json::object();
        for (const auto& [k, val] : vars) v[k] = val;
        if (!vars.empty()) s.vars = v.dump();
        s.sendRequestId = requestId;
        smsClient_->send(s);
    }

    void sendEmail(const std::string& to,
                   const std::vector<std::pair<std::string, std::string>>& vars,
                   const std::string& requestId) const {
        json sub = json::object();
        for (const auto& [k, val] : vars) sub[k] = json::array({val});
        json x = {{"to", json::array({to})}};
        if (!vars.empty()) x["sub"] = sub;
        const sc::cli::BulkOptions& o = options_;
        if (!o.templateName.empty()) {
            auto t = emailFrom<sc::TemplateEmailRequest>(o.from, o.fromName, o.subject, x.dump());
            t.templateInvokeName = o.templateName;
            t.sendRequestId = requestId;
            emailClient_->sendTemplate(t);
        } else {
            auto e = emailFrom<sc::EmailRequest>(o.from, o.fromName, o.subject, x.dump());
            e.html = o.html;
            e.plain = o.plain;
            e.sendRequestId = requestId;
            emailClient_->send(e);
        }
    }

    const sc::cli::BulkOptions& options_;
    std::unique_ptr<sc::EmailClient> emailClient_;
    std::unique_ptr<sc::SmsClient> smsClient_;
};

void printBulkReport(const Global& g, const sc::cli::BulkReport& report) {
    if (g.json) {
        std::cout << json{{"result", report.failed == 0 && !report.interrupted},
                          {"total", report.total},
                          {"sent", report.sent},
                          {"skipped", report.skipped},
                          {"failed", report.failed},
                          {"interrupted", report.interrupted},
                          {"stateFile", report.stateFile}}
                         .dump()
                  << std::endl;
        return;
    }
    std::cout << (report.interrupted ? "interrupted: " : "done: ") << report.sent << " sent, "
              << report.skipped << " already sent before, " << report.failed << " failed, of "
              << report.total << " rows\n";
    if (report.interrupted) {
        std::cout << "run the same command again to send the rest (state: " << report.stateFile
                  << ")\n";
    }
    std::cout << std::flush;
}

int runBulkSend(const Global& g, BulkArgs& args, bool isSms) {
    sc::cli::BulkOptions& bulk = args.options;
    bulk.json = g.json;
    if (!args.htmlFile.empty()) bulk.html = readFile(args.htmlFile);
    if (isSms && bulk.message.empty() && bulk.smsTemplateId == 0) {
        std::cerr << "sendcloud: sms send-bulk needs --message or --template\n";
        return kUsage;
    }
    if (!isSms && bulk.templateName.empty() &&
        (bulk.subject.empty() || (bulk.html.empty() && bulk.plain.empty()))) {
        std::cerr << "sendcloud: email send-bulk needs --subject and --html, "
                     "--html-file or --plain, or --template\n";
        return kUsage;
    }
    stopBulkOnInterrupt();
    const BulkRowSender sender(g, bulk, isSms);
    auto report = sc::cli::runBulk(bulk, isSms, std::cref(sender), interrupted, exitCodeOf);
    printBulkReport(g, report);
    if (report.interrupted) return 130;
    return report.failed ? report.lastFailureExit : kOk;
}

// The API path the parsed command calls, named in its error messages.
std::string pathOf(const Commands& c) {
    if (c.emailSend->parsed() || c.emailBulk->parsed()) return "/email/send";
    if (c.smsSend->parsed() || c.smsBulk->parsed()) return "/smsapi/send";
    if (c.emailStatus->parsed()) return "/email/status";
    if (c.smsStatus->parsed()) return "/smsapi/status";
    return "";
}

int runCommand(Commands& c) {
    const Global& g = c.global;
    if (c.emailSend->parsed()) return runEmailSend(g, c.email);
    if (c.smsSend->parsed()) return runSmsSend(g, c.sms);
    if (c.emailStatus->parsed() || c.smsStatus->parsed()) {
        return runStatus(g, c.smsStatus->parsed(), c.statusIds);
    }
    if (c.emailBulk->parsed() || c.smsBulk->parsed()) {
        return runBulkSend(g, c.bulk, c.smsBulk->parsed());
    }
    return kUsage;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"sendcloud: send email and SMS through an Aurora SendCloud server"};
    Commands commands;
    defineCommands(app, commands);
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return kUsage;
    }
    try {
        return runCommand(commands);
    } catch (const sc::Error& e) {
        return reportError(commands.global, e, pathOf(commands));
    } catch (const CLI::ValidationError& e) {
        std::cerr << "sendcloud: " << e.what() << "\n";
        return kUsage;
    } catch (const std::exception& e) {
        std::cerr << "sendcloud: " << e.what() << "\n";
        return kUsage;
    }
}
