#include "delivery/dkim/openssl_signer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "delivery/dkim/dkim_keys.h"
#include "opendkim_signer.h"

namespace sc::delivery::dkim {
namespace {

const std::string kMessage =
    "From: Acme <news@acme.io>\r\n"
    "To: ann@example.com\r\n"
    "Subject: Spring sale\r\n"
    "Date: Sat, 05 Dec 2026 02:10:15 +0000\r\n"
    "Message-ID: <1@mx.acme.io>\r\n"
    "MIME-Version: 1.0\r\n"
    "List-Unsubscribe: <mailto:u@acme.io>\r\n"
    "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
    "X-Campaign: spring\r\n"
    "Content-Type: text/plain; charset=\"utf-8\"\r\n"
    "Content-Transfer-Encoding: 7bit\r\n"
    "\r\n"
    "Hello  Ann \r\n"
    "\r\n";

struct Verified {
    int status = -1;
    std::string output;
};

// python3-dkim verifies `message` against the record line `domain dns` prints.
Verified verifyWithPython(const std::string& message, const std::string& recordLine) {
    static int n = 0;
    auto dir = std::filesystem::temp_directory_path() /
               ("sc_dkim_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "m.eml", std::ios::binary) << message;
    std::ofstream(dir / "record.txt") << recordLine << "\n";
    std::string cmd = "/usr/bin/python3 " SC_DKIM_VERIFY_SCRIPT " " + (dir / "m.eml").string() +
                      " " + (dir / "record.txt").string();
    Verified v;
    if (FILE* p = popen(cmd.c_str(), "r")) {
        char buf[4096];
        for (size_t k; (k = fread(buf, 1, sizeof buf, p)) > 0;) v.output.append(buf, k);
        int rc = pclose(p);
        v.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    }
    std::filesystem::remove_all(dir);
    return v;
}

// The header names of an h= list, lower case.
std::set<std::string> namesOf(const std::string& list) {
    std::set<std::string> names;
    size_t start = 0;
    while (start <= list.size()) {
        size_t end = list.find(':', start);
        if (end == std::string::npos) end = list.size();
        std::string name = list.substr(start, end - start);
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (!name.empty()) names.insert(name);
        start = end + 1;
    }
    return names;
}

class DkimSignerTest : public ::testing::TestWithParam<DkimAlgorithm> {};

TEST_P(DkimSignerTest, PythonDkimVerifiesTheSignature) {
    auto key = generateKey(GetParam());
    ASSERT_TRUE(key) << key.error();
    SigningKey signing{"acme.io", "sc1", GetParam(), key->privatePem};
    OpenSslDkimSigner signer([&](std::string_view d) -> std::optional<SigningKey> {
        if (d == "acme.io") return signing;
        return std::nullopt;
    });
    auto signed_ = signer.sign("acme.io", kMessage);
    ASSERT_TRUE(signed_) << signed_.error();
    ASSERT_EQ(signed_->rfind("DKIM-Signature: ", 0), 0u);
    EXPECT_EQ(signed_->substr(signed_->size() - kMessage.size()), kMessage);
    // Folded with CRLF only.
    std::string head = signed_->substr(0, signed_->size() - kMessage.size());
    for (size_t i = 0; i < head.size(); ++i) {
        if (head[i] == '\n') {
            ASSERT_EQ(head[i - 1], '\r');
        }
    }

    std::string record = dnsRecordName("sc1", "acme.io") + " TXT " +
                         zoneFileStrings(dnsTxtValue(GetParam(), key->publicKeyBase64));
    auto v = verifyWithPython(*signed_, record);
    EXPECT_EQ(v.status, 0) << v.output << "\n" << head;
    EXPECT_NE(v.output.find(GetParam() == DkimAlgorithm::Rsa ? "rsa-sha256" : "ed25519-sha256"),
              std::string::npos)
        << v.output;
    // The explicit list: List-Unsubscribe(-Post) signed, X-Campaign and the CTE not.
    const std::string hLine = v.output.substr(0, v.output.find('\n'));
    EXPECT_EQ(namesOf(hLine.substr(hLine.find('=') + 1)),
              (std::set<std::string>{"from", "to", "subject", "date", "message-id", "mime-version",
                                     "content-type", "list-unsubscribe", "list-unsubscribe-post"}))
        << v.output;
    EXPECT_EQ(v.output.find("x-campaign"), std::string::npos) << v.output;

    // Relaxed canonicalisation forgives whitespace changes a relay may make...
    std::string rewrapped = *signed_;
    rewrapped.replace(rewrapped.find("Hello  Ann \r\n"), 13, "Hello Ann\r\n");
    EXPECT_EQ(verifyWithPython(rewrapped, record).status, 0);
    // ...but not a changed word, nor a changed signed header.
    std::string tampered = *signed_;
    tampered.replace(tampered.find("Hello  Ann"), 10, "Hello  Bob");
    EXPECT_EQ(verifyWithPython(tampered, record).status, 1);
    tampered = *signed_;
    tampered.replace(tampered.find("Spring sale"), 11, "Winter sale");
    EXPECT_EQ(verifyWithPython(tampered, record).status, 1);
    // And another key's record does not verify it.
    auto other = generateKey(GetParam());
    ASSERT_TRUE(other);
    std::string otherRecord = dnsRecordName("sc1", "acme.io") + " TXT " +
                              zoneFileStrings(dnsTxtValue(GetParam(), other->publicKeyBase64));
    EXPECT_EQ(verifyWithPython(*signed_, otherRecord).status, 1);
}

INSTANTIATE_TEST_SUITE_P(Algorithms, DkimSignerTest,
                         ::testing::Values(DkimAlgorithm::Rsa, DkimAlgorithm::Ed25519),
                         [](const auto& info) { return std::string(algorithmName(info.param)); });

// The tag value of `tag` (e.g. "bh") in a DKIM-Signature header, unfolded.
std::string tagValue(const std::string& header, const std::string& tag) {
    std::string flat;
    for (char c : header) {
        if (c != '\r' && c != '\n' && c != '\t' && c != ' ') flat += c;
    }
    size_t at = flat.find(";" + tag + "=");
    if (at == std::string::npos) return "";
    at += tag.size() + 2;
    return flat.substr(at, flat.find(';', at) - at);
}

TEST_P(DkimSignerTest, AgreesWithLibopendkimAndParsesTheKeyOnce) {
    auto key = generateKey(GetParam());
    ASSERT_TRUE(key) << key.error();
    SigningKey signing{"acme.io", "sc1", GetParam(), key->privatePem};
    OpenSslDkimSigner ours([&](std::string_view) { return std::optional<SigningKey>(signing); });
    OpenDkimSigner reference([&](std::string_view) { return std::optional<SigningKey>(signing); });
    std::string record = dnsRecordName("sc1", "acme.io") + " TXT " +
                         zoneFileStrings(dnsTxtValue(GetParam(), key->publicKeyBase64));
    // Bodies that test the relaxed body rules: trailing empty lines, white space runs, a body
    // without a final CRLF, an empty body.
    for (const std::string& body : {std::string("Hello  Ann \r\n\r\n\r\n"),
                                    std::string(" a\t b \r\n\t\r\nlast line"), std::string()}) {
        const std::string message = kMessage.substr(0, kMessage.find("\r\n\r\n") + 4) + body;
        auto a = ours.sign("acme.io", message);
        auto b = reference.sign("acme.io", message);
        ASSERT_TRUE(a) << a.error();
        ASSERT_TRUE(b) << b.error();
        const std::string headA = a->substr(0, a->size() - message.size());
        const std::string headB = b->substr(0, b->size() - message.size());
        EXPECT_EQ(tagValue(headA, "bh"), tagValue(headB, "bh")) << headA << "\n" << headB;
        // The same names; the order may differ (each signer lists them its own way).
        EXPECT_EQ(namesOf(tagValue(headA, "h")), namesOf(tagValue(headB, "h")));
        EXPECT_FALSE(tagValue(headA, "bh").empty()) << headA;
        auto v = verifyWithPython(*a, record);
        EXPECT_EQ(v.status, 0) << v.output << "\n" << headA;
    }
    EXPECT_EQ(ours.keysParsed(), 1u);
}

// RFC 6376 §3.4.5's example.
TEST(DkimCanonicalisation, RelaxedHeadersAndBodyAsTheRfcShows) {
    EXPECT_EQ(relaxedHeader("A: X"), "a:X\r\n");
    EXPECT_EQ(relaxedHeader("B : Y\t\r\n\tZ  "), "b:Y Z\r\n");
    EXPECT_EQ(relaxedBody(" C \r\nD \t E\r\n\r\n\r\n"), " C\r\nD E\r\n");
    EXPECT_EQ(relaxedBody("\r\n\r\n"), "");
    EXPECT_EQ(relaxedBody("no final line break"), "no final line break\r\n");
    EXPECT_EQ(relaxedBody("a\r\n\r\nb\r\n"), "a\r\n\r\nb\r\n");
}

TEST(DkimSigner, AKeyOfTheOtherAlgorithmIsAnError) {
    auto rsa = generateKey(DkimAlgorithm::Rsa);
    ASSERT_TRUE(rsa);
    OpenSslDkimSigner signer([&](std::string_view) -> std::optional<SigningKey> {
        return SigningKey{"acme.io", "sc1", DkimAlgorithm::Ed25519, rsa->privatePem};
    });
    EXPECT_FALSE(signer.sign("acme.io", kMessage));
}

TEST(DkimSigner, ADomainWithoutAKeyIsLeftUnsigned) {
    OpenSslDkimSigner signer([](std::string_view) { return std::nullopt; });
    auto r = signer.sign("other.io", kMessage);
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, kMessage);
}

TEST(DkimSigner, ABrokenKeyIsAnError) {
    OpenSslDkimSigner signer([](std::string_view) -> std::optional<SigningKey> {
        return SigningKey{"acme.io", "sc1", DkimAlgorithm::Rsa, "not a key"};
    });
    EXPECT_FALSE(signer.sign("acme.io", kMessage));
}

TEST(DkimKeys, RecordsAndSelectors) {
    auto rsa = generateKey(DkimAlgorithm::Rsa);
    ASSERT_TRUE(rsa);
    EXPECT_NE(rsa->privatePem.find("BEGIN PRIVATE KEY"), std::string::npos);
    EXPECT_GT(rsa->publicKeyBase64.size(), 380u);  // 2048-bit SubjectPublicKeyInfo
    std::string txt = dnsTxtValue(DkimAlgorithm::Rsa, rsa->publicKeyBase64);
    EXPECT_EQ(txt.rfind("v=DKIM1; k=rsa; p=MIIB", 0), 0u);
    std::string zone = zoneFileStrings(txt);
    EXPECT_EQ(zone.substr(0, 257), "\"" + txt.substr(0, 255) + "\"");
    EXPECT_EQ(zone.substr(257, 2), " \"");
    auto ed = generateKey(DkimAlgorithm::Ed25519);
    ASSERT_TRUE(ed);
    EXPECT_EQ(ed->publicKeyBase64.size(), 44u);  // 32 raw bytes
    EXPECT_EQ(dnsRecordName("sc1", "acme.io"), "sc1._domainkey.acme.io");
    EXPECT_TRUE(isValidSelector("sc1"));
    EXPECT_TRUE(isValidSelector("sc-2026.mail"));
    EXPECT_FALSE(isValidSelector(""));
    EXPECT_FALSE(isValidSelector("-a"));
    EXPECT_FALSE(isValidSelector("a b"));
    EXPECT_FALSE(isValidSelector("a..b"));
    EXPECT_FALSE(isValidSelector(std::string(64, 'a')));
}

}  // namespace
}  // namespace sc::delivery::dkim
