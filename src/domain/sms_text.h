#pragma once
// SMS segmentation: GSM 03.38 7-bit text (extension-table characters count twice) fits 160
// septets in one part or 153 per part when concatenated; anything else goes as UCS-2, 70 or 67
// code units per part (characters outside the BMP take two).

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace sc::domain {

enum class SmsEncoding { Gsm7, Ucs2 };

struct SmsSegments {
    SmsEncoding encoding = SmsEncoding::Gsm7;
    size_t characters = 0;  // Unicode code points
    size_t units = 0;       // septets (GSM-7) or UTF-16 code units (UCS-2)
    size_t segments = 0;
};

// Fails on invalid UTF-8. Empty text measures as one GSM-7 segment of 0 units (what an empty
// SMS would cost); the API refuses empty messages before it gets here.
//
// segments is exact rather than ceil(units / 153 or 67): a two-unit character (an extension-table
// character in GSM-7, a surrogate pair in UCS-2) is never split across parts, so one that would
// straddle a boundary moves to the next part and can add one segment.
Result<SmsSegments, std::string> measureSms(std::string_view utf8);

// The text as it goes on the air, split exactly as measureSms counts: each part's units are
// GSM 03.38 septet values (an extension-table character as the escape 0x1B then its septet) or
// UTF-16 code units. One part when the text fits a single SMS (160 septets / 70 units), else
// parts of at most 153 / 67 units that never split a two-unit character.
struct SmsParts {
    SmsEncoding encoding = SmsEncoding::Gsm7;
    std::vector<std::u16string> parts;  // septets are stored one per char16_t
};
Result<SmsParts, std::string> splitSms(std::string_view utf8);

// The character of a received septet (the default alphabet, or the extension table when it
// followed an escape); U' ' for a septet neither table defines.
char32_t gsmCharacter(unsigned char septet, bool escaped);

}  // namespace sc::domain
