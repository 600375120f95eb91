#pragma once
// E-mail addresses as the send API accepts them: a bare addr-spec or `Name <addr-spec>`
// (RFC 5322, restricted to what real mail systems deliver: dot-atom local parts or quoted
// strings, and a domain of LDH labels or an address literal). Lists are split on ';' and ','.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace sc::domain {

struct EmailAddress {
    std::string displayName;  // may be empty
    std::string address;      // local@domain, as given (domain lower-cased)

    std::string_view domain() const;
};

struct AddressError {
    std::string code;  // "address.malformed", "address.too_many", "address.empty"
    std::string hint;  // names the offending entry (addresses are not secrets)
};

// One mailbox: "a@b.io" or "Ann Lee <a@b.io>" or "\"Lee, Ann\" <a@b.io>". Rejects CR, LF and NUL.
// Blank text is "address.empty"; every other failure is "address.malformed", whose hint quotes
// the entry (cut to 100 bytes) and says what is wrong with it.
Result<EmailAddress, AddressError> parseMailbox(std::string_view text);

// A list separated by ';' or ',' (commas inside quotes or angle brackets do not split). Empty
// entries from doubled or trailing separators are ignored; an empty list is an error
// ("address.empty"); more than maxCount entries is "address.too_many".
Result<std::vector<EmailAddress>, AddressError> parseAddressList(std::string_view text,
                                                                 size_t maxCount);

// True when `s` contains CR, LF or NUL: the header-injection check.
bool hasLineBreak(std::string_view s);

// True when `s` is valid UTF-8 (no overlongs, no surrogates).
bool isValidUtf8(std::string_view s);

}  // namespace sc::domain
