#pragma once
// Logging setup. Log lines go to stderr through spdlog; nothing that holds a key, password or
// session token may be passed to a logger (see redaction in http/access_log.h).

#include <string>

#include "common/result.h"

namespace sc {

// Sets the global level ("trace" .. "error") and the line pattern.
Status<std::string> initLogging(const std::string& level);

}  // namespace sc
