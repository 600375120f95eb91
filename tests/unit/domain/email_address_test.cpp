#include "domain/email_address.h"

#include <gtest/gtest.h>

#include <string>

namespace sc::domain {
namespace {

using namespace std::string_literals;

EmailAddress parseOk(std::string_view text) {
    auto r = parseMailbox(text);
    EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().hint);
    return r.ok() ? r.value() : EmailAddress{};
}

AddressError parseFails(std::string_view text) {
    auto r = parseMailbox(text);
    EXPECT_FALSE(r.ok()) << text << " parsed as " << (r.ok() ? r.value().address : "");
    return r.ok() ? AddressError{} : r.error();
}

TEST(MailboxTest, BareAddress) {
    const auto a = parseOk("bob@example.com");
    EXPECT_EQ(a.address, "bob@example.com");
    EXPECT_EQ(a.displayName, "");
    EXPECT_EQ(a.domain(), "example.com");
}

TEST(MailboxTest, TrimsSurroundingWhitespace) {
    EXPECT_EQ(parseOk(" \tbob@example.com \t").address, "bob@example.com");
    EXPECT_EQ(parseOk("  Ann <ann@example.com>  ").displayName, "Ann");
}

TEST(MailboxTest, LowerCasesTheDomainOnly) {
    const auto a = parseOk("Bob.Smith@Mail.Example.COM");
    EXPECT_EQ(a.address, "Bob.Smith@mail.example.com");
    EXPECT_EQ(a.domain(), "mail.example.com");
}

TEST(MailboxTest, DisplayName) {
    const auto a = parseOk("Ann Lee <ann@example.com>");
    EXPECT_EQ(a.displayName, "Ann Lee");
    EXPECT_EQ(a.address, "ann@example.com");
    EXPECT_EQ(parseOk("Ann Lee<ann@example.com>").displayName, "Ann Lee");
    EXPECT_EQ(parseOk("<ann@example.com>").displayName, "");
    EXPECT_EQ(parseOk("Ann < ann@example.com >").address, "ann@example.com");
}

TEST(MailboxTest, QuotedDisplayName) {
    EXPECT_EQ(parseOk("\"Lee, Ann\" <ann@example.com>").displayName, "Lee, Ann");
    EXPECT_EQ(parseOk(R"("Ann \"AL\" Lee" <ann@example.com>)").displayName, "Ann \"AL\" Lee");
    EXPECT_EQ(parseOk(R"(Ann "The Boss" Lee <ann@example.com>)").displayName, "Ann The Boss Lee");
    EXPECT_EQ(parseOk("\"Ann <boss>\" <ann@example.com>").displayName, "Ann <boss>");
    EXPECT_EQ(parseOk("\"\" <ann@example.com>").displayName, "");
}

TEST(MailboxTest, Utf8DisplayNameAndAddress) {
    const auto a = parseOk("Zoë Ångström <zoë@exämple.com>");
    EXPECT_EQ(a.displayName, "Zoë Ångström");
    EXPECT_EQ(a.address, "zoë@exämple.com");
    EXPECT_EQ(parseOk("用户@例子.广告").domain(), "例子.广告");
    // Only ASCII letters are lower-cased; IDN case folding is the MTA's business.
    EXPECT_EQ(parseOk("a@ÄB.Com").address, "a@Äb.com");
}

TEST(MailboxTest, DotAtomLocalPart) {
    EXPECT_EQ(parseOk("first.last+tag@example.com").address, "first.last+tag@example.com");
    EXPECT_TRUE(parseMailbox("!#$%&'*+-/=?^_`{|}~@example.com").ok());
}

TEST(MailboxTest, QuotedLocalPart) {
    EXPECT_EQ(parseOk("\"john doe\"@example.com").address, "\"john doe\"@example.com");
    const auto a = parseOk("Ann <\"a@b, c\"@Example.com>");
    EXPECT_EQ(a.address, "\"a@b, c\"@example.com");
    EXPECT_EQ(a.domain(), "example.com");
    EXPECT_TRUE(parseMailbox(R"("a\"b"@example.com)").ok());
}

TEST(MailboxTest, AddressLiteral) {
    EXPECT_EQ(parseOk("bob@[192.0.2.1]").domain(), "[192.0.2.1]");
    EXPECT_TRUE(parseMailbox("bob@[255.255.255.255]").ok());
    EXPECT_TRUE(parseMailbox("bob@[0.0.0.0]").ok());
    for (const auto* bad : {"bob@[256.0.0.1]", "bob@[1.2.3]", "bob@[1.2.3.4.5]", "bob@[01.2.3.4]",
                            "bob@[1.2.3.4", "bob@[a.b.c.d]", "bob@[]", "bob@[1..2.3]"}) {
        EXPECT_EQ(parseFails(bad).code, "address.malformed") << bad;
    }
    EXPECT_NE(parseFails("bob@[IPv6:2001:db8::1]").hint.find("IPv6"), std::string::npos);
}

struct BadCase {
    const char* input;
    const char* hintPart;
};

TEST(MailboxTest, MalformedAddressesSayWhatIsWrong) {
    const BadCase cases[] = {
        {"bob", "'bob' has no '@'"},
        {"bob@", "'bob@' has no domain after '@'"},
        {"@example.com", "'@example.com' has nothing before '@'"},
        {".bob@example.com", "starts with a dot"},
        {"bob.@example.com", "has a dot just before '@'"},
        {"bo..b@example.com", "has two dots in a row before '@'"},
        {"bo(b@example.com", "has '(' before '@'"},
        {"a@b@example.com", "has more than one '@'"},
        {"bob@localhost", "has no dot in the domain"},
        {"bob@example..com", "two dots in a row after '@'"},
        {"bob@example.com.", "ends with a dot"},
        {"bob@.example.com", "has a dot right after '@'"},
        {"bob@-example.com", "starts or ends with a hyphen"},
        {"bob@example-.com", "starts or ends with a hyphen"},
        {"bob@exa_mple.com", "has '_' after '@'"},
        {"bob@exa mple.com", "has a space"},
        {"bob@1.2.3.4", "ends in a number"},
        {"bob@example.123", "ends in a number"},
        {"Ann <bob@example.com", "has '<' without a closing '>'"},
        {"Ann bob@example.com>", "has '>' without '<'"},
        {"Ann <bob@example.com> x", "has text after '>'"},
        {"Ann <a@example.com> <b@example.com>", "has text after '>'"},
        {"Ann <<bob@example.com>>", "has more than one '<'"},
        {"Ann <>", "has no address between '<' and '>'"},
        {"Ann bob@example.com", "to add a name write it as Name <address>"},
        {"\"Ann <bob@example.com>", "unterminated quote"},
        {"\"bob@example.com", "unterminated quote"},
        {"\"bob\"x@example.com", "text between the closing quote and '@'"},
        {"\"\"@example.com", "empty quotes"},
        {"A>B <bob@example.com>", "has '>' without '<'"},
    };
    for (const auto& c : cases) {
        const auto e = parseFails(c.input);
        EXPECT_EQ(e.code, "address.malformed") << c.input;
        EXPECT_NE(e.hint.find(c.hintPart), std::string::npos)
            << c.input << " -> " << e.hint << " (wanted: " << c.hintPart << ")";
    }
}

TEST(MailboxTest, EmptyIsItsOwnCode) {
    EXPECT_EQ(parseFails("").code, "address.empty");
    EXPECT_EQ(parseFails(" \t ").code, "address.empty");
}

TEST(MailboxTest, LocalPartLimit) {
    EXPECT_TRUE(parseMailbox(std::string(64, 'a') + "@example.com").ok());
    const auto e = parseFails(std::string(65, 'a') + "@example.com");
    EXPECT_NE(e.hint.find("more than 64 bytes before '@'"), std::string::npos) << e.hint;
}

TEST(MailboxTest, LabelLimit) {
    EXPECT_TRUE(parseMailbox("a@" + std::string(63, 'x') + ".com").ok());
    const auto e = parseFails("a@" + std::string(64, 'x') + ".com");
    EXPECT_NE(e.hint.find("label longer than 63 bytes"), std::string::npos) << e.hint;
}

TEST(MailboxTest, DomainAndAddressLimits) {
    const std::string l63(63, 'x');
    const std::string d252 = l63 + "." + l63 + "." + l63 + "." + std::string(60, 'x');
    const std::string d253 = d252 + "x";
    const std::string d254 = d253 + "x";
    ASSERT_EQ(d253.size(), 253u);
    EXPECT_TRUE(parseMailbox("a@" + d252).ok());   // 254 bytes in all
    const auto tooLong = parseFails("a@" + d253);  // domain fits, whole address does not
    EXPECT_NE(tooLong.hint.find("longer than 254 bytes"), std::string::npos) << tooLong.hint;
    const auto bigDomain = parseFails("a@" + d254);
    EXPECT_NE(bigDomain.hint.find("domain longer than 253 bytes"), std::string::npos);
}

TEST(MailboxTest, LineBreaksAreRejectedAnywhere) {
    const std::string inputs[] = {
        "Ann\r\nBcc: evil@example.com <ann@example.com>",
        "\"Ann\r\nBcc: evil@example.com\" <ann@example.com>",
        "ann@example.com\r\n",
        "ann@example.com\n",
        "\rann@example.com",
        "ann@exam\nple.com",
        "ann@example.com\0"s,
    };
    for (const auto& in : inputs) {
        const auto e = parseFails(in);
        EXPECT_EQ(e.code, "address.malformed");
        EXPECT_NE(e.hint.find("line breaks are not allowed"), std::string::npos) << e.hint;
        // The hint goes to logs: it must not carry the line break itself.
        EXPECT_FALSE(hasLineBreak(e.hint)) << e.hint;
    }
    EXPECT_NE(parseFails("a@b.io\r\nBcc: x").hint.find("\\r\\n"), std::string::npos);
}

TEST(MailboxTest, InvalidUtf8) {
    const auto e = parseFails("bob\xff@example.com");
    EXPECT_NE(e.hint.find("not valid UTF-8"), std::string::npos);
    EXPECT_TRUE(isValidUtf8(e.hint)) << "hints end up in JSON";
    EXPECT_FALSE(parseMailbox("bob@ex\xc3.com").ok());
}

TEST(MailboxTest, HintQuotesAtMost100BytesOfTheEntry) {
    const std::string entry = std::string(300, 'a') + "@";
    const auto e = parseFails(entry);
    EXPECT_EQ(e.hint.rfind("'" + std::string(100, 'a') + "...' ", 0), 0u) << e.hint;
    EXPECT_LT(e.hint.size(), 200u);
}

TEST(AddressListTest, SplitsOnSemicolonAndComma) {
    auto r = parseAddressList("a@example.com; b@example.org,c@example.net", 100);
    ASSERT_TRUE(r.ok()) << r.error().hint;
    ASSERT_EQ(r->size(), 3u);
    EXPECT_EQ((*r)[0].address, "a@example.com");
    EXPECT_EQ((*r)[1].address, "b@example.org");
    EXPECT_EQ((*r)[2].address, "c@example.net");
}

TEST(AddressListTest, QuotedCommasAndAngleBracketsDoNotSplit) {
    auto r = parseAddressList(
        "\"Lee, Ann\" <ann@example.com>, Bob <\"b,o;b\"@example.com>; \"x;y\" <c@example.com>",
        100);
    ASSERT_TRUE(r.ok()) << r.error().hint;
    ASSERT_EQ(r->size(), 3u);
    EXPECT_EQ((*r)[0].displayName, "Lee, Ann");
    EXPECT_EQ((*r)[0].address, "ann@example.com");
    EXPECT_EQ((*r)[1].address, "\"b,o;b\"@example.com");
    EXPECT_EQ((*r)[2].displayName, "x;y");
}

TEST(AddressListTest, EscapedQuoteInsideQuotesDoesNotEndThem) {
    auto r = parseAddressList(R"("A \", B" <a@example.com>, b@example.com)", 100);
    ASSERT_TRUE(r.ok()) << r.error().hint;
    ASSERT_EQ(r->size(), 2u);
    EXPECT_EQ((*r)[0].displayName, "A \", B");
}

TEST(AddressListTest, SkipsEmptyEntries) {
    auto r = parseAddressList(" ;; a@example.com,, ;b@example.com; ", 100);
    ASSERT_TRUE(r.ok()) << r.error().hint;
    EXPECT_EQ(r->size(), 2u);
}

TEST(AddressListTest, KeepsDuplicates) {
    auto r = parseAddressList("a@example.com;A@EXAMPLE.com;a@example.com", 100);
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->size(), 3u);
    EXPECT_EQ((*r)[1].address, "A@example.com");
}

TEST(AddressListTest, TooMany) {
    EXPECT_TRUE(parseAddressList("a@x.io;b@x.io", 2).ok());
    auto r = parseAddressList("a@x.io;b@x.io;c@x.io", 2);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "address.too_many");
    EXPECT_NE(r.error().hint.find("at most 2 recipients"), std::string::npos) << r.error().hint;
}

