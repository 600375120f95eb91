#pragma once
// `sendcloudd domain add|dns|rotate|list|remove`: sending domains and their DKIM keys
// (docs/operations.md, "Sending domains and DKIM"). Like the other operator commands they work
// against the configured database, also under a running server, which signs with a rotated key
// within DomainKeys::kCacheMs. A private key is never printed.

#include <memory>
#include <optional>

#include <CLI/CLI.hpp>

#include "common/config.h"

namespace sc::app {

struct DomainCommands;

// Registers the `domain` group on `app`; the answer holds the parsed arguments.
std::shared_ptr<DomainCommands> addDomainCommands(CLI::App& app);
// The exit status when one of the domain commands was parsed, else nullopt.
std::optional<int> runDomainCommand(const DomainCommands& commands, const Settings& settings);

}  // namespace sc::app
