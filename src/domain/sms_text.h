#pragma once
// SMS segmentation: GSM 03.38 7-bit text (extension-table characters count twice) fits 160
// septets in one part or 153 per part when concatenated; anything else goes as UCS-2, 70 or 67
// code units per part (characters outside the BMP take two).

#include <string_view>

#include "common/result.h"

namespace sc::domain {

enum class SmsEncoding { Gsm7, Ucs2 };

struct SmsSegments {
    SmsEncoding encoding = SmsEncoding::Gsm7;
    size_t characters = 0;  // Unicode code points
    size_t units = 0;       // septets (GSM-7) or UTF-16 code units (UCS-2)
    size_t segments = 0;
};

// Fails on invalid UTF-8.
Result<SmsSegments, std::string> measureSms(std::string_view utf8);

}  // namespace sc::domain
