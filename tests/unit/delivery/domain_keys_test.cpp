#include "delivery/dkim/domain_keys.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "auth/key_material.h"
#include "auth/server_secret.h"
#include "common/random.h"
#include "delivery/dkim/openssl_signer.h"
#include "fakes/fake_clock.h"
#include "store/sqlite/sqlite_store.h"
#include "unit/store/sqlite_test_support.h"

namespace sc::delivery::dkim {
namespace {

const std::string kMessage =
    "From: news@acme.io\r\n"
    "To: ann@example.com\r\n"
    "Subject: hi\r\n"
    "Date: Sat, 05 Dec 2026 02:10:15 +0000\r\n"
    "Message-ID: <1@mx.acme.io>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=\"utf-8\"\r\n"
    "\r\n"
    "Hello\r\n";

store::SqliteOptions optionsFor(const std::string& path) {
    store::SqliteOptions o;
    o.path = path;
    return o;
}

int verify(const std::string& message, const DnsRecord& r) {
    static int n = 0;
    auto dir = std::filesystem::temp_directory_path() /
               ("sc_dk_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "m.eml", std::ios::binary) << message;
    std::ofstream(dir / "r.txt") << r.name << " TXT " << zoneFileStrings(r.value) << "\n";
    std::string cmd = "/usr/bin/python3 " SC_DKIM_VERIFY_SCRIPT " " + (dir / "m.eml").string() +
                      " " + (dir / "r.txt").string() + " >/dev/null";
    int rc = std::system(cmd.c_str());
    std::filesystem::remove_all(dir);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

class DomainKeysTest : public ::testing::Test {
protected:
    DomainKeysTest()
        : backend_(optionsFor(dir_.file("db.sqlite"))),
          secret_(auth::ServerSecret::fromBytes({1, 2, 3})),
          material_(secret_),
          domains_(backend_.domains(), material_, random_, clock_) {
        accountId_ = backend_.credentials().createAccount("owner@acme.io", 1).value().id;
    }

    store::test_support::TempDir dir_;
    store::SqliteBackend backend_;
    auth::ServerSecret secret_;
    auth::KeyMaterial material_;
    SystemRandom random_;
    sc::testing::FakeClock clock_;
    DomainKeys domains_;
    int64_t accountId_ = 0;
};

TEST_F(DomainKeysTest, AddedKeysSignAndVerifyAgainstTheirRecord) {
    for (auto [domain, alg] : {std::pair{"acme.io", DkimAlgorithm::Rsa},
                               std::pair{"mail.acme.io", DkimAlgorithm::Ed25519}}) {
        auto added = domains_.add(domain, accountId_, alg, "");
        ASSERT_TRUE(added) << added.error().message;
        auto records = DomainKeys::dnsRecords(*added);
        ASSERT_EQ(records.size(), 1u);
        EXPECT_EQ(records[0].name, std::string("sc1._domainkey.") + domain);
        EXPECT_FALSE(records[0].retired);

        OpenSslDkimSigner signer(domains_.keySource());
        std::string msg = kMessage;
        msg.replace(msg.find("acme.io"), 7, domain);
        auto signed_ = signer.sign(domain, msg);
        ASSERT_TRUE(signed_) << signed_.error();
        ASSERT_EQ(signed_->rfind("DKIM-Signature:", 0), 0u);
        EXPECT_EQ(verify(*signed_, records[0]), 0) << domain;
    }
}

TEST_F(DomainKeysTest, PrivateKeysAreSealedAtRest) {
    ASSERT_TRUE(domains_.add("acme.io", accountId_, DkimAlgorithm::Rsa, "sc1"));
    SQLite::Database raw(dir_.file("db.sqlite"));
    SQLite::Statement q(raw, "SELECT private_key_sealed FROM dkim_keys");
    ASSERT_TRUE(q.executeStep());
    std::string sealed(static_cast<const char*>(q.getColumn(0).getBlob()),
                       static_cast<size_t>(q.getColumn(0).getBytes()));
    EXPECT_EQ(sealed.find("PRIVATE KEY"), std::string::npos);
    auto opened = material_.open(sealed);
    ASSERT_TRUE(opened);
    EXPECT_NE(opened->find("BEGIN PRIVATE KEY"), std::string::npos);
}

TEST_F(DomainKeysTest, RotateSignsWithTheNewKeyAndKeepsTheOldPublished) {
    ASSERT_TRUE(domains_.add("acme.io", accountId_, DkimAlgorithm::Rsa, ""));
    OpenSslDkimSigner signer(domains_.keySource());
    auto before = signer.sign("acme.io", kMessage);
    ASSERT_TRUE(before);

    auto rotated = domains_.rotate("acme.io", std::nullopt, "");
    ASSERT_TRUE(rotated) << rotated.error().message;
    auto records = DomainKeys::dnsRecords(*rotated);
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[0].selector, "sc2");
    EXPECT_FALSE(records[0].retired);
    EXPECT_EQ(records[1].selector, "sc1");
    EXPECT_TRUE(records[1].retired);

    auto after = signer.sign("acme.io", kMessage);
    ASSERT_TRUE(after);
    EXPECT_NE(after->find("s=sc2;"), std::string::npos);
    EXPECT_EQ(verify(*after, records[0]), 0);
    EXPECT_EQ(verify(*after, records[1]), 1);   // not the old key any more
    EXPECT_EQ(verify(*before, records[1]), 0);  // mail signed before still verifies

    // The old selector goes only on request; the active one only with the domain.
    EXPECT_FALSE(domains_.remove("acme.io", "sc2"));
    ASSERT_TRUE(domains_.remove("acme.io", "sc1"));
    EXPECT_EQ(domains_.find("acme.io").value()->keys.size(), 1u);
    ASSERT_TRUE(domains_.remove("acme.io", ""));
    EXPECT_FALSE(domains_.find("acme.io").value());
    auto unsignedNow = signer.sign("acme.io", kMessage);
    ASSERT_TRUE(unsignedNow);
    EXPECT_EQ(*unsignedNow, kMessage);
}

TEST_F(DomainKeysTest, ARunningServerSeesAnotherProcesssRotateAfterTheCacheTime) {
    ASSERT_TRUE(domains_.add("acme.io", accountId_, DkimAlgorithm::Ed25519, ""));
    EXPECT_EQ(domains_.activeKey("ACME.io")->selector, "sc1");
    // Another process (an operator command) rotates: its own DomainKeys over the same file.
    store::SqliteBackend other(optionsFor(dir_.file("db.sqlite")));
    DomainKeys operatorSide(other.domains(), material_, random_, clock_);
    ASSERT_TRUE(operatorSide.rotate("acme.io", DkimAlgorithm::Rsa, "2027a"));
    EXPECT_EQ(domains_.activeKey("acme.io")->selector, "sc1");  // cached
    clock_.advance(std::chrono::milliseconds(DomainKeys::kCacheMs));
    auto key = domains_.activeKey("acme.io");
    ASSERT_TRUE(key);
    EXPECT_EQ(key->selector, "2027a");
    EXPECT_EQ(key->algorithm, DkimAlgorithm::Rsa);
}

TEST_F(DomainKeysTest, RefusesWhatIsNotADomainASelectorOrUnique) {
    EXPECT_EQ(domains_.add("not a domain", accountId_, DkimAlgorithm::Rsa, "").error().kind,
              DomainError::Kind::Invalid);
    EXPECT_EQ(domains_.add("localhost", accountId_, DkimAlgorithm::Rsa, "").error().kind,
              DomainError::Kind::Invalid);
    EXPECT_EQ(domains_.add("acme.io", accountId_, DkimAlgorithm::Rsa, "bad selector").error().kind,
              DomainError::Kind::Invalid);
    ASSERT_TRUE(domains_.add("Acme.IO", accountId_, DkimAlgorithm::Rsa, ""));
    EXPECT_EQ(domains_.add("acme.io", accountId_, DkimAlgorithm::Rsa, "").error().kind,
              DomainError::Kind::Conflict);
    EXPECT_EQ(domains_.rotate("acme.io", std::nullopt, "sc1").error().kind,
              DomainError::Kind::Conflict);
    EXPECT_EQ(domains_.rotate("other.io", std::nullopt, "").error().kind,
              DomainError::Kind::NotFound);
    EXPECT_EQ(domains_.add("b.io", 999999, DkimAlgorithm::Rsa, "").error().kind,
              DomainError::Kind::NotFound);
    EXPECT_EQ(nextSelector("sc1"), "sc2");
    EXPECT_EQ(nextSelector("sc9"), "sc10");
    EXPECT_EQ(nextSelector("mail"), "mail2");
}

}  // namespace
}  // namespace sc::delivery::dkim
