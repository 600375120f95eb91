#pragma once
// The HTTP/1.1 server: Boost.Beast sessions with keep-alive and pipelining, a read timeout for
// headers and for bodies, limits on header size, body size and open connections (each answered
// with its status, 431/413/408/503, before the connection closes), and a graceful stop that lets
// in-flight requests finish. Beast stays behind this header.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/clock.h"
#include "http/access_log.h"
#include "http/router.h"

namespace sc::http {

struct ServerLimits {
    size_t maxHeaderBytes = 16 * 1024;
    size_t maxBodyBytes = 12 * 1024 * 1024;
    std::chrono::milliseconds headerTimeout{10000};
    std::chrono::milliseconds bodyTimeout{30000};
    std::chrono::milliseconds idleTimeout{60000};
    std::chrono::milliseconds writeTimeout{30000};
    size_t maxConnections = 10000;
    size_t maxRequestsPerConnection = 0;  // 0: unlimited
};

struct ServerOptions {
    std::string host = "127.0.0.1";
    uint16_t port = 8080;
    int ioThreads = 1;
    ServerLimits limits;
};

class Server {
public:
    Server(ServerOptions options, const Router& router, AccessLog& accessLog, const Clock& clock);
    ~Server();

    // Binds and listens; returns the bound port (useful with port 0). Throws std::runtime_error
    // with a clear message when the address cannot be bound.
    uint16_t start();
    // Stops accepting, closes idle connections, waits up to `drain` for in-flight requests to be
    // answered, then stops the I/O threads.
    void stop(std::chrono::milliseconds drain);

    // The connection cap in force: --max-connections, lowered at start() to what the process's
    // descriptor limit allows (see connectionCapForDescriptors).
    size_t maxConnections() const;
    // accept() calls that failed (out of descriptors or memory) since start().
    uint64_t acceptFailures() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// How many client connections fit in the descriptor limit: each costs one descriptor, and the
// rest of the process (the store's files, delivery's outgoing connections, logs) must keep room
// to work, so a reserve of up to 64 descriptors (at most half of what is free) stays unused.
// Without it, --max-connections (10,000 by default) sat above the usual 1,024 limit and never
// protected anything: accept failed first.
size_t connectionCapForDescriptors(size_t configured, uint64_t descriptorLimit, uint64_t openNow);

// Splits "HOST:PORT" or "[v6]:PORT".
bool splitHostPort(const std::string& text, std::string& host, uint16_t& port);

}  // namespace sc::http
