#include "common/logging.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace sc {

Status<std::string> initLogging(const std::string& level) {
    auto lvl = spdlog::level::from_str(level);
    // from_str maps unknown names to "off"; refuse them rather than silently going quiet.
    if (lvl == spdlog::level::off && level != "off") {
        return fail("unknown log level '" + level + "' (trace, debug, info, warn, error, off)");
    }
    auto logger = spdlog::stderr_logger_mt("sendcloudd");
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
    logger->set_level(lvl);
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(logger);
    return Ok{};
}

}  // namespace sc
