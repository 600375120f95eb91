#pragma once
// Message ids in SendCloud's form, so existing clients can parse them: a messageId
// "<unix ms>_<sequence>_<random>.sc-<host>", and per recipient "<messageId><index>$<address>".
// Unique across restarts and nodes (time, a random part and the host name) and stable: the id
// returned is the id stored.

#include <atomic>
#include <cstdint>
#include <string>

#include "common/clock.h"
#include "common/random.h"

namespace sc::api {

class IdGenerator {
public:
    IdGenerator(const Clock& clock, Random& random, std::string hostname);

    std::string nextMessageId();
    static std::string recipientId(const std::string& messageId, size_t index,
                                   const std::string& address);

private:
    const Clock& clock_;
    Random& random_;
    std::string host_;
    std::atomic<uint64_t> sequence_{0};
};

}  // namespace sc::api
