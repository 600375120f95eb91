#include "domain/text_util.h"

#include <gtest/gtest.h>

#include <string>

namespace sc::domain {
namespace {

TEST(TextUtilTest, DecodesAndAdvances) {
    const std::string s = "a€😀";
    size_t pos = 0;
    EXPECT_EQ(decodeUtf8(s, pos), U'a');
    EXPECT_EQ(pos, 1u);
    EXPECT_EQ(decodeUtf8(s, pos), U'€');
    EXPECT_EQ(pos, 4u);
    EXPECT_EQ(decodeUtf8(s, pos), U'😀');
    EXPECT_EQ(pos, 8u);
    EXPECT_EQ(decodeUtf8(s, pos), std::nullopt);
    size_t bad = 0;
    EXPECT_EQ(decodeUtf8("\xe2\x82", bad), std::nullopt);
    EXPECT_EQ(bad, 0u);
}

TEST(TextUtilTest, Trim) {
    EXPECT_EQ(trimAsciiSpace(" \t\r\n\v\fa b\t "), "a b");
    EXPECT_EQ(trimAsciiSpace("   "), "");
}

TEST(TextUtilTest, QuoteEscapesControlsAndBadBytes) {
    EXPECT_EQ(quoteForHint("plain"), "'plain'");
    EXPECT_EQ(quoteForHint(std::string("a\r\nb\0\t\x1b\x7f", 8)), "'a\\r\\nb\\0\\t\\x1B\\x7F'");
    EXPECT_EQ(quoteForHint("a\xff"
                           "b"),
              "'a\\xFFb'");
    EXPECT_EQ(quoteForHint("Zoë"), "'Zoë'");
}

TEST(TextUtilTest, QuoteCutsAtACharacterBoundary) {
    EXPECT_EQ(quoteForHint(std::string(100, 'a')), "'" + std::string(100, 'a') + "'");
    EXPECT_EQ(quoteForHint(std::string(101, 'a')), "'" + std::string(100, 'a') + "...'");
    // '€' is three bytes: 99 + 3 > 100, so it goes whole rather than in part.
    EXPECT_EQ(quoteForHint(std::string(99, 'a') + "€"), "'" + std::string(99, 'a') + "...'");
    EXPECT_EQ(quoteForHint("abcdef", 3), "'abc...'");
}

}  // namespace
}  // namespace sc::domain
