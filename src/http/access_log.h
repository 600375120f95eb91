#pragma once
// One line per request: method, path (query string with secrets masked), status, latency,
// client IP and API user. Secrets are masked by parameter name, after percent-decoding the name,
// so "api%4Bey=..." is caught as surely as "apiKey=...".

#include <chrono>
#include <string>
#include <string_view>

#include "http/request.h"

namespace sc::http {

// Replaces the value of every parameter whose name looks secret (key, password, secret, token,
// signature, in any case) with ***.
std::string redactTarget(std::string_view target);

class AccessLog {
public:
    explicit AccessLog(bool enabled) : enabled_(enabled) {}
    bool enabled() const { return enabled_; }
    void record(std::string_view method, std::string_view target, int status,
                std::chrono::microseconds latency, std::string_view clientIp,
                std::string_view user) const;

private:
    bool enabled_;
};

}  // namespace sc::http
