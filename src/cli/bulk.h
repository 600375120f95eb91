#pragma once
// Bulk sends from a CSV file (one row a recipient, the other columns template variables),
// resumable: each row's sendRequestId is derived from the file's content, the command's content
// options and the row number, and a state file records the rows done, so an interrupted run
// started again skips them, and a row whose answer was lost is deduplicated by the server.

#include <atomic>
#include <functional>
#include <string>

#include "sendcloud/sendcloud.h"

namespace sendcloud::cli {

struct BulkOptions {
    std::string csvPath;
    std::string stateDir;  // empty: $XDG_STATE_HOME/sendcloud or ~/.local/state/sendcloud
    bool json = false;
    // Email
    std::string from, fromName, subject, html, plain, templateName;
    // SMS
    std::string message;
    int64_t smsTemplateId = 0;
};

struct BulkReport {
    size_t total = 0, sent = 0, skipped = 0, failed = 0;
    bool interrupted = false;
    std::string stateFile;
    int lastFailureExit = 0;
};

// Sends every row not yet done. `send` sends one row given its variables and request id; it
// throws sendcloud::Error on failure. Stops early when `stop` becomes true.
using RowSender = std::function<void(const std::string& recipient,
                                     const std::vector<std::pair<std::string, std::string>>& vars,
                                     const std::string& requestId)>;

BulkReport runBulk(const BulkOptions& options, bool sms, const RowSender& send,
                   const std::atomic<bool>& stop, const std::function<int(const Error&)>& exitOf);

}  // namespace sendcloud::cli