TEST(AddressListTest, TooManyIsRefusedBeforeAnyEntryIsParsed) {
    // The third entry is malformed, but the count is over the limit: the count is what is said.
    auto r = parseAddressList("a@x.io;b@x.io;not an address;d@x.io", 3);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "address.too_many");
    EXPECT_EQ(r.error().hint, "4 addresses given; at most 3 recipients are allowed");
}

TEST(AddressListTest, ParsesEveryEntryUpToTheLimit) {
    std::string text;
    for (int i = 0; i < 100; ++i) text += "u" + std::to_string(i) + "@X.io, ";
    auto r = parseAddressList(text, 100);
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->size(), 100u);
    EXPECT_EQ(r->front().address, "u0@x.io");
    EXPECT_EQ(r->back().address, "u99@x.io");
}

TEST(AddressListTest, Empty) {
    for (const auto* in : {"", "  ", ";", " ; , ;"}) {
        auto r = parseAddressList(in, 100);
        ASSERT_FALSE(r.ok()) << in;
        EXPECT_EQ(r.error().code, "address.empty");
    }
}

TEST(AddressListTest, FirstBadEntryIsNamed) {
    auto r = parseAddressList("a@example.com; bob@ ;c@example.com", 100);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "address.malformed");
    EXPECT_EQ(r.error().hint, "'bob@' has no domain after '@'");
}

