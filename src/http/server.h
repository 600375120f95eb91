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

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Splits "HOST:PORT" or "[v6]:PORT".
bool splitHostPort(const std::string& text, std::string& host, uint16_t& port);

}  // namespace sc::http
