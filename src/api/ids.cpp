#include "api/ids.h"

#include <fmt/format.h>

namespace sc::api {

namespace {
// Host names go into ids that clients parse: keep [A-Za-z0-9-], map the rest to '-'.
std::string sanitizeHost(const std::string& host) {
    std::string out;
    for (char c : host) {
        bool ok =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
        out.push_back(ok ? c : '-');
    }
    return out.empty() ? "localhost" : out;
}
}  // namespace

IdGenerator::IdGenerator(const Clock& clock, Random& random, std::string hostname)
    : clock_(clock), random_(random), host_(sanitizeHost(hostname)) {}

std::string IdGenerator::nextMessageId() {
    uint64_t seq = sequence_.fetch_add(1) % 1000000;
    uint32_t rnd = random_.uniform(100000000);
    return fmt::format("{}_{}_{}.sc-{}", clock_.nowMillis(), seq, rnd, host_);
}

std::string IdGenerator::recipientId(const std::string& messageId, size_t index,
                                     const std::string& address) {
    return fmt::format("{}{}${}", messageId, index, address);
}

}  // namespace sc::api
