#include "bulk.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <stdexcept>

#include "csv.h"

namespace sendcloud::cli {
namespace {

std::string sha256Hex(const std::string& data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < len; ++i) {
        out += hex[digest[i] >> 4];
        out += hex[digest[i] & 15];
    }
    return out;
}

std::string stateDirectory(const std::string& given) {
    if (!given.empty()) return given;
    if (const char* x = std::getenv("XDG_STATE_HOME"); x && *x)
        return std::string(x) + "/sendcloud";
    const char* home = std::getenv("HOME");
    return std::string(home ? home : ".") + "/.local/state/sendcloud";
}

void makeDirs(const std::string& path) {
    for (size_t i = 1; i <= path.size(); ++i) {
        if (i == path.size() || path[i] == '/') ::mkdir(path.substr(0, i).c_str(), 0700);
    }
}

std::string formatDuration(double seconds) {
    if (seconds < 0 || seconds > 360000) return "--:--";
    auto s = static_cast<long>(seconds);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
    return buf;
}

}  // namespace

BulkReport runBulk(const BulkOptions& o, bool sms, const RowSender& send,
                   const std::atomic<bool>& stop, const std::function<int(const Error&)>& exitOf) {
    std::ifstream in(o.csvPath, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + o.csvPath);
    std::stringstream buf;
    buf << in.rdbuf();
    const std::string text = buf.str();
    CsvTable table = parseCsv(text);

    size_t recipientColumn = table.header.size();
    for (size_t i = 0; i < table.header.size(); ++i) {
        const auto& h = table.header[i];
        if (h == "to" || (sms ? h == "phone" : h == "email")) {
            recipientColumn = i;
            break;
        }
    }
    if (recipientColumn == table.header.size()) {
        throw std::runtime_error(std::string("the CSV header needs a '") +
                                 (sms ? "to' (or 'phone')" : "to' (or 'email')") + " column");
    }

    // The identity of this bulk send: the file's bytes and everything that shapes the messages.
    std::string identity = text;
    for (const auto* part :
         {&o.from, &o.fromName, &o.subject, &o.html, &o.plain, &o.templateName, &o.message}) {
        identity += '\0';
        identity += *part;
    }
    identity += '\0' + std::to_string(o.smsTemplateId) + (sms ? "sms" : "email");
    const std::string runId = sha256Hex(identity).substr(0, 24);

    BulkReport report;
    report.total = table.rows.size();
    const std::string dir = stateDirectory(o.stateDir);
    makeDirs(dir);
    report.stateFile = dir + "/bulk-" + runId + ".state";

    std::set<size_t> done;
    {
        std::ifstream state(report.stateFile);
        std::string line;
        while (std::getline(state, line)) {
            std::istringstream ls(line);
            size_t row = 0;
            std::string what;
            if (ls >> row >> what) done.insert(row);
        }
    }
    int fd = ::open(report.stateFile.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) throw std::runtime_error("cannot write the state file " + report.stateFile);
    auto record = [fd](size_t row, const std::string& what) {
        std::string line = std::to_string(row) + " " + what + "\n";
        if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
            throw std::runtime_error("cannot write the state file");
        }
    };

    const bool tty = ::isatty(STDERR_FILENO) == 1;
    const auto started = std::chrono::steady_clock::now();
    auto lastPrint = started;
    size_t attempted = 0;
    auto progress = [&](bool final) {
        const auto now = std::chrono::steady_clock::now();
        if (!final && now - lastPrint < std::chrono::milliseconds(tty ? 100 : 1000)) return;
        lastPrint = now;
        const double secs = std::chrono::duration<double>(now - started).count();
        const double rate = secs > 0 ? static_cast<double>(attempted) / secs : 0;
        const size_t processed = report.sent + report.failed + report.skipped;
        const size_t left = report.total - processed;
        const std::string eta =
            rate > 0 ? formatDuration(static_cast<double>(left) / rate) : "--:--";
        char line[256];
        if (tty) {
            const int width = 30;
            const int filled =
                report.total ? static_cast<int>(width * processed / report.total) : width;
            std::string bar(filled, '#');
            bar.resize(width, '.');
            std::snprintf(line, sizeof line, "\r[%s] %zu/%zu  %.0f/s  ETA %s  failures %zu ",
                          bar.c_str(), processed, report.total, rate, eta.c_str(), report.failed);
            std::cerr << line << (final ? "\n" : "") << std::flush;
        } else {
            std::snprintf(
                line, sizeof line,
                "progress: %zu/%zu done (%zu sent, %zu skipped, %zu failed), %.0f/s, ETA %s",
                processed, report.total, report.sent, report.skipped, report.failed, rate,
                eta.c_str());
            std::cerr << line << std::endl;
        }
    };

    for (size_t i = 0; i < table.rows.size(); ++i) {
        const size_t rowNumber = i + 1;  // data rows, from 1
        if (done.count(rowNumber)) {
            ++report.skipped;
            continue;
        }
        if (stop.load()) {
            report.interrupted = true;
            break;
        }
        std::vector<std::pair<std::string, std::string>> vars;
        for (size_t c = 0; c < table.header.size(); ++c) {
            if (c != recipientColumn)
                vars.emplace_back("%" + table.header[c] + "%", table.rows[i][c]);
        }
        ++attempted;
        try {
            send(table.rows[i][recipientColumn], vars,
                 "bulk-" + runId + "-" + std::to_string(rowNumber));
            record(rowNumber, "sent");
            ++report.sent;
        } catch (const Error& e) {
            ++report.failed;
            report.lastFailureExit = exitOf(e);
            if (!e.retryable()) record(rowNumber, "failed " + e.errorCode());
            if (tty) std::cerr << "\n";
            std::cerr << "sendcloud: row " << rowNumber << ": " << e.errorCode() << ": " << e.hint()
                      << std::endl;
        }
        progress(false);
    }
    ::fsync(fd);
    ::close(fd);
    progress(true);
    return report;
}

}  // namespace sendcloud::cli
