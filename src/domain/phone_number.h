#pragma once
// Phone numbers for the SMS API: E.164 input checked with libphonenumber. A successful parse is
// not a valid number (+1234567890 parses), so the default gate is IsValidNumber.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace sc::domain {

enum class PhoneValidation { Valid, Possible, Syntax };

// "valid" | "possible" | "syntax"; anything else fails.
Result<PhoneValidation, std::string> parsePhoneValidation(std::string_view name);

struct PhoneError {
    std::string code;  // "phone.malformed", "phone.invalid", "phone.too_many", "phone.empty"
    std::string hint;  // for a person: which number and why
};

class PhoneNumberValidator {
public:
    explicit PhoneNumberValidator(PhoneValidation mode);

    // Returns the number in E.164 (+14155550100). Input must start with '+'; one leading space
    // followed by digits is read as '+' (an unencoded '+' decoded as a space by form decoding,
    // see docs/api.md §6, "The leading-space rule"). Any other whitespace, letters or a missing '+'
    // is an error. Errors: "phone.empty" for ""; "phone.malformed" for the form, or when
    // libphonenumber cannot parse it (e.g. no such country code); "phone.invalid" when it parses
    // but fails the mode's gate, with a hint that says why (too short, too long, unused range).
    Result<std::string, PhoneError> normalize(std::string_view raw) const;

    // Numbers separated by ',' or ';'; at most maxCount; duplicates are kept once (first wins).
    // Empty entries are skipped, but nothing is trimmed: "+1..., +1..." fails on the space.
    // maxCount bounds the entries as given, before duplicates are dropped.
    Result<std::vector<std::string>, PhoneError> normalizeList(std::string_view raw,
                                                               size_t maxCount) const;

private:
    PhoneValidation mode_;
};

}  // namespace sc::domain
