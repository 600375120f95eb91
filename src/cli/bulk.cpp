#include "bulk.h"

#include <fcntl.h>
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

std::string readWholeFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::stringstream buf;
    buf << in.rdbuf();
    return buf.str();
}

// The column holding the recipient: 'to', or 'phone' (SMS) / 'email' (email).
size_t recipientColumnOf(const CsvTable& table, bool sms) {
    for (size_t i = 0; i < table.header.size(); ++i) {
        const auto& h = table.header[i];
        if (h == "to" || (sms ? h == "phone" : h == "email")) return i;
    }
    throw std::runtime_error(std::string("the CSV header needs a '") +
                             (sms ? "to' (or 'phone')" : "to' (or 'email')") + " column");
}

// The identity of this bulk send: the file's bytes and everything that shapes the messages.
std::string runIdOf(const std::string& csvText, const BulkOptions& o, bool sms) {
    std::string identity = csvText;
    for (const auto* part :
         {&o.from, &o.fromName, &o.subject, &o.html, &o.plain, &o.templateName, &o.message}) {
        identity += '\0';
        identity += *part;
    }
    identity += '\0' + std::to_string(o.smsTemplateId) + (sms ? "sms" : "email");
    return sha256Hex(identity).substr(0, 24);
}

// The state file: one line a row done ("<row> sent" or "<row> failed <errorCode>"), appended as
// each row ends, so a run stopped anywhere is resumed from it.
class StateFile {
public:
    explicit StateFile(const std::string& path) {
        std::ifstream state(path);
        std::string line;
        while (std::getline(state, line)) {
            std::istringstream ls(line);
            size_t row = 0;
            std::string what;
            if (ls >> row >> what) done_.insert(row);
        }
        fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd_ < 0) throw std::runtime_error("cannot write the state file " + path);
    }
    ~StateFile() { ::close(fd_); }
    StateFile(const StateFile&) = delete;
    StateFile& operator=(const StateFile&) = delete;

    bool done(size_t row) const { return done_.count(row) != 0; }

    void record(size_t row, const std::string& what) {
        std::string line = std::to_string(row) + " " + what + "\n";
        if (::write(fd_, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
            throw std::runtime_error("cannot write the state file");
        }
    }

    void sync() { ::fsync(fd_); }

private:
    std::set<size_t> done_;
    int fd_ = -1;
};

// The progress line on stderr: a bar redrawn ten times a second on a terminal, else a plain
// line a second.
class Progress {
public:
    Progress() : tty_(::isatty(STDERR_FILENO) == 1), started_(Clock::now()), lastPrint_(started_) {}

    bool tty() const { return tty_; }

    void show(const BulkReport& report, size_t attempted, bool final) {
        const auto now = Clock::now();
        if (!final && now - lastPrint_ < std::chrono::milliseconds(tty_ ? 100 : 1000)) return;
        lastPrint_ = now;
        const double secs = std::chrono::duration<double>(now - started_).count();
        const double rate = secs > 0 ? static_cast<double>(attempted) / secs : 0;
        const size_t processed = report.sent + report.failed + report.skipped;
        const size_t left = report.total - processed;
        const std::string eta =
            rate > 0 ? formatDuration(static_cast<double>(left) / rate) : "--:--";
        char line[256];
        if (tty_) {
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
    }

private:
    using Clock = std::chrono::steady_clock;
    const bool tty_;
    const Clock::time_point started_;
    Clock::time_point lastPrint_;
};

// A row's template variables: every column but the recipient's, as %column%.
std::vector<std::pair<std::string, std::string>> rowVars(const CsvTable& table, size_t row,
                                                         size_t recipientColumn) {
    std::vector<std::pair<std::string, std::string>> vars;
    for (size_t c = 0; c < table.header.size(); ++c) {
        if (c != recipientColumn)
            vars.emplace_back("%" + table.header[c] + "%", table.rows[row][c]);
    }
    return vars;
}

}  // namespace

BulkReport runBulk(const BulkOptions& o, bool sms, const RowSender& send,
                   const std::atomic<bool>& stop, const std::function<int(const Error&)>& exitOf) {
    const std::string text = readWholeFile(o.csvPath);
    const CsvTable table = parseCsv(text);
    const size_t recipientColumn = recipientColumnOf(table, sms);
    const std::string runId = runIdOf(text, o, sms);

    BulkReport report;
    report.total = table.rows.size();
    const std::string dir = stateDirectory(o.stateDir);
    makeDirs(dir);
    report.stateFile = dir + "/bulk-" + runId + ".state";
    StateFile state(report.stateFile);

    Progress progress;
    size_t attempted = 0;
    for (size_t i = 0; i < table.rows.size(); ++i) {
        const size_t rowNumber = i + 1;  // data rows, from 1
        if (state.done(rowNumber)) {
            ++report.skipped;
            continue;
        }
        if (stop.load()) {
            report.interrupted = true;
            break;
        }
        const auto vars = rowVars(table, i, recipientColumn);
        ++attempted;
        try {
            send(table.rows[i][recipientColumn], vars,
                 "bulk-" + runId + "-" + std::to_string(rowNumber));
            state.record(rowNumber, "sent");
            ++report.sent;
        } catch (const Error& e) {
            ++report.failed;
            report.lastFailureExit = exitOf(e);
            if (!e.retryable()) state.record(rowNumber, "failed " + e.errorCode());
            if (progress.tty()) std::cerr << "\n";
            std::cerr << "sendcloud: row " << rowNumber << ": " << e.errorCode() << ": " << e.hint()
                      << std::endl;
        }
        progress.show(report, attempted, false);
    }
    state.sync();
    progress.show(report, attempted, true);
    return report;
}

}  // namespace sendcloud::cli
