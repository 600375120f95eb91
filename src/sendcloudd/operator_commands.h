#pragma once
// Operator commands run by the same binary against the configured database:
// `account create`, `email-user create`, `sms-user create`. Each prints a new key exactly once,
// to standard output, and never logs it.

#include <string>

#include "common/config.h"

namespace sc::app {

int runAccountCreate(const Settings& settings, const std::string& email);
int runUserCreate(const Settings& settings, bool sms, const std::string& name,
                  const std::string& accountEmail);

}  // namespace sc::app
