// Fuzzes the e-mail address parser (src/domain). Whatever it accepts must be free of the bytes
// that would let a value break out of a mail header.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "domain/email_address.h"

namespace {

void check(bool condition) {
    if (!condition) std::abort();
}

void checkAddress(const sc::domain::EmailAddress& a) {
    check(!sc::domain::hasLineBreak(a.address));
    check(!sc::domain::hasLineBreak(a.displayName));
    check(a.address.find('@') != std::string::npos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    if (auto one = sc::domain::parseMailbox(text)) checkAddress(*one);
    constexpr size_t kMaxCount = 100;
    if (auto list = sc::domain::parseAddressList(text, kMaxCount)) {
        check(!list->empty() && list->size() <= kMaxCount);
        for (const auto& a : *list) checkAddress(a);
    }
    return 0;
}
