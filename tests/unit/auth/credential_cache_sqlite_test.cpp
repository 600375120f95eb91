// The credential cache against the real SQLite store, with two backends opened on one database
// file standing in for two processes: the server (whose verifier caches) and an operator
// command or another node (which changes credentials). A change committed through the other
// backend must be seen by the server's very next verify().

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "auth/credential_issuer.h"
#include "auth/credential_verifier.h"
#include "fakes/counting_credential_store.h"
#include "fakes/fake_clock.h"
#include "fakes/fixed_random.h"
#include "store/sqlite/sqlite_store.h"
#include "unit/store/sqlite_test_support.h"

#include <sqlite3.h>

namespace sc::auth {
namespace {

using store::test_support::TempDir;

ServerSecret testSecret() {
    std::array<uint8_t, ServerSecret::kBytes> bytes{};
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 5 + 3);
    return ServerSecret::fromBytes(bytes);
}

store::SqliteOptions optionsFor(const std::string& path) {
    store::SqliteOptions o;
    o.path = path;
    return o;
}

Result<AuthContext, AuthFailure> verifyWith(const CredentialVerifier& v, Api api,
                                            const std::string& user, const std::string& key) {
    http::ParamMap map;
    map.add(std::string(CredentialVerifier::userParam(api)), user);
    map.add(std::string(CredentialVerifier::keyParam(api)), key);
    return v.verify(api, map, http::Request{});
}

AuthFailureReason reasonOf(const Result<AuthContext, AuthFailure>& r) {
    EXPECT_FALSE(r.ok());
    return r.ok() ? AuthFailureReason::Failed : r.error().reason;
}

class TwoProcessCacheTest : public ::testing::Test {
protected:
    TwoProcessCacheTest()
        : secret_(testSecret()),
          keys_(secret_),
          server_(optionsFor(dir_.file("sendcloud.db"))),
          operator_(optionsFor(dir_.file("sendcloud.db"))),
          counted_(server_.credentials()),
          verifier_(counted_, keys_, clock_),
          issuer_(operator_.credentials(), keys_, random_, clock_, std::chrono::minutes(15)) {
        EXPECT_TRUE(issuer_.createAccount("owner@acme.io").ok());
        auto email = issuer_.createUser("acme_api", store::UserKind::Email, "owner@acme.io");
        auto sms = issuer_.createUser("acme_sms", store::UserKind::Sms, "owner@acme.io");
        EXPECT_TRUE(email.ok() && sms.ok());
        emailKey_ = email->key;
        smsKey_ = sms->key;
        emailId_ = email->user.id;
        smsId_ = sms->user.id;
    }

    Result<AuthContext, AuthFailure> email(const std::string& key) {
        return verifyWith(verifier_, Api::Email, "acme_api", key);
    }
    Result<AuthContext, AuthFailure> sms(const std::string& key) {
        return verifyWith(verifier_, Api::Sms, "acme_sms", key);
    }
    // Authenticates once so that the user is cached, and checks that it is.
    void warm(Api api) {
        ASSERT_TRUE(api == Api::Email ? email(emailKey_).ok() : sms(smsKey_).ok());
        const int before = counted_.lookups;
        ASSERT_TRUE(api == Api::Email ? email(emailKey_).ok() : sms(smsKey_).ok());
        ASSERT_EQ(counted_.lookups, before) << "the second success should come from the cache";
    }

