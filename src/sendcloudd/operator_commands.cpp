#include "sendcloudd/operator_commands.h"

#include <sodium.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "console/password_hasher.h"
#include "sendcloudd/runtime.h"

namespace sc::app {

namespace {

const char* keyLabel(bool sms) {
    return sms ? "SMS_KEY" : "API_KEY";
}
const char* userLabel(bool sms) {
    return sms ? "SMS_USER" : "API_USER";
}

// The user of the expected kind, or null after saying why.
std::optional<store::ApiUser> findUserOfKind(Runtime& rt, bool sms, const std::string& name) {
    auto found = rt.backend->credentials().findUser(name);
    if (!found) {
        std::cerr << "sendcloudd: " << found.error().message << "\n";
        return std::nullopt;
    }
    const auto& user = found.value();
    if (!user || (user->kind == store::UserKind::Sms) != sms) {
        std::cerr << "sendcloudd: no " << userLabel(sms) << " named " << name << "\n";
        return std::nullopt;
    }
    return user;
}

// A password from standard input: one line, without its newline. Never echoed.
std::optional<std::string> readPassword() {
    std::string password;
    if (!std::getline(std::cin, password)) password.clear();
    if (!password.empty() && password.back() == '\r') password.pop_back();
    if (password.size() < 10) {
        std::cerr << "sendcloudd: the password (read from standard input) must have at least 10 "
                     "characters\n";
        return std::nullopt;
    }
    return password;
}

int setPassword(Runtime& rt, int64_t accountId, std::string password) {
    auto hash = console::hashPassword(password, console::PasswordLimits::interactive());
    sodium_memzero(password.data(), password.size());
    if (!hash) {
        std::cerr << "sendcloudd: " << hash.error() << "\n";
        return 1;
    }
    auto r = rt.backend->credentials().setAccountPassword(accountId, hash.value());
    if (!r) {
        std::cerr << "sendcloudd: " << r.error().message << "\n";
        return 1;
    }
    // A new password ends every console session of the account: whoever knew the old one may
    // still hold a cookie. Sessions live in the database, so a running server sees this at once.
    auto ended = rt.backend->sessions().deleteAccountSessions(accountId);
    if (!ended) {
        std::cerr << "sendcloudd: the password is set, but the account's console sessions could "
                     "not be ended: "
                  << ended.error().message << "; run the command again\n";
        return 1;
    }
    if (ended.value() > 0) std::cout << "console sessions ended: " << ended.value() << "\n";
    return 0;
}

}  // namespace

int runAccountCreate(const Settings& settings, const std::string& email, bool passwordFromStdin) {
    std::optional<std::string> password;
    if (passwordFromStdin && !(password = readPassword())) return 1;
    auto rt = openRuntime(settings);
    if (!rt) return 1;
    auto account = rt->issuer->createAccount(email);
    if (!account) {
        std::cerr << "sendcloudd: " << account.error().message << "\n";
        return 1;
    }
    if (password && setPassword(*rt, account->id, std::move(*password)) != 0) return 1;
    std::cout << "account created: " << account->email << " (id " << account->id << ")"
              << (password ? ", console password set" : "") << "\n";
    return 0;
}

int runAccountSetPassword(const Settings& settings, const std::string& email) {
    auto password = readPassword();
    if (!password) return 1;
    auto rt = openRuntime(settings);
    if (!rt) return 1;
    auto accountId = accountIdOf(*rt, email);
    if (!accountId) return 1;
    if (setPassword(*rt, *accountId, std::move(*password)) != 0) return 1;
    std::cout << "console password set for " << email << "\n";
    return 0;
}

int runUserCreate(const Settings& settings, bool sms, const std::string& name,
                  const std::string& accountEmail) {
    auto rt = openRuntime(settings);
    if (!rt) return 1;
    auto issued = rt->issuer->createUser(name, sms ? store::UserKind::Sms : store::UserKind::Email,
                                         accountEmail);
    if (!issued) {
        std::cerr << "sendcloudd: " << issued.error().message << "\n";
        return 1;
    }
    std::cout << userLabel(sms) << " " << issued->user.name << " created for " << accountEmail
              << "\n"
              << keyLabel(sms) << ": " << issued->key << "\n"
              << "(the key is shown only this once; fingerprint " << issued->user.keyFingerprint
              << ")\n";
    return 0;
}

int runUserReset(const Settings& settings, bool sms, const std::string& name, bool revokeOld) {
    auto rt = openRuntime(settings);
    if (!rt) return 1;
    auto user = findUserOfKind(*rt, sms, name);
    if (!user) return 1;
    auto issued = rt->issuer->resetKey(user->id, revokeOld);
    if (!issued) {
        std::cerr << "sendcloudd: " << issued.error().message << "\n";
        return 1;
    }
    std::cout << keyLabel(sms) << " of " << name << " reset\n"
              << keyLabel(sms) << ": " << issued->key << "\n";
    if (sms || revokeOld) {
        std::cout << "the old key (fingerprint " << user->keyFingerprint
                  << ") is refused from now on\n";
    } else {
        auto until = rt->clock.now() + rt->issuer->emailKeyGrace();
        std::cout << "the old key (fingerprint " << user->keyFingerprint << ") keeps working until "
                  << formatIso8601(std::chrono::time_point_cast<Clock::Duration>(until)) << "\n";
    }
    std::cout << "(the new key is shown only this once; fingerprint " << issued->user.keyFingerprint
              << ")\n";
    return 0;
}

int runUserSetDisabled(const Settings& settings, bool sms, const std::string& name, bool disabled) {
    auto rt = openRuntime(settings);
    if (!rt) return 1;
    auto user = findUserOfKind(*rt, sms, name);
    if (!user) return 1;
    auto r = rt->backend->credentials().setUserDisabled(name, disabled);
    if (!r) {
        std::cerr << "sendcloudd: " << r.error().message << "\n";
        return 1;
    }
    std::cout << userLabel(sms) << " " << name << (disabled ? " disabled" : " enabled") << "\n";
    return 0;
}

int runSmsUserSetRoute(const Settings& settings, const std::string& name,
                       const std::string& route) {
    // The same rule as the management API: only a route this configuration has, or "" to clear.
    if (!route.empty()) {
        bool known = false;
        for (const auto& r : settings.smsRoutes) known |= r.name == route;
        if (!known) {
            std::string names;
            for (const auto& r : settings.smsRoutes) names += (names.empty() ? "" : ", ") + r.name;
            std::cerr << "sendcloudd: no [[sms_route]] named " << route << " in the configuration"
                      << (names.empty() ? std::string(" (it has none)") : " (it has " + names + ")")
                      << "\n";
            return 1;
        }
    }
    auto rt = openRuntime(settings);
    if (!rt) return 1;
    auto user = findUserOfKind(*rt, /*sms=*/true, name);
    if (!user) return 1;
    store::UserPolicy policy = user->policy;
    policy.smsRoute = route;
    auto r = rt->backend->credentials().updateUser(user->id, policy, user->disabled);
    if (!r) {
        std::cerr << "sendcloudd: " << r.error().message << "\n";
        return 1;
    }
    std::cout << "SMS_USER " << name
              << (route.empty() ? std::string(" takes the route of each number's prefix again")
                                : " sends over route " + route)
              << " (a running server within 30 s)\n";
    return 0;
}

int runUserList(const Settings& settings, bool sms, const std::string& accountEmail) {
    auto rt = openRuntime(settings);
    if (!rt) return 1;
    auto accountId = accountIdOf(*rt, accountEmail);
    if (!accountId) return 1;
    auto users = rt->backend->credentials().listUsers(*accountId);
    if (!users) {
        std::cerr << "sendcloudd: " << users.error().message << "\n";
        return 1;
    }
    std::cout << "NAME\tSTATE\tMODE\tKEY\tCREATED\n";
    for (const auto& u : users.value()) {
        if ((u.kind == store::UserKind::Sms) != sms) continue;
        std::cout << u.name << "\t" << (u.disabled ? "disabled" : "enabled") << "\t"
                  << (u.policy.testMode ? "test" : "live") << "\t" << u.keyFingerprint << "\t"
                  << formatIso8601(Clock::TimePoint(Clock::Duration(u.createdAtMs))) << "\n";
    }
    return 0;
}

}  // namespace sc::app

