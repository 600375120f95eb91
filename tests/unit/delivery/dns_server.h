#pragma once
// Starts dnsmasq (Debian's dnsmasq-base) as a test DNS server on a free loopback UDP port and
// stops it at scope exit. Everything under .test is local: a name it was not given is NXDOMAIN.

#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

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

class DnsServer {
public:
    // records: dnsmasq options such as "--mx-host=a.test,mx.a.test,10" or
    // "--host-record=mx.a.test,127.0.0.2".
    explicit DnsServer(const std::vector<std::string>& records) {
        port_ = freeUdpPort();
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
    }
    ~DnsServer() {
        kill(pid_, SIGTERM);
        int status = 0;
        waitpid(pid_, &status, 0);
    }
    std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

private:
    pid_t pid_ = 0;
    int port_ = 0;
};

}  // namespace sc::testing
