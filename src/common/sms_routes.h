#pragma once
// SMS routes: the `[[sms_route]]` tables of the --config file (docs/operations.md). Parsed here
// with limits and errors that name the file, the route and the key; the secrets they point to
// (password_file, auth_header_file) are read by the SMS agent when it starts, never logged.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace sc {

struct SmsRouteConfig {
    enum class Connector { Smpp, Kannel, Http, Sandbox };

    std::string name;  // [a-z0-9_-]{1,32}: appears in URLs, metrics and logs
    Connector connector = Connector::Smpp;
    // smpp
    std::string host;
    int port = 2775;
    std::string systemId;
    std::string systemType;
    std::string passwordFile;  // smpp and kannel
    int window = 10;           // outstanding submit_sm
    // The first wait before binding again after a failed bind (doubling each time) and its
    // ceiling; unset: the agent's defaults, 10 s and 5 min.
    std::optional<std::chrono::milliseconds> reconnectDelay;
    std::optional<std::chrono::milliseconds> reconnectMax;
    // all connectors
    double rate = 0;         // message parts per second, 0: unlimited
    std::string sourceAddr;  // sender (E.164 or up to 11 alphanumerics); empty: SMSC default
    std::vector<std::string> prefixes;  // "+1", "+44": numbers this route takes
    bool isDefault = false;
    // kannel and http
    std::string url;
    std::string username;        // kannel
    std::string authHeaderFile;  // http: the whole header line, e.g. "Authorization: Bearer ..."
    // kannel: where Kannel sends DLRs back: this server's own base URL as Kannel reaches it
    std::string dlrBaseUrl;
};

inline constexpr size_t kMaxSmsRoutes = 64;
inline constexpr std::chrono::milliseconds kMinReconnectDelay{100};
inline constexpr std::chrono::milliseconds kMaxReconnectDelay{3600000};  // 1 h
inline constexpr std::chrono::milliseconds kMaxReconnectMax{86400000};   // 24 h

const char* connectorName(SmsRouteConfig::Connector c);

// "500ms", "10s", "5m", "1h": digits (at most 9) and one of those units; nullopt otherwise.
std::optional<std::chrono::milliseconds> parseRouteDuration(std::string_view text);

// The [[sms_route]] tables of a TOML document (other keys are ignored); config.cpp reads them
// from the parsed --config file through sms_routes_toml.h.
Result<std::vector<SmsRouteConfig>, std::string> parseSmsRoutesToml(std::string_view toml);

}  // namespace sc