TEST(AddressListTest, LineBreakAnywhereFails) {
    for (const auto* in : {"a@example.com,\r\n", "a@example.com\r\nBcc: evil@example.com",
                           "a@example.com;\n;b@example.com", "\"Ann\nB\" <a@example.com>"}) {
        auto r = parseAddressList(in, 100);
        ASSERT_FALSE(r.ok()) << in;
        EXPECT_EQ(r.error().code, "address.malformed");
        EXPECT_NE(r.error().hint.find("line breaks are not allowed"), std::string::npos);
    }
}

TEST(AddressListTest, UnterminatedQuoteSwallowsTheRest) {
    auto r = parseAddressList("\"Ann, a@example.com; b@example.com", 100);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().hint.find("unterminated quote"), std::string::npos) << r.error().hint;
}

TEST(Utf8Test, HasLineBreak) {
    EXPECT_FALSE(hasLineBreak("plain text\t"));
    EXPECT_TRUE(hasLineBreak("a\rb"));
    EXPECT_TRUE(hasLineBreak("a\nb"));
    EXPECT_TRUE(hasLineBreak("a\0b"s));
    EXPECT_FALSE(hasLineBreak(""));
}

TEST(Utf8Test, FindsTheOneBadByteAtAnyOffsetInAsciiText) {
    // ASCII is skipped eight bytes at a time: a bad or a valid multi-byte sequence must be
    // found wherever it falls within or across those words.
    for (size_t at = 0; at < 40; ++at) {
        for (std::string_view bad : {"\xff", "\xc3", "\xe2\x82", "\xed\xa0\x80", "\x80"}) {
            std::string text(40, 'x');
            text.insert(at, bad);
            EXPECT_FALSE(isValidUtf8(text)) << at << " " << testing::PrintToString(text);
            EXPECT_FALSE(isValidUtf8(text.substr(0, at + bad.size())));
        }
        std::string good(40, 'x');
        good.insert(at, "€😀é");
        EXPECT_TRUE(isValidUtf8(good)) << at;
    }
}

