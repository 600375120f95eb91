#pragma once
// Where mail for a domain goes (RFC 5321 §5.1), through c-ares: the MX records in preference
// order, random among equal preferences; the domain itself as an implicit MX when it has no MX
// but has an address; a null MX (RFC 7505: one MX "." ) or a domain that does not exist is a
// permanent answer (Bounce); a DNS failure or time-out is temporary (TryAgain). Each host comes
// with its IPv4 then IPv6 addresses. `--dns-servers HOST:PORT[,HOST:PORT]` replaces the system
// resolver's servers (tests point it at dnsmasq on loopback).
//
// resolve() blocks (it drives its own c-ares channel with poll()): the agent calls it on a
// small thread pool of its own, never on the delivery io_context. Thread-safe.

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace sc::delivery::smtp {

struct MxHost {
    std::string name;
    int preference = 0;
    std::vector<std::string> addresses;  // IPv4 first, then IPv6
};

struct MxRoute {
    enum class Status { Ok, Bounce, TryAgain };
    Status status = Status::TryAgain;
    std::vector<MxHost> hosts;  // Ok: in the order to try them
    std::string detail;         // Bounce/TryAgain: why, for the attempt log
};

// Orders MX records by preference and shuffles equal preferences with `pick(n)` (a uniform
// number below n), so that load spreads as RFC 5321 §5.1 asks. Pure, for tests.
void orderByPreference(std::vector<MxHost>& hosts, const std::function<uint32_t(uint32_t)>& pick);

// The TXT records at a name: each record's character-strings joined, since a DKIM key is longer
// than one 255-byte string and is published split.
struct TxtAnswer {
    enum class Status { Found, NotFound, TryAgain };
    Status status = Status::TryAgain;
    std::vector<std::string> records;
    std::string detail;  // NotFound/TryAgain: why
};

class MxResolver {
public:
    // servers: "HOST:PORT" entries, empty for the system resolver's configuration.
    MxResolver(std::vector<std::string> servers, std::chrono::milliseconds timeout);

    MxRoute resolve(const std::string& domain) const;
    // A and AAAA of one host (a relay or a route's host); TryAgain/Bounce as above.
    MxRoute resolveHost(const std::string& host) const;
    // TXT records (the console checks that a domain's DKIM record is published).
    TxtAnswer lookupTxt(const std::string& name) const;

private:
    std::vector<std::string> servers_;
    std::chrono::milliseconds timeout_;
};

}  // namespace sc::delivery::smtp
