#include "domain/sms_text.h"

#include <array>
#include <string>

#include "domain/text_util.h"

namespace sc::domain {
namespace {

// 3GPP TS 23.038 §6.2.1, the GSM 7-bit default alphabet, indexed by septet value. 0x1B is the
// escape to the extension table, not a character, so lookups skip it.
constexpr std::u32string_view kGsmDefault =
    U"@£$¥èéùìòÇ\nØø\rÅå"
    U"Δ_ΦΓΛΩΠΨΣΘΞ\x1B"
    U"ÆæßÉ"
    U" !\"#¤%&'()*+,-./"
    U"0123456789:;<=>?"
    U"¡ABCDEFGHIJKLMNO"
    U"PQRSTUVWXYZÄÖÑÜ§"
    U"¿abcdefghijklmno"
    U"pqrstuvwxyzäöñüà";
constexpr size_t kGsmEscape = 0x1B;
static_assert(kGsmDefault.size() == 128);
static_assert(kGsmDefault[0x00] == U'@' && kGsmDefault[0x02] == U'$' && kGsmDefault[0x1B] == 0x1B &&
              kGsmDefault[0x24] == U'¤' && kGsmDefault[0x40] == U'¡' && kGsmDefault[0x60] == U'¿' &&
              kGsmDefault[0x7F] == U'à');

// §6.2.1.1, the default extension table: each costs the escape septet plus its own. Form feed
// is in it too (a page break), though few handsets show it.
constexpr std::u32string_view kGsmExtension = U"\f^{}\\[~]|€";

constexpr size_t kGsmSingle = 160;
constexpr size_t kGsmPart = 153;  // 7 septets go to the concatenation header
constexpr size_t kUcs2Single = 70;
constexpr size_t kUcs2Part = 67;

// Septets by code point below kSeptetTableSize (Latin-1 and Greek hold every character of both
// tables but '€'): a load per character instead of a search of 138 code points.
constexpr char32_t kSeptetTableSize = 0x400;
constexpr std::array<unsigned char, kSeptetTableSize> kSeptets = [] {
    std::array<unsigned char, kSeptetTableSize> t{};
    for (size_t i = 0; i < kGsmDefault.size(); ++i) {
        if (i != kGsmEscape && kGsmDefault[i] < kSeptetTableSize) t[kGsmDefault[i]] = 1;
    }
    for (const char32_t cp : kGsmExtension) {
        if (cp < kSeptetTableSize && t[cp] == 0) t[cp] = 2;
    }
    return t;
}();

// §6.2.1.1 septet values of the extension table, in kGsmExtension's order.
constexpr std::array<char16_t, 10> kExtensionSeptets = {0x0A, 0x14, 0x28, 0x29, 0x2F,
                                                        0x3C, 0x3D, 0x3E, 0x40, 0x65};

// Septets for one code point in GSM-7, or 0 when it has none.
size_t gsmSeptets(char32_t cp) {
    if (cp < kSeptetTableSize) return kSeptets[cp];
    const size_t i = kGsmDefault.find(cp);
    if (i != std::u32string_view::npos && i != kGsmEscape) return 1;
    if (kGsmExtension.find(cp) != std::u32string_view::npos) return 2;
    return 0;
}

// The septet value of a default-alphabet character, or of an extension-table character (to
// follow the escape); only called for code points gsmSeptets() accepted.
char16_t gsmSeptetValue(char32_t cp) {
    const size_t i = kGsmDefault.find(cp);
    if (i != std::u32string_view::npos && i != kGsmEscape) return static_cast<char16_t>(i);
    // §6.2.1.1 code points of the extension table, in kGsmExtension's order.
    return kExtensionSeptets[kGsmExtension.find(cp)];
}

size_t utf16Units(char32_t cp) {
    return cp > 0xFFFF ? 2 : 1;
}

// Parts needed when each character's units must stay in one part: handsets and SMSCs never
// split an escape sequence or a surrogate pair, so a two-unit character that would straddle a
// boundary starts the next part. That is why this can exceed ceil(units / perPart) by one.
// Counted as the text is read, for both encodings, so the text is decoded once.
struct PartCounter {
    size_t perPart;
    size_t parts = 1;
    size_t used = 0;