TEST(Utf8Test, HasLineBreakAtAnyOffset) {
    for (size_t at = 0; at < 20; ++at) {
        for (char c : {'\r', '\n', '\0'}) {
            std::string text(20, 'x');
            text[at] = c;
            EXPECT_TRUE(hasLineBreak(text)) << at;
        }
    }
    EXPECT_FALSE(hasLineBreak("\t\v\f\x7f\x01 \xc2\x85"));  // other controls, NEL
}

TEST(Utf8Test, AcceptsValid) {
    EXPECT_TRUE(isValidUtf8(""));
    EXPECT_TRUE(isValidUtf8("ascii"));
    EXPECT_TRUE(isValidUtf8("\xc2\x80"));          // U+0080
    EXPECT_TRUE(isValidUtf8("\xdf\xbf"));          // U+07FF
    EXPECT_TRUE(isValidUtf8("\xe0\xa0\x80"));      // U+0800
    EXPECT_TRUE(isValidUtf8("€"));                 // U+20AC
    EXPECT_TRUE(isValidUtf8("\xed\x9f\xbf"));      // U+D7FF, just below the surrogates
    EXPECT_TRUE(isValidUtf8("\xee\x80\x80"));      // U+E000, just above them
    EXPECT_TRUE(isValidUtf8("\xef\xbf\xbf"));      // U+FFFF
    EXPECT_TRUE(isValidUtf8("\xf0\x90\x80\x80"));  // U+10000
    EXPECT_TRUE(isValidUtf8("😀"));
    EXPECT_TRUE(isValidUtf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF
}

TEST(Utf8Test, RejectsInvalid) {
    const char* bad[] = {
        "\x80",              // lone continuation
        "\xbf",              //
        "\xc0\xaf",          // overlong '/'
        "\xc1\xbf",          // overlong
        "\xe0\x80\xaf",      // overlong, 3 bytes
        "\xe0\x9f\xbf",      // overlong U+07FF
        "\xf0\x80\x80\xaf",  // overlong, 4 bytes
        "\xf0\x8f\xbf\xbf",  // overlong U+FFFF
        "\xed\xa0\x80",      // U+D800, a surrogate
        "\xed\xbf\xbf",      // U+DFFF
        "\xf4\x90\x80\x80",  // U+110000
        "\xf5\x80\x80\x80",  //
        "\xff",              //
        "\xc3",              // truncated
        "\xe2\x82",          // truncated
        "\xf0\x9f\x98",      // truncated
        "\xc3\x28",          // bad continuation
        "a\xe2\x28\xa1z",    //
    };
    for (const char* s : bad) EXPECT_FALSE(isValidUtf8(s)) << testing::PrintToString(s);
}

}  // namespace
}  // namespace sc::domain
