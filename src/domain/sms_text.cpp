#include "domain/sms_text.h"

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

// Septets for one code point in GSM-7, or 0 when it has none.
size_t gsmSeptets(char32_t cp) {
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
template <class UnitsOf>
size_t countParts(std::string_view utf8, size_t perPart, UnitsOf unitsOf) {
    size_t parts = 1;
    size_t used = 0;
    for (size_t pos = 0; pos < utf8.size();) {
        const size_t w = unitsOf(*decodeUtf8(utf8, pos));
        if (used + w > perPart) {
            ++parts;
            used = 0;
        }
        used += w;
    }
    return parts;
}

}  // namespace

Result<SmsSegments, std::string> measureSms(std::string_view utf8) {
    SmsSegments m;
    size_t septets = 0;
    size_t utf16 = 0;
    bool gsm = true;
    for (size_t pos = 0; pos < utf8.size();) {
        const size_t at = pos;
        const auto cp = decodeUtf8(utf8, pos);
        if (!cp)
            return fail(
                concat("the message is not valid UTF-8 (at byte ", std::to_string(at), ")"));
        ++m.characters;
        utf16 += utf16Units(*cp);
        const size_t s = gsmSeptets(*cp);
        gsm = gsm && s != 0;
        septets += s;
    }
    if (gsm) {
        m.encoding = SmsEncoding::Gsm7;
        m.units = septets;
        m.segments = septets <= kGsmSingle ? 1 : countParts(utf8, kGsmPart, gsmSeptets);
    } else {
        m.encoding = SmsEncoding::Ucs2;
        m.units = utf16;
        m.segments = utf16 <= kUcs2Single ? 1 : countParts(utf8, kUcs2Part, utf16Units);
    }
    return m;
}

}  // namespace sc::domain
