#include "sendcloudd/operator_commands.h"

#include <iostream>

#include "sendcloudd/runtime.h"

namespace sc::app {

int runAccountCreate(const Settings& settings, const std::string& email) {
    auto rt = openRuntime(settings);
    if (!rt) return 1;
    auto account = rt->issuer->createAccount(email);
    if (!account) {
        std::cerr << "sendcloudd: " << account.error().message << "\n";
        return 1;
    }
    std::cout << "account created: " << account->email << " (id " << account->id << ")\n";
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
    const char* keyLabel = sms ? "SMS_KEY" : "API_KEY";
    std::cout << (sms ? "SMS_USER " : "API_USER ") << issued->user.name << " created for "
              << accountEmail << "\n"
              << keyLabel << ": " << issued->key << "\n"
              << "(the key is shown only this once; fingerprint " << issued->user.keyFingerprint
              << ")\n";
    return 0;
}

}  // namespace sc::app
