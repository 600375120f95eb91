#pragma once
// One line per request: method, target, status, latency, client IP and API user, written so that
// no secret can reach it whatever shape the request has (docs/operations.md, "Access log").
// Keys arrive in every place a client can put them: a parameter value, a value glued to another
// (`apiUser=acme:KEY`), a name, a path segment, percent-encoded or not. Recognising secrets is a
// losing game, so the target is logged by allowlist instead: path segments that look like route
// words stay, every other segment becomes `*`; in the query, known parameter names stay, others
// become `*`, and every non-empty value becomes `***`.

#include <chrono>
#include <string>
#include <string_view>

#include "http/request.h"

namespace sc::http {

// The target as the access log writes it (see above).
std::string redactTarget(std::string_view target);

// The method as the access log writes it: a standard method's name, otherwise "OTHER" (a
// method is any token the client chose).
std::string_view loggedMethod(std::string_view method);

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
