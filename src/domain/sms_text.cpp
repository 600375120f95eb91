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

// Septets for one code point in GSM-7, or 0 when it has none.
size_t gsmSeptets(char32_t cp) {
    if (cp < kSeptetTableSize) return kSeptets[cp];
    const size_t i = kGsmDefault.find(cp);
    if (i != std::u32string_view::npos && i != kGsmEscape) return 1;
    if (kGsmExtension.find(cp) != std::u32string_view::npos) return 2;
    return 0;
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

}  // namespace sc::domain
