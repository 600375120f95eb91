#pragma once
// The HTTP/1.1 server: Boost.Beast sessions with keep-alive and pipelining, a read timeout for
// headers and for bodies, limits on header size, body size and open connections (each answered
// with its status, 431/413/408/503, before the connection closes), and a graceful stop that lets
// in-flight requests finish. Optionally a second, TLS listener served by the same sessions under
// the same limits, its certificate reloadable while running; and trusted proxies whose
// X-Forwarded-For / X-Forwarded-Proto are believed. Beast stays behind this header.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "http/access_log.h"
#include "http/forwarded.h"
#include "http/router.h"

namespace sc::http {

struct ServerLimits {
    size_t maxHeaderBytes = 16 * 1024;
    size_t maxBodyBytes = 12 * 1024 * 1024;
    // Request bodies held in memory at once, all connections together (a body is read whole
    // before authentication): past it a request gets 503 server.busy before its body is read.
    // 0: no budget. At least maxBodyBytes, or a largest body could never be taken.
    size_t maxBufferedBodyBytes = 256 * 1024 * 1024;
    std::chrono::milliseconds headerTimeout{10000};
    std::chrono::milliseconds bodyTimeout{30000};
    std::chrono::milliseconds idleTimeout{60000};
    std::chrono::milliseconds writeTimeout{30000};
    size_t maxConnections = 10000;
    // Open connections from one client address at most (0: no cap); past it that client's new
    // connections get 503, so that one client cannot take every slot from the others.
    size_t maxConnectionsPerClient = 64;
    // Loopback clients are exempt unless this is set: a reverse proxy or benchmark on the same
    // machine is one address for many clients.
    bool capLoopbackClients = false;
    size_t maxRequestsPerConnection = 0;  // 0: unlimited
};

// The HTTPS listener (docs/operations.md "TLS"). Its connections count against the same caps as
// the plain listener's from accept on, the handshake included, which must end within the header
// timeout.
struct TlsListenerOptions {
    std::string host;
    uint16_t port = 0;
    std::string certFile;  // PEM: the certificate, then any intermediates
    std::string keyFile;   // PEM, unencrypted
};

struct ServerOptions {
    std::string host = "127.0.0.1";
    uint16_t port = 8080;
    int ioThreads = 1;
    ServerLimits limits;
    std::optional<TlsListenerOptions> tls;
    // Peers whose X-Forwarded-For and X-Forwarded-Proto are believed (empty: nobody's).
    TrustedProxies trustedProxies;
    // Responses to paths starting with this, when the request came over TLS (ours, or a trusted
    // proxy's), carry Strict-Transport-Security; empty: none do.
    std::string hstsPathPrefix;
};

class Server {
public:
    Server(ServerOptions options, const Router& router, AccessLog& accessLog, const Clock& clock);
    ~Server();

    // Binds and listens; returns the bound port (useful with port 0). Throws std::runtime_error
    // with a clear message when the address cannot be bound or the TLS certificate or key cannot
    // be used (the message names the file, never its content).
    uint16_t start();
    // The TLS listener's bound port; 0 without one.
    uint16_t tlsPort() const;
    // Reads the TLS certificate and key files again (SIGHUP). New connections get the new
    // certificate; open ones keep theirs. On an error the old certificate stays in use.
    Status<std::string> reloadTls();
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