    TempDir dir_;
    testing::FakeClock clock_;
    testing::FixedRandom random_;
    ServerSecret secret_;
    KeyMaterial keys_;
    store::SqliteBackend server_;
    store::SqliteBackend operator_;
    testing::CountingCredentialStore counted_;
    CredentialVerifier verifier_;
    CredentialIssuer issuer_;
    std::string emailKey_, smsKey_;
    int64_t emailId_ = 0, smsId_ = 0;
};

TEST_F(TwoProcessCacheTest, BothBackendsShareOneVersionThatMovesWithEveryUserWrite) {
    auto& a = server_.credentials();
    auto& b = operator_.credentials();
    ASSERT_TRUE(a.credentialVersion().has_value());
    ASSERT_TRUE(b.credentialVersion().has_value());
    EXPECT_EQ(a.credentialVersion(), b.credentialVersion());
    auto step = [&](const char* what, auto&& change) {
        const uint64_t before = *a.credentialVersion();
        change();
        EXPECT_GT(*a.credentialVersion(), before) << what;
        EXPECT_EQ(a.credentialVersion(), b.credentialVersion()) << what;
    };
    step("disable", [&] { ASSERT_TRUE(b.setUserDisabled("acme_api", true).ok()); });
    step("update", [&] { ASSERT_TRUE(b.updateUser(emailId_, {}, false).ok()); });
    step("reset", [&] { ASSERT_TRUE(issuer_.resetKey(emailId_, false).ok()); });
    step("delete", [&] { ASSERT_TRUE(b.deleteUser(smsId_).ok()); });
    step("create", [&] {
        ASSERT_TRUE(issuer_.createUser("acme_new", store::UserKind::Email, "owner@acme.io").ok());
    });
}

TEST_F(TwoProcessCacheTest, TheVersionFileSitsNextToTheDatabaseWithItsPermissions) {
    struct stat db {};
    struct stat ver {};
    ASSERT_EQ(::stat(dir_.file("sendcloud.db").c_str(), &db), 0);
    ASSERT_EQ(::stat(dir_.file("sendcloud.db-credver").c_str(), &ver), 0);
    EXPECT_EQ(db.st_mode & 0777, ver.st_mode & 0777);
}

TEST_F(TwoProcessCacheTest, ACacheHitReadsNothingFromTheStore) {
    ASSERT_TRUE(email(emailKey_).ok());
    EXPECT_EQ(counted_.lookups, 1);
    for (int i = 0; i < 5; ++i) {
        auto r = email(emailKey_);
        ASSERT_TRUE(r.ok());
        EXPECT_EQ(r->userName, "acme_api");
    }
    EXPECT_EQ(counted_.lookups, 1);
    EXPECT_EQ(counted_.reads, 1);  // the first success's; the hits read nothing
}

TEST_F(TwoProcessCacheTest, AFailureMakesExactlyOneStoreRead) {
    const std::string oldKey = emailKey_;
    auto reset = issuer_.resetKey(emailId_, false);  // oldKey stays valid for the grace
    ASSERT_TRUE(reset.ok());
    auto once = [&](const char* what, auto&& call) {
        const int before = counted_.reads;
        call();
        EXPECT_EQ(counted_.reads - before, 1) << what;
    };
    once("unknown user", [&] {
        EXPECT_EQ(reasonOf(verifyWith(verifier_, Api::Email, "nobody_here", oldKey)),
                  AuthFailureReason::Failed);
    });
    once("wrong key", [&] { EXPECT_EQ(reasonOf(email(smsKey_)), AuthFailureReason::Failed); });
    once("other API's user", [&] {
        EXPECT_EQ(reasonOf(verifyWith(verifier_, Api::Sms, "acme_api", reset->key)),
                  AuthFailureReason::Failed);
    });
    once("grace key", [&] {
        auto r = email(oldKey);
        ASSERT_TRUE(r.ok());
        EXPECT_TRUE(r->keySunsetAtMs.has_value());
    });
    clock_.advance(std::chrono::minutes(16));
    once("expired key", [&] { EXPECT_EQ(reasonOf(email(oldKey)), AuthFailureReason::KeyExpired); });
    once("first success", [&] { EXPECT_TRUE(email(reset->key).ok()); });
}

TEST_F(TwoProcessCacheTest, AnSmsResetElsewhereRefusesTheOldKeyOnTheNextCall) {
    warm(Api::Sms);
    auto reset = issuer_.resetKey(smsId_, false);
    ASSERT_TRUE(reset.ok());
    EXPECT_EQ(reasonOf(sms(smsKey_)), AuthFailureReason::KeyExpired);
    EXPECT_TRUE(sms(reset->key).ok());
}

TEST_F(TwoProcessCacheTest, AnEmailResetWithRevokeOldElsewhereEndsTheOldKeyOnTheNextCall) {
    warm(Api::Email);
    auto reset = issuer_.resetKey(emailId_, true);
    ASSERT_TRUE(reset.ok());
    EXPECT_EQ(reasonOf(email(emailKey_)), AuthFailureReason::KeyExpired);
    EXPECT_TRUE(email(reset->key).ok());
}

TEST_F(TwoProcessCacheTest, AnEmailResetElsewhereKeepsTheGraceRules) {
    warm(Api::Email);
    auto reset = issuer_.resetKey(emailId_, false);
    ASSERT_TRUE(reset.ok());
    auto old = email(emailKey_);
    ASSERT_TRUE(old.ok());
    EXPECT_TRUE(old->keySunsetAtMs.has_value());  // from the store's retired key, not the cache
    auto fresh = email(reset->key);
    ASSERT_TRUE(fresh.ok());
    EXPECT_FALSE(fresh->keySunsetAtMs.has_value());
}

TEST_F(TwoProcessCacheTest, ADisableElsewhereIsSeenOnTheNextCall) {
    warm(Api::Email);
    ASSERT_TRUE(operator_.credentials().setUserDisabled("acme_api", true).ok());
    EXPECT_EQ(reasonOf(email(emailKey_)), AuthFailureReason::UserDisabled);
    ASSERT_TRUE(operator_.credentials().setUserDisabled("acme_api", false).ok());
    EXPECT_TRUE(email(emailKey_).ok());
}

TEST_F(TwoProcessCacheTest, APolicyChangeElsewhereIsSeenOnTheNextCall) {
    warm(Api::Email);
    store::UserPolicy policy;
    policy.ipAllowlist = {"203.0.113.0/24"};
    policy.rateLimitPerMinute = 7;
    ASSERT_TRUE(operator_.credentials().updateUser(emailId_, policy, false).ok());
    auto r = email(emailKey_);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->policy.ipAllowlist, policy.ipAllowlist);
    EXPECT_EQ(r->policy.rateLimitPerMinute, 7);
}