namespace sc::app {

namespace {

bool readFileInto(const std::string& path, std::string& out) {
    if (path.empty()) return true;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        std::cerr << "sendcloudd: cannot read " << path << "\n";
        return false;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    out = ss.str();
    return true;
}

int storeFailure(const store::StoreError& e, const std::string& what) {
    switch (e.kind) {
        case store::StoreError::Kind::Conflict:
            std::cerr << "sendcloudd: " << what << " already exists\n";
            break;
        case store::StoreError::Kind::NotFound:
            std::cerr << "sendcloudd: no " << what << "\n";
            break;
        default:
            std::cerr << "sendcloudd: " << e.message << "\n";
    }
    return 1;
}

}  // namespace

int runEmailTemplate(const Settings& settings, const std::string& op, const std::string& account,
                     const std::string& invokeName, const TemplateFields& fields) {
    auto rt = openRuntime(settings);
    if (!rt) return 1;
    auto accountId = accountIdOf(*rt, account);
    if (!accountId) return 1;
    auto& templates = rt->backend->templates();
    const std::string what = "email template '" + invokeName + "'";
    if (op == "list") {
        auto list = templates.listEmailTemplates(*accountId);
        if (!list) return storeFailure(list.error(), "templates");
        std::cout << "INVOKE_NAME\tNAME\tSUBJECT\tUPDATED\n";
        for (const auto& t : list.value()) {
            std::cout << t.invokeName << "\t" << t.name << "\t" << t.subject << "\t"
                      << formatIso8601(Clock::TimePoint(Clock::Duration(t.updatedAtMs))) << "\n";
        }
        return 0;
    }
    if (op == "delete") {
        auto r = templates.deleteEmailTemplate(*accountId, invokeName);
        if (!r) return storeFailure(r.error(), what);
        std::cout << what << " deleted\n";
        return 0;
    }
    store::EmailTemplate t;
    t.accountId = *accountId;
    t.invokeName = invokeName;
    t.name = fields.name.empty() ? invokeName : fields.name;
    t.subject = fields.subject;
    t.html = fields.html;
    t.plain = fields.plain;
    if (!readFileInto(fields.htmlFile, t.html) || !readFileInto(fields.plainFile, t.plain))
        return 1;
    if (t.invokeName.empty() || t.invokeName.size() > 64) {
        std::cerr << "sendcloudd: the invoke name must have 1 to 64 characters\n";
        return 1;
    }
    if (t.html.empty() && t.plain.empty()) {
        std::cerr << "sendcloudd: a template needs --html or --plain (or their -file forms)\n";
        return 1;
    }
    t.createdAtMs = t.updatedAtMs = rt->clock.nowMillis();
    auto r = op == "create" ? templates.createEmailTemplate(t) : templates.updateEmailTemplate(t);
    if (!r) return storeFailure(r.error(), what);
    std::cout << what << (op == "create" ? " created\n" : " updated\n");
    return 0;
}

int runSmsTemplate(const Settings& settings, const std::string& op, const std::string& account,
                   int64_t id, const TemplateFields& fields) {
    auto rt = openRuntime(settings);
    if (!rt) return 1;
    auto accountId = accountIdOf(*rt, account);
    if (!accountId) return 1;
    auto& templates = rt->backend->templates();
    const std::string what = "SMS template " + std::to_string(id);
    if (op == "list") {
        auto list = templates.listSmsTemplates(*accountId);
        if (!list) return storeFailure(list.error(), "templates");
        std::cout << "ID\tNAME\tTEXT\n";
        for (const auto& t : list.value()) {
            std::cout << t.id << "\t" << t.name << "\t" << t.text << "\n";
        }
        return 0;
    }
    if (op == "delete") {
        auto r = templates.deleteSmsTemplate(*accountId, id);
        if (!r) return storeFailure(r.error(), what);
        std::cout << what << " deleted\n";
        return 0;
    }
    if (fields.text.empty()) {
        std::cerr << "sendcloudd: an SMS template needs --text\n";
        return 1;
    }
    store::SmsTemplate t;
    t.id = id;
    t.accountId = *accountId;
    t.name = fields.name;
    t.text = fields.text;
    t.createdAtMs = t.updatedAtMs = rt->clock.nowMillis();
    auto r = op == "create" ? templates.createSmsTemplate(t) : templates.updateSmsTemplate(t);
    if (!r) return storeFailure(r.error(), what);
    std::cout << "SMS template " << r->id << (op == "create" ? " created" : " updated") << "\n"
              << "TEMPLATE_ID: " << r->id << "\n";
    return 0;
}

}  // namespace sc::app
