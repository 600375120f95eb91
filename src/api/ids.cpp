#include "api/ids.h"

#include <charconv>

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

template <class Integer>
void appendDecimal(std::string& out, Integer value) {
    char digits[24];
    out.append(digits, std::to_chars(digits, digits + sizeof digits, value).ptr);
}

}  // namespace

IdGenerator::IdGenerator(const Clock& clock, Random& random, std::string hostname)
    : clock_(clock), random_(random), host_(sanitizeHost(hostname)) {}

std::string IdGenerator::nextMessageId() {
    uint64_t seq = sequence_.fetch_add(1) % 1000000;
    uint32_t rnd = random_.uniform(100000000);
    // "<ms>_<seq>_<rnd>.sc-<host>", written without a format string: one per send.
    std::string id;
    id.reserve(40 + host_.size());
    appendDecimal(id, clock_.nowMillis());
    id += '_';
    appendDecimal(id, seq);
    id += '_';
    appendDecimal(id, rnd);
    id += ".sc-";
    id += host_;
    return id;
}

std::string IdGenerator::recipientId(const std::string& messageId, size_t index,
                                     const std::string& address) {
    std::string id;
    id.reserve(messageId.size() + 8 + address.size());
    id += messageId;
    appendDecimal(id, index);
    id += '$';
    id += address;
    return id;
}

}  // namespace sc::api