    void add(size_t units) {
        if (used + units > perPart) {
            ++parts;
            used = 0;
        }
        used += units;
    }
};

}  // namespace

Result<SmsSegments, std::string> measureSms(std::string_view utf8) {
    SmsSegments m;
    size_t septets = 0;
    size_t utf16 = 0;
    bool gsm = true;
    PartCounter gsmParts{kGsmPart};
    PartCounter ucs2Parts{kUcs2Part};
    for (size_t pos = 0; pos < utf8.size();) {
        const size_t at = pos;
        char32_t cp = static_cast<unsigned char>(utf8[pos]);
        if (cp < 0x80) {
            ++pos;
        } else if (const auto decoded = decodeUtf8(utf8, pos)) {
            cp = *decoded;
        } else {
            return fail(
                concat("the message is not valid UTF-8 (at byte ", std::to_string(at), ")"));
        }
        ++m.characters;
        const size_t units = utf16Units(cp);
        utf16 += units;
        ucs2Parts.add(units);
        // Once one character has no septets the text goes as UCS-2: GSM-7 is not counted further.
        if (gsm) {
            const size_t s = gsmSeptets(cp);
            gsm = s != 0;
            septets += s;
            gsmParts.add(s);
        }
    }
    if (gsm) {
        m.encoding = SmsEncoding::Gsm7;
        m.units = septets;
        m.segments = septets <= kGsmSingle ? 1 : gsmParts.parts;
    } else {
        m.encoding = SmsEncoding::Ucs2;
        m.units = utf16;
        m.segments = utf16 <= kUcs2Single ? 1 : ucs2Parts.parts;
    }
    return m;
}

char32_t gsmCharacter(unsigned char septet, bool escaped) {
    septet &= 0x7F;
    if (escaped) {
        for (size_t i = 0; i < kExtensionSeptets.size(); ++i) {
            if (kExtensionSeptets[i] == septet) return kGsmExtension[i];
        }
        return U' ';
    }
    return septet == kGsmEscape ? U' ' : kGsmDefault[septet];
}

Result<SmsParts, std::string> splitSms(std::string_view utf8) {
    auto measured = measureSms(utf8);
    if (!measured) return fail(measured.error());
    SmsParts out;
    out.encoding = measured->encoding;
    const bool gsm = out.encoding == SmsEncoding::Gsm7;
    const size_t perPart =
        measured->segments == 1 ? (gsm ? kGsmSingle : kUcs2Single) : (gsm ? kGsmPart : kUcs2Part);
    out.parts.emplace_back();
    for (size_t pos = 0; pos < utf8.size();) {
        char32_t cp = static_cast<unsigned char>(utf8[pos]);
        if (cp < 0x80) {
            ++pos;
        } else {
            cp = *decodeUtf8(utf8, pos);  // measureSms proved the text valid
        }
        std::u16string units;
        if (gsm) {
            if (gsmSeptets(cp) == 2) units += static_cast<char16_t>(kGsmEscape);
            units += gsmSeptetValue(cp);
        } else if (cp > 0xFFFF) {
            const char32_t v = cp - 0x10000;
            units += static_cast<char16_t>(0xD800 + (v >> 10));
            units += static_cast<char16_t>(0xDC00 + (v & 0x3FF));
        } else {
            units += static_cast<char16_t>(cp);
        }
        // The same rule as PartCounter: a two-unit character never straddles parts.
        if (out.parts.back().size() + units.size() > perPart) out.parts.emplace_back();
        out.parts.back() += units;
    }
    return out;
}

}  // namespace sc::domain
