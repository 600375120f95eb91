#include "domain/sms_text.h"
#include "domain/text_util.h"

#include <gtest/gtest.h>

#include <string>

namespace sc::domain {
namespace {

SmsSegments measure(std::string_view text) {
    auto r = measureSms(text);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error());
    return r.ok() ? r.value() : SmsSegments{};
}

std::string repeat(std::string_view s, size_t n) {
    std::string out;
    for (size_t i = 0; i < n; ++i) out += s;
    return out;
}

// Every character of the GSM 03.38 default alphabet but the escape, in table order.
const std::string kGsmDefault =
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

TEST(SmsTextTest, EmptyIsOneSegmentOfNothing) {
    const auto m = measure("");
    EXPECT_EQ(m.encoding, SmsEncoding::Gsm7);
    EXPECT_EQ(m.characters, 0u);
    EXPECT_EQ(m.units, 0u);
    EXPECT_EQ(m.segments, 1u);
}

TEST(SmsTextTest, WholeDefaultAlphabetIsGsm7) {
    const auto m = measure(kGsmDefault);
    EXPECT_EQ(m.encoding, SmsEncoding::Gsm7);
    EXPECT_EQ(m.characters, 127u);
    EXPECT_EQ(m.units, 127u);
    EXPECT_EQ(m.segments, 1u);
}

TEST(SmsTextTest, ExtensionCharactersCountTwice) {
    const auto m = measure("^{}\\[~]|€");
    EXPECT_EQ(m.encoding, SmsEncoding::Gsm7);
    EXPECT_EQ(m.characters, 9u);
    EXPECT_EQ(m.units, 18u);
    EXPECT_EQ(measure("\f").units, 2u);  // form feed is in the extension table too
    EXPECT_EQ(measure("Price: 5€").units, 10u);
}

TEST(SmsTextTest, CharactersOutsideGsm7SwitchToUcs2) {
    // Lookalikes and near misses of the GSM table: backtick, tab, small c cedilla, Greek capital
    // alpha, the escape code itself, a curly quote, a non-breaking space.
    for (const char* s : {"`", "\t", "ç", "Α", "\x1b", "’", "\xc2\xa0", "\0"}) {
        const std::string text = std::string("abc") + std::string(s, s[0] ? strlen(s) : 1);
        const auto m = measure(text);
        EXPECT_EQ(m.encoding, SmsEncoding::Ucs2) << text;
        EXPECT_EQ(m.units, 4u) << text;
    }
}

TEST(SmsTextTest, DollarAndCurrencySignAreBothGsm7) {
    EXPECT_EQ(measure("$¤£¥").encoding, SmsEncoding::Gsm7);
}

TEST(SmsTextTest, Gsm7SegmentBoundaries) {
    EXPECT_EQ(measure(std::string(160, 'a')).segments, 1u);
    const auto m161 = measure(std::string(161, 'a'));
    EXPECT_EQ(m161.units, 161u);
    EXPECT_EQ(m161.segments, 2u);
    EXPECT_EQ(measure(std::string(306, 'a')).segments, 2u);
    EXPECT_EQ(measure(std::string(307, 'a')).segments, 3u);
    EXPECT_EQ(measure(std::string(459, 'a')).segments, 3u);
    EXPECT_EQ(measure(std::string(460, 'a')).segments, 4u);
}

TEST(SmsTextTest, ExtensionCharactersAtTheSingleSegmentBoundary) {
    const auto fits = measure(repeat("€", 80));
    EXPECT_EQ(fits.units, 160u);
    EXPECT_EQ(fits.segments, 1u);
    const auto over = measure(std::string(159, 'a') + "€");
    EXPECT_EQ(over.units, 161u);
    EXPECT_EQ(over.segments, 2u);
}

TEST(SmsTextTest, EscapeSequenceIsNeverSplitAcrossParts) {
    // 152 + 2 would straddle the first 153-septet part, so the '€' opens the second one:
    // [152 a] [€ + 151 a] [1 a], three parts where ceil(306 / 153) says two.
    const auto m = measure(std::string(152, 'a') + "€" + std::string(152, 'a'));
    EXPECT_EQ(m.units, 306u);
    EXPECT_EQ(m.segments, 3u);
    EXPECT_EQ(measure(std::string(151, 'a') + "€" + std::string(153, 'a')).segments, 2u);
}

TEST(SmsTextTest, Ucs2SegmentBoundaries) {
    const auto m70 = measure(repeat("я", 70));
    EXPECT_EQ(m70.encoding, SmsEncoding::Ucs2);
    EXPECT_EQ(m70.units, 70u);
    EXPECT_EQ(m70.segments, 1u);
    EXPECT_EQ(measure(repeat("я", 71)).segments, 2u);
    EXPECT_EQ(measure(repeat("я", 134)).segments, 2u);
    EXPECT_EQ(measure(repeat("я", 135)).segments, 3u);
    // One non-GSM character turns the whole message into UCS-2.
    const auto mixed = measure(std::string(69, 'a') + "ç");
    EXPECT_EQ(mixed.encoding, SmsEncoding::Ucs2);
    EXPECT_EQ(mixed.segments, 1u);
    EXPECT_EQ(measure(std::string(70, 'a') + "ç").segments, 2u);
}

TEST(SmsTextTest, EmojiTakeTwoUnits) {
    const auto one = measure("😀");
    EXPECT_EQ(one.encoding, SmsEncoding::Ucs2);
    EXPECT_EQ(one.characters, 1u);
    EXPECT_EQ(one.units, 2u);
    EXPECT_EQ(measure("hello 😀").units, 8u);
    EXPECT_EQ(measure(repeat("😀", 35)).segments, 1u);
    const auto over = measure(repeat("😀", 36));
    EXPECT_EQ(over.units, 72u);
    EXPECT_EQ(over.segments, 2u);
}

TEST(SmsTextTest, SurrogatePairIsNeverSplitAcrossParts) {
    const auto m = measure(repeat("я", 66) + "😀" + repeat("я", 66));
    EXPECT_EQ(m.units, 134u);
    EXPECT_EQ(m.segments, 3u);
}

// The measurement written the plain way (a search of the tables for every character, parts
// counted in a second pass): the table-driven one-pass measureSms must agree with it.
std::string utf8Of(char32_t cp) {
    std::string out;
    appendUtf8(out, cp);
    return out;
}

SmsSegments reference(const std::u32string& text) {
    const std::u32string_view defaults =
        U"@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1BÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNO"
        U"PQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
    const std::u32string_view extension = U"\f^{}\\[~]|€";
    auto septets = [&](char32_t cp) -> size_t {
        const size_t i = defaults.find(cp);
        if (i != std::u32string_view::npos && i != 0x1B) return 1;
        return extension.find(cp) != std::u32string_view::npos ? 2 : 0;
    };
    auto utf16 = [](char32_t cp) -> size_t { return cp > 0xFFFF ? 2 : 1; };
    auto parts = [&](size_t perPart, auto unitsOf) {
        size_t n = 1, used = 0;
        for (char32_t cp : text) {
            const size_t w = unitsOf(cp);
            if (used + w > perPart) {
                ++n;
                used = 0;
            }
            used += w;
        }
        return n;
    };
    SmsSegments m;
    size_t gsmUnits = 0, ucs2Units = 0;
    bool gsm = true;
    for (char32_t cp : text) {
        gsm = gsm && septets(cp) != 0;
        gsmUnits += septets(cp);
        ucs2Units += utf16(cp);
    }
    m.characters = text.size();
    if (gsm) {
        m.units = gsmUnits;
        m.segments = gsmUnits <= 160 ? 1 : parts(153, septets);
    } else {
        m.encoding = SmsEncoding::Ucs2;
        m.units = ucs2Units;
        m.segments = ucs2Units <= 70 ? 1 : parts(67, utf16);
    }
    return m;
}

void expectSameAsReference(const std::u32string& text) {
    std::string utf8;
    for (char32_t cp : text) utf8 += utf8Of(cp);
    const auto got = measure(utf8);
    const auto want = reference(text);
    EXPECT_EQ(got.encoding, want.encoding) << utf8;
    EXPECT_EQ(got.characters, want.characters) << utf8;
    EXPECT_EQ(got.units, want.units) << utf8;
    EXPECT_EQ(got.segments, want.segments) << utf8;
}

TEST(SmsTextTest, EveryCodePointMeasuresAsTheTablesSay) {
    // Past the septet table's end (0x400) as far as '€' (U+20AC) and beyond, plus emoji.
    for (char32_t cp = 0; cp < 0x3000; ++cp) {
        if (cp >= 0xD800 && cp <= 0xDFFF) continue;
        expectSameAsReference(std::u32string(1, cp));
        expectSameAsReference(U"a" + std::u32string(1, cp) + U"b");
    }
    expectSameAsReference(U"😀");
}

TEST(SmsTextTest, LongMixedTextsMeasureAsTheReference) {
    // Two-unit characters placed at every offset around the part boundaries of both encodings,
    // in GSM-7 texts and in texts that turn into UCS-2 part-way or only at the end.
    for (size_t at = 0; at < 320; ++at) {
        std::u32string gsm(330, U'a');
        gsm[at] = U'€';
        expectSameAsReference(gsm);
        std::u32string ucs2(140, U'я');
        if (at < ucs2.size()) {
            ucs2[at] = U'😀';
            expectSameAsReference(ucs2);
        }
        std::u32string turns(330, U'{');
        turns[at] = U'ç';
        expectSameAsReference(turns);
    }
}

TEST(SmsTextTest, InvalidUtf8Fails) {
    auto r = measureSms("abc\xff");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().find("byte 3"), std::string::npos) << r.error();
    EXPECT_FALSE(measureSms("\xed\xa0\x80").ok());  // a surrogate
    EXPECT_FALSE(measureSms("\xc0\x80").ok());      // overlong NUL
}

}  // namespace
}  // namespace sc::domain