TEST_F(TwoProcessCacheTest, ADeleteElsewhereIsSeenOnTheNextCall) {
    warm(Api::Email);
    ASSERT_TRUE(operator_.credentials().deleteUser(emailId_).ok());
    auto r = email(emailKey_);
    EXPECT_EQ(reasonOf(r), AuthFailureReason::Failed);
    EXPECT_EQ(r.error().logDetail, "unknown user");
}

TEST_F(TwoProcessCacheTest, AnEditThatBypassesTheVersionIsSeenAfterTheTtl) {
    warm(Api::Email);
    // What `sqlite3 sendcloud.db "UPDATE ..."` does: the row changes, the version does not.
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(dir_.file("sendcloud.db").c_str(), &raw), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(raw, "UPDATE api_users SET disabled = 1 WHERE name = 'acme_api'",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(raw);
    // The documented limit of such edits: the cached success stands until the TTL...
    EXPECT_TRUE(email(emailKey_).ok());
    clock_.advance(CredentialCacheOptions{}.ttl);
    // ...and not a moment longer.
    EXPECT_EQ(reasonOf(email(emailKey_)), AuthFailureReason::UserDisabled);
}

TEST_F(TwoProcessCacheTest, IoThreadsSeeAResetElsewhereOnTheirNextCall) {
    warm(Api::Sms);
    std::atomic<bool> resetReturned{false};
    std::atomic<int> acceptedAfterReset{0};
    std::atomic<int> calls{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 3; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 400; ++i) {
                // Read before the call starts: a call that starts after the reset returned
                // must refuse the old key.
                const bool after = resetReturned.load();
                const auto r = sms(smsKey_);
                ++calls;
                if (after && r.ok()) ++acceptedAfterReset;
                if (!after && !r.ok()) {
                    // Only the reset itself may have made it fail.
                    EXPECT_EQ(r.error().reason, AuthFailureReason::KeyExpired);
                }
            }
        });
    }
    while (calls.load() < 200) std::this_thread::yield();
    ASSERT_TRUE(issuer_.resetKey(smsId_, false).ok());
    resetReturned = true;
    for (auto& th : threads) th.join();
    EXPECT_EQ(acceptedAfterReset, 0);
    EXPECT_EQ(reasonOf(sms(smsKey_)), AuthFailureReason::KeyExpired);
}

TEST(CredentialVersionFileTest, WithoutAVersionFileNothingIsCachedAndEverythingStillWorks) {
    TempDir dir;
    // A directory where the file should be: it cannot be opened, so the store has no version.
    std::filesystem::create_directory(dir.file("sendcloud.db-credver"));
    store::SqliteBackend server(optionsFor(dir.file("sendcloud.db")));
    store::SqliteBackend other(optionsFor(dir.file("sendcloud.db")));
    EXPECT_FALSE(server.credentials().credentialVersion().has_value());

    testing::FakeClock clock;
    testing::FixedRandom random;
    const ServerSecret secret = testSecret();
    const KeyMaterial keys(secret);
    CredentialIssuer issuer(other.credentials(), keys, random, clock, std::chrono::minutes(15));
    ASSERT_TRUE(issuer.createAccount("owner@acme.io").ok());
    auto user = issuer.createUser("acme_sms", store::UserKind::Sms, "owner@acme.io");
    ASSERT_TRUE(user.ok());
    testing::CountingCredentialStore counted(server.credentials());
    const CredentialVerifier verifier(counted, keys, clock);
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(verifyWith(verifier, Api::Sms, "acme_sms", user->key).ok());
    }
    EXPECT_EQ(counted.lookups, 3);  // no version, no cache
    ASSERT_TRUE(issuer.resetKey(user->user.id, false).ok());
    auto old = verifyWith(verifier, Api::Sms, "acme_sms", user->key);
    ASSERT_FALSE(old.ok());
    EXPECT_EQ(old.error().reason, AuthFailureReason::KeyExpired);
}

TEST(CredentialVersionFileTest, AnExistingShortFileIsGrownAndUsed) {
    TempDir dir;
    {
        // An empty file, as a crash between create and resize would leave.
        FILE* f = std::fopen(dir.file("sendcloud.db-credver").c_str(), "w");
        ASSERT_NE(f, nullptr);
        std::fclose(f);
    }
    store::SqliteBackend a(optionsFor(dir.file("sendcloud.db")));
    store::SqliteBackend b(optionsFor(dir.file("sendcloud.db")));
    ASSERT_TRUE(a.credentials().credentialVersion().has_value());
    const uint64_t before = *a.credentials().credentialVersion();
    auto account = b.credentials().createAccount("owner@acme.io", 1);
    ASSERT_TRUE(account.ok());
    store::NewApiUser nu;
    nu.accountId = account->id;
    nu.name = "acme_api";
    nu.keyHash = std::string(32, 'h');
    nu.keyFingerprint = "01234567";
    ASSERT_TRUE(b.credentials().createUser(nu).ok());
    EXPECT_GT(*a.credentials().credentialVersion(), before);
}

}  // namespace
}  // namespace sc::auth
