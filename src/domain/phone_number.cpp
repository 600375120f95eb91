#include "domain/phone_number.h"

#include <phonenumbers/phonenumberutil.h>

#include <unordered_set>

#include "domain/e164_fast_path.h"
#include "domain/text_util.h"

namespace sc::domain {
namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

constexpr std::string_view kE164Advice = "write numbers in E.164 form, like +14155550100";
constexpr size_t kMaxE164Digits = 15;  // ITU-T E.164 §6.1
constexpr size_t kMinE164Digits = 7;   // shortest that the Syntax mode lets through

PhoneError malformed(std::string_view raw, std::string_view reason) {
    return {"phone.malformed", concat(quoteForHint(raw), " ", reason, "; ", kE164Advice,
                                      ", with no spaces, dashes or parentheses")};
}

// The hint leads with the number unquoted (it is only '+' and digits by then) so that it reads
// as a sentence: "+1234567890 is not a valid phone number: ...".
PhoneError invalid(const std::string& number, std::string_view reason) {
    return {"phone.invalid",
            concat(number, " is not a valid phone number: ", reason, "; ", kE164Advice)};
}

bool allDigits(std::string_view s) {
    if (s.empty()) return false;
    for (const char c : s) {
        if (!isAsciiDigit(c)) return false;
    }
    return true;
}

// Test numbers people type when they have no real one: 1234567..., 9876543..., 0000000...
bool looksLikePlaceholder(std::string_view digits) {
    constexpr int kRun = 6;
    int up = 1;
    int down = 1;
    int same = 1;
    for (size_t i = 1; i < digits.size(); ++i) {
        const int prev = digits[i - 1] - '0';
        const int cur = digits[i] - '0';
        up = cur == (prev + 1) % 10 ? up + 1 : 1;
        down = cur == (prev + 9) % 10 ? down + 1 : 1;
        same = cur == prev ? same + 1 : 1;
        if (up >= kRun || down >= kRun || same >= kRun) return true;
    }
    return false;
}

// Turns the raw entry into "+digits", or says in plain words what is wrong with its form.
Result<std::string, PhoneError> checkForm(std::string_view raw) {
    if (raw.empty()) return fail(PhoneError{"phone.empty", "no phone number given"});
    // An unencoded '+' in a query string or form body decodes to a space (docs/api.md §6, "The
    // leading-space rule").
    if (raw.size() > 1 && raw.front() == ' ' && allDigits(raw.substr(1))) {
        return concat("+", raw.substr(1));
    }
    for (size_t i = 0; i < raw.size(); ++i) {
        const char c = raw[i];
        if (!isAsciiSpace(c) && c != '\0') continue;
        const char* what = c == ' '                 ? "a space"
                           : c == '\t'              ? "a tab"
                           : c == '\r' || c == '\n' ? "a line break"
                           : c == '\0'              ? "a NUL byte"
                                                    : "whitespace";
        const char* where = i == 0                ? "starts with "
                            : i + 1 == raw.size() ? "ends with "
                                                  : "contains ";
        return fail(malformed(raw, concat(where, what)));
    }
    if (raw.front() != '+') {
        return fail(malformed(raw, "does not start with '+' and the country code"));
    }
    if (raw.size() == 1) return fail(malformed(raw, "has no digits after '+'"));
    for (const char c : raw.substr(1)) {
        if (!isAsciiDigit(c)) {
            const auto u = static_cast<unsigned char>(c);
            if (u < 0x20 || u >= 0x7F) {
                // Non-ASCII digits (Arabic-Indic, full-width) parse in libphonenumber, but SMS
                // gateways expect the ASCII form.
                return fail(malformed(raw, "contains a character that is not an ASCII digit"));
            }
            return fail(malformed(
                raw, concat("contains '", std::string_view(&c, 1), "', which is not a digit")));
        }
    }
    return std::string(raw);
}

std::string exampleFor(const PhoneNumberUtil& util, int countryCode) {
    std::string region;
    util.GetRegionCodeForCountryCode(countryCode, &region);
    PhoneNumber example;
    bool found = false;
    if (region == "001") {  // non-geographic entities (+800, +979, ...) have no region
        found = util.GetExampleNumberForNonGeoEntity(countryCode, &example);
    } else {
        // A mobile example, since these numbers receive SMS.
        found = util.GetExampleNumberForType(region, PhoneNumberUtil::MOBILE, &example) ||
                util.GetExampleNumber(region, &example);
    }
    if (!found) return {};
    std::string out;
    util.Format(example, PhoneNumberUtil::E164, &out);
    return out;
}

// Why a parsed number fails the Possible or Valid gate, from libphonenumber's own length check.
std::string whyInvalid(const PhoneNumberUtil& util, const PhoneNumber& number,
                       std::string_view digits) {
    const int cc = number.country_code();
    const std::string code = concat("+", std::to_string(cc));
    std::string nsn;
    util.GetNationalSignificantNumber(number, &nsn);
    const std::string example = exampleFor(util, cc);
    const std::string lengths =
        example.empty() ? concat(" (", std::to_string(nsn.size()), " digits follow ", code, ")")
                        : concat(" (", std::to_string(nsn.size()), " digits follow ", code,
                                 "; a complete number there looks like ", example, ")");
    std::string reason;
    switch (util.IsPossibleNumberWithReason(number)) {
        case PhoneNumberUtil::INVALID_COUNTRY_CODE:
            reason = concat("no country uses the calling code ", code);
            break;
        case PhoneNumberUtil::TOO_SHORT:
            reason = concat("it is too short for country code ", code, lengths);
            break;
        case PhoneNumberUtil::TOO_LONG:
            reason = concat("it is too long for country code ", code, lengths);
            break;
        case PhoneNumberUtil::INVALID_LENGTH:
            reason = concat("no number with country code ", code, " has that many digits", lengths);
            break;
        case PhoneNumberUtil::IS_POSSIBLE:
        case PhoneNumberUtil::IS_POSSIBLE_LOCAL_ONLY:
            reason = concat("it has the right form but no carrier uses it (it is in no number ",
                            "range in use for country code ", code, ")");
            break;
    }
    if (looksLikePlaceholder(digits)) reason += ", and it looks like a placeholder";
    return reason;
}

std::string parseErrorReason(PhoneNumberUtil::ErrorType error, std::string_view digits) {
    switch (error) {
        case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR: {
            // Calling codes are one to three digits, so name every prefix the number could mean.
            std::string codes;
            for (size_t n = 1; n <= 3 && n <= digits.size(); ++n) {
                if (!codes.empty()) codes += n == 3 || digits.size() == 2 ? " or " : ", ";
                codes += concat("+", digits.substr(0, n));
            }
            return concat("does not start with a country code in use (no country has the ",
                          "calling code ", codes, ")");
        }
        case PhoneNumberUtil::TOO_SHORT_AFTER_IDD:
        case PhoneNumberUtil::TOO_SHORT_NSN:
            return "is too short to be a phone number";
        case PhoneNumberUtil::TOO_LONG_NSN:
            return "is too long to be a phone number";
        default:
            return "is not a phone number";
    }
}

}  // namespace

