#pragma once
// Private to sc_common: the [[sms_route]] parser on an already parsed TOML node (the value of
// the top-level `sms_route` key), for config.cpp.

#include <toml++/toml.h>

#include "common/sms_routes.h"

namespace sc {
Result<std::vector<SmsRouteConfig>, std::string> parseSmsRoutes(const toml::node& node);
}
