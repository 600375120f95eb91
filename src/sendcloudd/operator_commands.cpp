#include "sendcloudd/operator_commands.h"

#include <sodium.h>

#include <iostream>

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
    char hash[crypto_pwhash_STRBYTES];
    int rc =
        crypto_pwhash_str(hash, password.data(), password.size(),
                          crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE);
    sodium_memzero(password.data(), password.size());
    if (rc != 0) {
        std::cerr << "sendcloudd: out of memory while hashing the password\n";
        return 1;
    }
    auto r = rt.backend->credentials().setAccountPassword(accountId, hash);
    if (!r) {
        std::cerr << "sendcloudd: " << r.error().message << "\n";
        return 1;
    }
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
    auto account = rt->backend->credentials().findAccountByEmail(email);
    if (!account || !account.value()) {
        std::cerr << "sendcloudd: no account with e-mail " << email << "\n";
        return 1;
    }
    if (setPassword(*rt, account.value()->id, std::move(*password)) != 0) return 1;
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

int runUserList(const Settings& settings, bool sms, const std::string& accountEmail) {
    auto rt = openRuntime(settings);
    if (!rt) return 1;
    auto account = rt->backend->credentials().findAccountByEmail(accountEmail);
    if (!account || !account.value()) {
        std::cerr << "sendcloudd: no account with e-mail " << accountEmail << "\n";
        return 1;
    }
    auto users = rt->backend->credentials().listUsers(account.value()->id);
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