Result<PhoneValidation, std::string> parsePhoneValidation(std::string_view name) {
    if (name == "valid") return PhoneValidation::Valid;
    if (name == "possible") return PhoneValidation::Possible;
    if (name == "syntax") return PhoneValidation::Syntax;
    return fail(concat("unknown phone validation ", quoteForHint(name),
                       "; use 'valid', 'possible' or 'syntax'"));
}

PhoneNumberValidator::PhoneNumberValidator(PhoneValidation mode) : mode_(mode) {
    // The first call loads all the metadata (milliseconds); pay for it at start-up rather than
    // on the first request. Later calls are a pthread_once check, and the instance's const
    // methods are safe to call from many threads.
    PhoneNumberUtil::GetInstance();
    E164FastPath::instance();
}

Result<std::string, PhoneError> PhoneNumberValidator::normalize(std::string_view raw) const {
    auto form = checkForm(raw);
    if (!form) return fail(std::move(form).error());
    const std::string input = std::move(form).value();
    const std::string_view digits = std::string_view(input).substr(1);
    if (digits.size() > kMaxE164Digits) {
        return fail(invalid(input, concat("it has ", std::to_string(digits.size()),
                                          " digits, and an E.164 number has at most ",
                                          std::to_string(kMaxE164Digits))));
    }

    const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
    const E164FastPath& fastPath = E164FastPath::instance();
    PhoneNumber number;
    std::string e164;
    if (fastPath.parse(digits, &number)) {
        // What Parse would have built, whose E.164 form is the input itself.
        e164 = input;
    } else {
        // "ZZ" (unknown region): the number must carry its own country code, which the form
        // check has already made sure of with the leading '+'.
        const auto error = util.Parse(input, "ZZ", &number);
        if (error != PhoneNumberUtil::NO_PARSING_ERROR) {
            return fail(malformed(input, parseErrorReason(error, digits)));
        }
        util.Format(number, PhoneNumberUtil::E164, &e164);
    }

    switch (mode_) {
        case PhoneValidation::Syntax:
            if (e164.size() - 1 < kMinE164Digits || e164.size() - 1 > kMaxE164Digits) {
                return fail(invalid(input, concat("it has ", std::to_string(e164.size() - 1),
                                                  " digits, and an E.164 number has ",
                                                  std::to_string(kMinE164Digits), " to ",
                                                  std::to_string(kMaxE164Digits))));
            }
            break;
        case PhoneValidation::Possible:
            if (!util.IsPossibleNumber(number)) {
                return fail(invalid(input, whyInvalid(util, number, digits)));
            }
            break;
        case PhoneValidation::Valid:
            if (!fastPath.isValidNumber(number)) {
                return fail(invalid(input, whyInvalid(util, number, digits)));
            }
            break;
    }
    return e164;
}

Result<std::vector<std::string>, PhoneError> PhoneNumberValidator::normalizeList(
    std::string_view raw, size_t maxCount) const {
    std::vector<std::string_view> entries;
    for (size_t start = 0; start <= raw.size();) {
        const size_t end = std::min(raw.find_first_of(",;", start), raw.size());
        if (end > start) entries.push_back(raw.substr(start, end - start));
        start = end + 1;
    }
    if (entries.empty()) return fail(PhoneError{"phone.empty", "no phone number given"});
    // Counted before duplicates go, so the bound holds before any number is parsed.
    if (entries.size() > maxCount) {
        return fail(PhoneError{"phone.too_many",
                               concat(std::to_string(entries.size()), " numbers given; at most ",
                                      std::to_string(maxCount), " recipients are allowed")});
    }
    std::vector<std::string> out;
    std::unordered_set<std::string> seen;
    for (const auto entry : entries) {
        auto number = normalize(entry);
        if (!number) return fail(std::move(number).error());
        if (seen.insert(number.value()).second) out.push_back(std::move(number).value());
    }
    return out;
}

}  // namespace sc::domain
