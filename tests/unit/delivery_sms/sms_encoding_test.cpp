#include "delivery/sms/sms_encoding.h"

#include <gtest/gtest.h>

namespace sc::delivery::sms {
namespace {

std::string repeat(std::string_view s, size_t n) {
    std::string out;
    for (size_t i = 0; i < n; ++i) out += s;
    return out;
}

TEST(SmsEncoding, ShortGsmTextIsUnpackedSeptetsWithoutUdh) {
    auto e = encodeSms("Hi @£", 7);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->dataCoding, kDataCodingGsm7);
    EXPECT_FALSE(e->udhi);
    ASSERT_EQ(e->parts.size(), 1u);
    EXPECT_EQ(e->parts[0], std::string("Hi \x00\x01", 5));
}

TEST(SmsEncoding, ExtensionCharactersGoAsEscapePlusSeptet) {
    auto e = encodeSms("€[", 0);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->dataCoding, kDataCodingGsm7);
    EXPECT_EQ(e->parts[0], std::string("\x1B\x65\x1B\x3C"));
}

TEST(SmsEncoding, NonGsmTextIsUcs2BigEndianWithSurrogates) {
    auto e = encodeSms("Жa😀", 0);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->dataCoding, kDataCodingUcs2);
    EXPECT_EQ(e->parts[0], std::string("\x04\x16\x00\x61\xD8\x3D\xDE\x00", 8));
}

TEST(SmsEncoding, LongGsmTextSplitsIn153SeptetPartsWithConcatenationUdh) {
    const std::string text = repeat("a", 160);  // one part exactly
    auto one = encodeSms(text, 1);
    ASSERT_TRUE(one);
    EXPECT_EQ(one->parts.size(), 1u);

    auto e = encodeSms(repeat("a", 161), 0x2A);
    ASSERT_TRUE(e);
    EXPECT_TRUE(e->udhi);
    ASSERT_EQ(e->parts.size(), 2u);
    EXPECT_EQ(e->parts[0].substr(0, 6), std::string("\x05\x00\x03\x2A\x02\x01", 6));
    EXPECT_EQ(e->parts[1].substr(0, 6), std::string("\x05\x00\x03\x2A\x02\x02", 6));
    EXPECT_EQ(e->parts[0].size(), 6u + 153u);
    EXPECT_EQ(e->parts[1].size(), 6u + 8u);
}

TEST(SmsEncoding, EscapeSequenceNeverStraddlesParts) {
    // 152 septets, then '€' (two septets) must start part two.
    auto e = encodeSms(repeat("a", 152) + "€" + repeat("b", 10), 0);
    ASSERT_TRUE(e);
    ASSERT_EQ(e->parts.size(), 2u);
    EXPECT_EQ(e->parts[0].size(), 6u + 152u);
    EXPECT_EQ(e->parts[1].substr(6, 2), "\x1B\x65");
}

TEST(SmsEncoding, LongUcs2TextSplitsIn67UnitParts) {
    auto e = encodeSms(repeat("Ж", 71), 3);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->dataCoding, kDataCodingUcs2);
    ASSERT_EQ(e->parts.size(), 2u);
    EXPECT_EQ(e->parts[0].size(), 6u + 67u * 2);
    EXPECT_EQ(e->parts[1].size(), 6u + 4u * 2);
}

TEST(SmsEncoding, InvalidUtf8Fails) {
    EXPECT_FALSE(encodeSms("\xFF", 0));
}

TEST(SmsEncoding, DecodesWhatItEncodes) {
    for (std::string text :
         {std::string("Hello {world} €5 @home"), std::string("Привет 😀"), repeat("x€", 100)}) {
        auto e = encodeSms(text, 9);
        ASSERT_TRUE(e);
        std::string back;
        for (const auto& part : e->parts) back += decodeShortMessage(part, e->dataCoding, e->udhi);
        EXPECT_EQ(back, text);
    }
}

TEST(SmsEncoding, DecodesLatin1AndSkipsUdh) {
    EXPECT_EQ(decodeShortMessage("\xE9t\xE9", 3, false), "été");
    EXPECT_EQ(decodeShortMessage(std::string("\x05\x00\x03\x01\x02\x01Hi", 8), 0, true), "Hi");
}

}  // namespace
}  // namespace sc::delivery::sms
