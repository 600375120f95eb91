#pragma once
// Operator commands run by the same binary against the configured database. A new key is
// printed exactly once, to standard output, by the command that made it (create, reset);
// nothing else ever prints a key, and nothing is logged. Changes take effect in a running
// server at once, because it reads credentials from the store on every request.

#include <string>

#include "common/config.h"

namespace sc::app {

int runAccountCreate(const Settings& settings, const std::string& email, bool passwordFromStdin);
int runAccountSetPassword(const Settings& settings, const std::string& email);
int runUserCreate(const Settings& settings, bool sms, const std::string& name,
                  const std::string& accountEmail);
int runUserReset(const Settings& settings, bool sms, const std::string& name, bool revokeOld);
int runUserSetDisabled(const Settings& settings, bool sms, const std::string& name, bool disabled);
// `sms-user set-route NAME ROUTE` ("" clears the choice): docs/delivery.md, "Which route".
int runSmsUserSetRoute(const Settings& settings, const std::string& name, const std::string& route);
int runUserList(const Settings& settings, bool sms, const std::string& accountEmail);

}  // namespace sc::app

namespace sc::app {

struct TemplateFields {
    std::string name, subject, html, plain, text;
    std::string htmlFile, plainFile;  // read instead of html/plain when set
};

// Email templates by invokeName; SMS templates by id. `op` is create | update | delete | list.
int runEmailTemplate(const Settings& settings, const std::string& op, const std::string& account,
                     const std::string& invokeName, const TemplateFields& fields);
int runSmsTemplate(const Settings& settings, const std::string& op, const std::string& account,
                   int64_t id, const TemplateFields& fields);

}  // namespace sc::app
