#pragma once
// Starts tests/support/smtp_peer.py (python3-aiosmtpd) on a free loopback port for a test and
// stops it at scope exit; what it accepted is read back from its capture folder.

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace sc::testing {

class TempDir {
public:
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "sc-smtp-XXXXXX").string();
        if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp");
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

class SmtpPeer {
public:
    explicit SmtpPeer(std::vector<std::string> args, std::string host = "127.0.0.1") {
        captureDir_ = dir_.path() / "capture";
        std::vector<std::string> argv = {"/usr/bin/python3", SC_SMTP_PEER_SCRIPT, "--host", host,
                                         "--capture-dir",    captureDir_.string()};
        for (auto& a : args) argv.push_back(a);
        std::vector<char*> cargv;
        for (auto& a : argv) cargv.push_back(a.data());
        cargv.push_back(nullptr);

        int in[2], out[2];
        if (pipe(in) != 0 || pipe(out) != 0) throw std::runtime_error("pipe");
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, in[0], 0);
        posix_spawn_file_actions_adddup2(&fa, out[1], 1);
        posix_spawn_file_actions_addclose(&fa, in[1]);
        posix_spawn_file_actions_addclose(&fa, out[0]);
        if (posix_spawn(&pid_, argv[0].c_str(), &fa, nullptr, cargv.data(), environ) != 0)
            throw std::runtime_error("spawn smtp_peer.py");
        posix_spawn_file_actions_destroy(&fa);
        close(in[0]);
        close(out[1]);
        stdin_ = in[1];
        FILE* f = fdopen(out[0], "r");
        char line[128] = {0};
        // The peer prints READY once it listens; a failure to start closes stdout instead.
        if (!fgets(line, sizeof line, f) || sscanf(line, "READY %d", &port_) != 1)
            throw std::runtime_error("smtp_peer.py did not start");
        stdout_ = f;
    }
    ~SmtpPeer() {
        close(stdin_);
        kill(pid_, SIGTERM);
        int status = 0;
        waitpid(pid_, &status, 0);
        fclose(stdout_);
    }
    int port() const { return port_; }
    const std::filesystem::path& dir() const { return dir_.path(); }

    // The messages captured so far, as the peer's JSON records.
    std::vector<std::string> captured() const {
        std::vector<std::string> out;
        for (int i = 1;; ++i) {
            auto p = captureDir_ / (std::to_string(i) + ".json");
            std::ifstream in(p);
            if (!in) break;
            std::stringstream ss;
            ss << in.rdbuf();
            out.push_back(ss.str());
        }
        return out;
    }
    // Waits (with a deadline) until `n` messages were captured.
    std::vector<std::string> waitFor(std::size_t n,
                                     std::chrono::seconds limit = std::chrono::seconds(10)) const {
        auto until = std::chrono::steady_clock::now() + limit;
        while (true) {
            auto c = captured();
            if (c.size() >= n || std::chrono::steady_clock::now() > until) return c;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }

private:
    TempDir dir_;
    std::filesystem::path captureDir_;
    pid_t pid_ = 0;
    int port_ = 0;
    int stdin_ = -1;
    FILE* stdout_ = nullptr;
};

// A CA and a server certificate for `hostName`, made by the openssl command line.
struct TestCertificates {
    TestCertificates(const std::filesystem::path& dir, const std::string& hostName) {
        ca = (dir / "ca.pem").string();
        cert = (dir / "server.pem").string();
        key = (dir / "server.key").string();
        auto d = dir.string();
        std::string cmd =
            "cd " + d +
            " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
            " -keyout ca.key -out ca.pem -days 2 -subj /CN=SendCloudTestCA 2>/dev/null"
            " && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
            " -keyout server.key -out server.csr -subj /CN=" +
            hostName +
            " 2>/dev/null"
            " && printf 'subjectAltName=DNS:" +
            hostName +
            "\\n' > ext.cnf"
            " && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial"
            " -out server.pem -days 2 -extfile ext.cnf 2>/dev/null";
        if (std::system(cmd.c_str()) != 0) throw std::runtime_error("openssl failed");
    }
    std::string ca, cert, key;
};

}  // namespace sc::testing
