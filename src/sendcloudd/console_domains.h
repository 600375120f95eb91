#pragma once
// The console's DomainAdmin (console/domains_api.h) in the server: sending domains and DKIM keys
// through delivery::dkim::DomainKeys, and the "is it published?" check through a TXT look-up
// with the server's resolver (--dns-servers).

#include <memory>

#include "common/config.h"
#include "console/domains_api.h"
#include "sendcloudd/runtime.h"

namespace sc::app {

std::unique_ptr<console::DomainAdmin> makeConsoleDomainAdmin(Runtime& rt, const Settings& settings);

}  // namespace sc::app
