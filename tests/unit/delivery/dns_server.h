#pragma once
// Starts dnsmasq (Debian's dnsmasq-base) as a test DNS server on a free loopback UDP port and
// stops it at scope exit. Everything under .test is local: a name it was not given is NXDOMAIN.

#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace sc::testing {

inline int freeUdpPort() {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    close(fd);
    return ntohs(a.sin_port);
}

// Whether `port` on 127.0.0.1 can be bound now with `type` (SOCK_DGRAM or SOCK_STREAM).
inline bool loopbackPortFree(int type, int port) {
    int fd = socket(AF_INET, type, 0);
    int one = 1;
    if (type == SOCK_STREAM) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool free = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    close(fd);
    return free;
}

class DnsServer {
public:
    // records: dnsmasq options such as "--mx-host=a.test,mx.a.test,10" or
    // "--host-record=mx.a.test,127.0.0.2".
    // dnsmasq listens on the port over UDP and TCP: a port free for UDP alone was sometimes an
    // outgoing TCP connection's, and dnsmasq exited at once. So the port is checked for both,
    // and a dnsmasq that still lost the race (it exits) is started again on another port.
    explicit DnsServer(const std::vector<std::string>& records) {
        for (int attempt = 0; attempt < 5; ++attempt) {
            do {
                port_ = freeUdpPort();
            } while (!loopbackPortFree(SOCK_STREAM, port_));
            if (spawn(records)) return;
        }
        throw std::runtime_error("dnsmasq could not bind a free loopback port in 5 tries");
    }
    ~DnsServer() {
        kill(pid_, SIGTERM);
        int status = 0;
        waitpid(pid_, &status, 0);
    }
    std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

private:
    // Starts dnsmasq on port_ and waits (up to 5 s) until it holds the UDP port; false when it
    // exited instead.
    bool spawn(const std::vector<std::string>& records) {
        std::vector<std::string> argv = {"/usr/sbin/dnsmasq",
                                         "--no-daemon",
                                         "--port=" + std::to_string(port_),
                                         "--listen-address=127.0.0.1",
                                         "--bind-interfaces",
                                         "--no-resolv",
                                         "--no-hosts",
                                         "--local=/test/",
                                         "--log-facility=/dev/null",
                                         "--pid-file="};
        for (const auto& r : records) argv.push_back(r);
        std::vector<char*> cargv;
        for (auto& a : argv) cargv.push_back(a.data());
        cargv.push_back(nullptr);
        if (posix_spawn(&pid_, argv[0].c_str(), nullptr, nullptr, cargv.data(), environ) != 0)
            throw std::runtime_error("cannot start dnsmasq");
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (std::chrono::steady_clock::now() < until) {
            int status = 0;
            if (waitpid(pid_, &status, WNOHANG) == pid_) return false;
            if (!loopbackPortFree(SOCK_DGRAM, port_)) return true;
            usleep(1000);
        }
        return true;  // still running: the callers' readiness checks take over
    }

    pid_t pid_ = 0;
    int port_ = 0;
};

}  // namespace sc::testing
