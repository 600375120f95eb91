#include "auth/credential_verifier.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "auth/credential_issuer.h"
#include "fakes/fake_clock.h"
#include "fakes/fixed_random.h"
#include "fakes/memory_credential_store.h"

namespace sc::auth {
namespace {

ServerSecret testSecret() {
    std::array<uint8_t, ServerSecret::kBytes> bytes{};
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 7 + 1);
    return ServerSecret::fromBytes(bytes);
}

class VerifierTest : public ::testing::Test {
protected:
    VerifierTest()
        : secret_(testSecret()),
          keys_(secret_),
          issuer_(store_, keys_, random_, clock_, std::chrono::minutes(15)),
          verifier_(store_, keys_, clock_) {
        EXPECT_TRUE(issuer_.createAccount("owner@acme.io").ok());
        auto email = issuer_.createUser("acme_api", store::UserKind::Email, "owner@acme.io");
        auto sms = issuer_.createUser("acme_sms", store::UserKind::Sms, "owner@acme.io");
        EXPECT_TRUE(email.ok() && sms.ok());
        emailKey_ = email->key;
        smsKey_ = sms->key;
    }

    Result<AuthContext, AuthFailure> verify(Api api, std::vector<http::Param> params,
                                            std::vector<http::Header> headers = {}) {
        http::ParamMap map;
        for (auto& p : params) map.add(p.name, p.value);
        http::Request req;
        req.headers = std::move(headers);
        return verifier_.verify(api, map, req);
    }

    static AuthFailureReason reasonOf(const Result<AuthContext, AuthFailure>& r) {
        EXPECT_FALSE(r.ok());
        return r.ok() ? AuthFailureReason::Failed : r.error().reason;
    }

    testing::FakeClock clock_;
    testing::FixedRandom random_;
    testing::MemoryCredentialStore store_;
    ServerSecret secret_;
    KeyMaterial keys_;
    CredentialIssuer issuer_;
    CredentialVerifier verifier_;
    std::string emailKey_, smsKey_;
};

TEST_F(VerifierTest, AcceptsTheRightKeyForEachApi) {
    auto e = verify(Api::Email, {{"apiUser", "acme_api"}, {"apiKey", emailKey_}});
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->userName, "acme_api");
    EXPECT_EQ(e->keyFingerprint.size(), 8u);
    auto s = verify(Api::Sms, {{"smsUser", "acme_sms"}, {"smsKey", smsKey_}});
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->kind, store::UserKind::Sms);
}

TEST_F(VerifierTest, HeadersNeverAuthenticate) {
    for (const char* h : {"authorization", "x-api-key", "x-api-user"}) {
        auto r = verify(Api::Email, {}, {{h, "acme_api:" + emailKey_}});
        EXPECT_EQ(reasonOf(r), AuthFailureReason::CredentialsInHeader) << h;
        EXPECT_NE(r.error().hint.find("request parameters"), std::string::npos);
        EXPECT_EQ(r.error().hint.find(emailKey_), std::string::npos);
    }
}

TEST_F(VerifierTest, OtherApisParameterNamesGetTheirOwnReason) {
    auto r = verify(Api::Email, {{"smsUser", "acme_api"}, {"smsKey", emailKey_}});
    EXPECT_EQ(reasonOf(r), AuthFailureReason::WrongParameterNames);
    EXPECT_NE(r.error().hint.find("apiUser and apiKey"), std::string::npos);
    auto s = verify(Api::Sms, {{"apiUser", "acme_sms"}, {"apiKey", smsKey_}});
    EXPECT_EQ(reasonOf(s), AuthFailureReason::WrongParameterNames);
    EXPECT_NE(s.error().hint.find("smsUser and smsKey"), std::string::npos);
}

TEST_F(VerifierTest, MissingCredentials) {
    EXPECT_EQ(reasonOf(verify(Api::Email, {})), AuthFailureReason::MissingCredentials);
    auto r = verify(Api::Email, {{"apiUser", "acme_api"}});
    EXPECT_EQ(reasonOf(r), AuthFailureReason::MissingCredentials);
    EXPECT_NE(r.error().hint.find("apiKey"), std::string::npos);
}

TEST_F(VerifierTest, WhitespaceIsRefusedNotTrimmed) {
    EXPECT_EQ(reasonOf(verify(Api::Email, {{"apiUser", "acme_api"}, {"apiKey", emailKey_ + " "}})),
              AuthFailureReason::Whitespace);
    EXPECT_EQ(reasonOf(verify(Api::Email, {{"apiUser", " acme_api"}, {"apiKey", emailKey_}})),
              AuthFailureReason::Whitespace);
    EXPECT_EQ(reasonOf(verify(Api::Email, {{"apiUser", "acme_api"}, {"apiKey", "\t" + emailKey_}})),
              AuthFailureReason::Whitespace);
}

TEST_F(VerifierTest, UnknownUserAndWrongKeyLookAlike) {
    auto unknown = verify(Api::Email, {{"apiUser", "nobody_here"}, {"apiKey", emailKey_}});
    auto wrong = verify(Api::Email, {{"apiUser", "acme_api"}, {"apiKey", smsKey_}});
    ASSERT_FALSE(unknown.ok());
    ASSERT_FALSE(wrong.ok());
    EXPECT_EQ(unknown.error().reason, AuthFailureReason::Failed);
    EXPECT_EQ(wrong.error().reason, AuthFailureReason::Failed);
    EXPECT_EQ(unknown.error().hint, wrong.error().hint);
    EXPECT_NE(unknown.error().logDetail, wrong.error().logDetail);  // the operator sees why
    // Both took the same path: one user lookup and one retired-key lookup each, in one read.
    EXPECT_EQ(store_.lookups, 2);
    EXPECT_EQ(store_.retiredLookups, 2);
    EXPECT_EQ(store_.reads, 2);
}

TEST_F(VerifierTest, EmailKeyIsRefusedOnTheSmsApi) {
    auto r = verify(Api::Sms, {{"smsUser", "acme_api"}, {"smsKey", emailKey_}});
    EXPECT_EQ(reasonOf(r), AuthFailureReason::Failed);
}

TEST_F(VerifierTest, DisabledUserIsForbiddenOnlyWithTheRightKey) {
    ASSERT_TRUE(store_.setUserDisabled("acme_api", true).ok());
    auto right = verify(Api::Email, {{"apiUser", "acme_api"}, {"apiKey", emailKey_}});
    EXPECT_EQ(reasonOf(right), AuthFailureReason::UserDisabled);
    EXPECT_EQ(httpStatus(right.error().reason), 403);
    auto wrong = verify(Api::Email, {{"apiUser", "acme_api"}, {"apiKey", smsKey_}});
    EXPECT_EQ(reasonOf(wrong), AuthFailureReason::Failed);
}

int64_t userIdOf(testing::MemoryCredentialStore& store, const std::string& name) {
    return store.findUser(name).value()->id;
}

TEST_F(VerifierTest, GraceEdges) {
    const std::string key1 = emailKey_;
    auto reset = issuer_.resetKey(userIdOf(store_, "acme_api"), false);
    ASSERT_TRUE(reset.ok());
    const std::string key2 = reset->key;
    const int64_t resetAt = clock_.nowMillis();

    auto fresh = verify(Api::Email, {{"apiUser", "acme_api"}, {"apiKey", key2}});
    ASSERT_TRUE(fresh.ok());  // the new key works at once
    EXPECT_FALSE(fresh->keySunsetAtMs.has_value());

    clock_.advance(std::chrono::minutes(14) + std::chrono::seconds(59));
    auto late = verify(Api::Email, {{"apiUser", "acme_api"}, {"apiKey", key1}});
    ASSERT_TRUE(late.ok());
    EXPECT_EQ(late->keySunsetAtMs.value_or(0), resetAt + 15 * 60 * 1000);

    clock_.advance(std::chrono::seconds(1));  // 15:00 exactly
    auto expired = verify(Api::Email, {{"apiUser", "acme_api"}, {"apiKey", key1}});
    EXPECT_EQ(reasonOf(expired), AuthFailureReason::KeyExpired);
    EXPECT_NE(expired.error().hint.find("was reset at"), std::string::npos);
    EXPECT_NE(expired.error().hint.find("grace period ended at"), std::string::npos);
    EXPECT_EQ(expired.error().hint.find(key1), std::string::npos);
    EXPECT_TRUE(verify(Api::Email, {{"apiUser", "acme_api"}, {"apiKey", key2}}).ok());
}

TEST_F(VerifierTest, ASecondResetEndsTheOlderKeyAtOnce) {
    const std::string key1 = emailKey_;
    const int64_t id = userIdOf(store_, "acme_api");
    const std::string key2 = issuer_.resetKey(id, false)->key;
    clock_.advance(std::chrono::minutes(5));
    const int64_t secondReset = clock_.nowMillis();
    const std::string key3 = issuer_.resetKey(id, false)->key;

    EXPECT_EQ(reasonOf(verify(Api::Email, {{"apiUser", "acme_api"}, {"apiKey", key1}})),
              AuthFailureReason::KeyExpired);
    auto k2 = verify(Api::Email, {{"apiUser", "acme_api"}, {"apiKey", key2}});
    ASSERT_TRUE(k2.ok());
    EXPECT_EQ(k2->keySunsetAtMs.value_or(0), secondReset + 15 * 60 * 1000);
    EXPECT_TRUE(verify(Api::Email, {{"apiUser", "acme_api"}, {"apiKey", key3}}).ok());
}

TEST_F(VerifierTest, RevokeOldEndsTheOldKeyAtOnce) {
    const std::string key1 = emailKey_;
    auto reset = issuer_.resetKey(userIdOf(store_, "acme_api"), true);
    ASSERT_TRUE(reset.ok());
    auto r = verify(Api::Email, {{"apiUser", "acme_api"}, {"apiKey", key1}});
    EXPECT_EQ(reasonOf(r), AuthFailureReason::KeyExpired);
    EXPECT_NE(r.error().hint.find("stopped working then"), std::string::npos);
}

TEST_F(VerifierTest, SmsResetEndsTheOldKeyAtOnce) {
    const std::string old = smsKey_;
    auto reset = issuer_.resetKey(userIdOf(store_, "acme_sms"), false);  // revokeOld not asked
    ASSERT_TRUE(reset.ok());
    EXPECT_EQ(reasonOf(verify(Api::Sms, {{"smsUser", "acme_sms"}, {"smsKey", old}})),
              AuthFailureReason::KeyExpired);
    EXPECT_TRUE(verify(Api::Sms, {{"smsUser", "acme_sms"}, {"smsKey", reset->key}}).ok());
    EXPECT_EQ(keys_.open(reset->user.keyCipher).value_or(""), reset->key);
}

TEST_F(VerifierTest, AStoreOutageIsNotAnAuthenticationFailure) {
    store_.failReads = true;
    auto r = verify(Api::Email, {{"apiUser", "acme_api"}, {"apiKey", emailKey_}});
    EXPECT_EQ(reasonOf(r), AuthFailureReason::StoreUnavailable);
    EXPECT_EQ(httpStatus(r.error().reason), 503);
}

// ---- the credential cache -----------------------------------------------------------------

TEST_F(VerifierTest, ASecondSuccessComesFromTheCacheWithoutAStoreRead) {
    auto first = verify(Api::Email, {{"apiUser", "acme_api"}, {"apiKey", emailKey_}});
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(store_.lookups, 1);
    for (int i = 0; i < 3; ++i) {
        auto again = verify(Api::Email, {{"apiUser", "acme_api"}, {"apiKey", emailKey_}});
        ASSERT_TRUE(again.ok());
        EXPECT_EQ(again->userName, first->userName);
        EXPECT_EQ(again->userId, first->userId);
        EXPECT_EQ(again->accountId, first->accountId);
        EXPECT_EQ(again->keyFingerprint, first->keyFingerprint);
        EXPECT_FALSE(again->keySunsetAtMs.has_value());
    }
    EXPECT_EQ(store_.lookups, 1);
    EXPECT_EQ(store_.reads, 1);  // the first success's; the hits read nothing
}

TEST_F(VerifierTest, FailuresNeverComeFromTheCache) {
    ASSERT_TRUE(verify(Api::Email, {{"apiUser", "acme_api"}, {"apiKey", emailKey_}}).ok());
    ASSERT_TRUE(verify(Api::Sms, {{"smsUser", "acme_sms"}, {"smsKey", smsKey_}}).ok());
    store_.lookups = 0;
    store_.retiredLookups = 0;
    store_.reads = 0;
    // Wrong key for a cached user, an unknown user, a cached user on the other API: each takes
    // the uncached path, one read of the user and its retired key, like before the cache.
    auto wrong = verify(Api::Email, {{"apiUser", "acme_api"}, {"apiKey", smsKey_}});
    auto unknown = verify(Api::Email, {{"apiUser", "nobody_here"}, {"apiKey", emailKey_}});
    auto otherApi = verify(Api::Sms, {{"smsUser", "acme_api"}, {"smsKey", emailKey_}});
    EXPECT_EQ(reasonOf(wrong), AuthFailureReason::Failed);
    EXPECT_EQ(reasonOf(unknown), AuthFailureReason::Failed);
    EXPECT_EQ(reasonOf(otherApi), AuthFailureReason::Failed);
    EXPECT_EQ(wrong.error().hint, unknown.error().hint);
    EXPECT_EQ(wrong.error().logDetail, "wrong key");
    EXPECT_EQ(unknown.error().logDetail, "unknown user");
    EXPECT_EQ(store_.lookups, 3);
    EXPECT_EQ(store_.retiredLookups, 3);
    EXPECT_EQ(store_.reads, 3);
}

TEST_F(VerifierTest, EveryFailureAndAFirstSuccessMakeExactlyOneStoreRead) {
    const std::string key1 = emailKey_;
    auto reset = issuer_.resetKey(userIdOf(store_, "acme_api"), true);  // key1 ends at once
    ASSERT_TRUE(reset.ok());
    ASSERT_TRUE(store_.setUserDisabled("acme_sms", true).ok());
    const std::vector<std::pair<std::string, std::vector<http::Param>>> cases = {
        {"unknown user", {{"apiUser", "nobody_here"}, {"apiKey", key1}}},
        {"wrong key", {{"apiUser", "acme_api"}, {"apiKey", smsKey_}}},
        {"retired key", {{"apiUser", "acme_api"}, {"apiKey", key1}}},
        {"other API's user", {{"apiUser", "acme_sms"}, {"apiKey", smsKey_}}},
        {"disabled", {{"smsUser", "acme_sms"}, {"smsKey", smsKey_}}},
        {"first success", {{"apiUser", "acme_api"}, {"apiKey", reset->key}}},
    };
    for (const auto& [what, params] : cases) {
        const int before = store_.reads;
        auto r = verify(params.front().name == "smsUser" ? Api::Sms : Api::Email, params);
        EXPECT_EQ(r.ok(), what == "first success") << what;
        EXPECT_EQ(store_.reads - before, 1) << what;
    }
}

// The in-memory fake answers findUserAndRetiredKey as SQLite does (tested there on the real
// store), so that verifier tests against it mean the same.
TEST_F(VerifierTest, TheFakeFindsAUserAndOnlyItsOwnRetiredKey) {
    const int64_t apiId = userIdOf(store_, "acme_api");
    const std::string apiHash = keys_.hash(emailKey_);
    ASSERT_TRUE(issuer_.resetKey(apiId, false).ok());

    auto mine = store_.findUserAndRetiredKey("acme_api", apiHash);
    ASSERT_TRUE(mine.ok());
    ASSERT_TRUE(mine->user.has_value());
    EXPECT_EQ(mine->user->id, apiId);
    ASSERT_TRUE(mine->retiredKey.has_value());
    EXPECT_EQ(mine->retiredKey->userId, apiId);
    EXPECT_EQ(mine->retiredKey->keyHash, apiHash);

    auto current = store_.findUserAndRetiredKey("acme_api", mine->user->keyHash);
    ASSERT_TRUE(current.ok());
    EXPECT_TRUE(current->user.has_value());
    EXPECT_FALSE(current->retiredKey.has_value());

    // acme_sms has no retired key, so acme_api's retired hash is not one of its keys.
    auto other = store_.findUserAndRetiredKey("acme_sms", apiHash);
    ASSERT_TRUE(other.ok());
    ASSERT_TRUE(other->user.has_value());
    EXPECT_EQ(other->user->name, "acme_sms");
    EXPECT_FALSE(other->retiredKey.has_value());

    auto unknown = store_.findUserAndRetiredKey("nobody_here", apiHash);
    ASSERT_TRUE(unknown.ok());
    EXPECT_FALSE(unknown->user.has_value());
    EXPECT_FALSE(unknown->retiredKey.has_value());

    store_.failReads = true;
    EXPECT_FALSE(store_.findUserAndRetiredKey("acme_api", apiHash).ok());
}

TEST_F(VerifierTest, AnSmsResetIsSeenByTheNextCall) {
    ASSERT_TRUE(verify(Api::Sms, {{"smsUser", "acme_sms"}, {"smsKey", smsKey_}}).ok());
    ASSERT_TRUE(verify(Api::Sms, {{"smsUser", "acme_sms"}, {"smsKey", smsKey_}}).ok());
    auto reset = issuer_.resetKey(userIdOf(store_, "acme_sms"), false);
    ASSERT_TRUE(reset.ok());
    EXPECT_EQ(reasonOf(verify(Api::Sms, {{"smsUser", "acme_sms"}, {"smsKey", smsKey_}})),
              AuthFailureReason::KeyExpired);
    EXPECT_TRUE(verify(Api::Sms, {{"smsUser", "acme_sms"}, {"smsKey", reset->key}}).ok());
}

TEST_F(VerifierTest, ADisableIsSeenByTheNextCall) {
    ASSERT_TRUE(verify(Api::Email, {{"apiUser", "acme_api"}, {"apiKey", emailKey_}}).ok());
    ASSERT_TRUE(store_.setUserDisabled("acme_api", true).ok());
    EXPECT_EQ(reasonOf(verify(Api::Email, {{"apiUser", "acme_api"}, {"apiKey", emailKey_}})),
              AuthFailureReason::UserDisabled);
}

TEST_F(VerifierTest, ADeleteIsSeenByTheNextCall) {
    ASSERT_TRUE(verify(Api::Email, {{"apiUser", "acme_api"}, {"apiKey", emailKey_}}).ok());
    ASSERT_TRUE(store_.deleteUser(userIdOf(store_, "acme_api")).ok());
    auto r = verify(Api::Email, {{"apiUser", "acme_api"}, {"apiKey", emailKey_}});
    EXPECT_EQ(reasonOf(r), AuthFailureReason::Failed);
    EXPECT_EQ(r.error().logDetail, "unknown user");
}

TEST_F(VerifierTest, APolicyChangeIsSeenByTheNextCall) {
    ASSERT_TRUE(verify(Api::Email, {{"apiUser", "acme_api"}, {"apiKey", emailKey_}}).ok());
    store::UserPolicy policy;
    policy.senderDomains = {"acme.io"};
    ASSERT_TRUE(store_.updateUser(userIdOf(store_, "acme_api"), policy, false).ok());
    auto r = verify(Api::Email, {{"apiUser", "acme_api"}, {"apiKey", emailKey_}});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->policy.senderDomains, policy.senderDomains);
}

TEST_F(VerifierTest, TheTtlBoundsAChangeThatDidNotMoveTheVersion) {
    ASSERT_TRUE(verify(Api::Email, {{"apiUser", "acme_api"}, {"apiKey", emailKey_}}).ok());
    store_.moveVersionOnWrite = false;  // an edit behind the store's back
    ASSERT_TRUE(store_.setUserDisabled("acme_api", true).ok());
    clock_.advance(CredentialCacheOptions{}.ttl - std::chrono::milliseconds(1));
    EXPECT_TRUE(verify(Api::Email, {{"apiUser", "acme_api"}, {"apiKey", emailKey_}}).ok());
    clock_.advance(std::chrono::milliseconds(1));
    EXPECT_EQ(reasonOf(verify(Api::Email, {{"apiUser", "acme_api"}, {"apiKey", emailKey_}})),
              AuthFailureReason::UserDisabled);
}

TEST_F(VerifierTest, AStoreWithoutAVersionGetsNoCaching) {
    store_.versioned = false;
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(verify(Api::Email, {{"apiUser", "acme_api"}, {"apiKey", emailKey_}}).ok());
    }
    EXPECT_EQ(store_.lookups, 3);
}

TEST_F(VerifierTest, AGraceKeyIsNeverAnsweredFromTheCache) {
    const std::string key1 = emailKey_;
    auto reset = issuer_.resetKey(userIdOf(store_, "acme_api"), false);
    ASSERT_TRUE(reset.ok());
    for (int i = 0; i < 2; ++i) {
        auto old = verify(Api::Email, {{"apiUser", "acme_api"}, {"apiKey", key1}});
        ASSERT_TRUE(old.ok());
        EXPECT_TRUE(old->keySunsetAtMs.has_value());  // the Sunset header needs the store
    }
    EXPECT_EQ(store_.retiredLookups, 2);
    ASSERT_TRUE(verify(Api::Email, {{"apiUser", "acme_api"}, {"apiKey", reset->key}}).ok());
    auto old = verify(Api::Email, {{"apiUser", "acme_api"}, {"apiKey", key1}});
    ASSERT_TRUE(old.ok());
    EXPECT_TRUE(old->keySunsetAtMs.has_value());
}

TEST_F(VerifierTest, CachingCanBeTurnedOff) {
    CredentialVerifier uncached(store_, keys_, clock_, CredentialCacheOptions{0, {}});
    http::ParamMap map;
    map.add("apiUser", "acme_api");
    map.add("apiKey", emailKey_);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(uncached.verify(Api::Email, map, {}).ok());
    EXPECT_EQ(store_.lookups, 3);
}

TEST_F(VerifierTest, ConcurrentCallersAgreeWithTheStore) {
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            http::ParamMap email, sms;
            email.add("apiUser", "acme_api");
            email.add("apiKey", emailKey_);
            sms.add("smsUser", "acme_sms");
            sms.add("smsKey", smsKey_);
            for (int i = 0; i < 500; ++i) {
                const bool useSms = (i + t) % 2 == 0;
                auto r = useSms ? verifier_.verify(Api::Sms, sms, {})
                                : verifier_.verify(Api::Email, email, {});
                if (!r.ok()) ++failures;
            }
        });
    }
    // Moves the version under the callers' feet: every caller must re-read, never fail.
    for (int i = 0; i < 50; ++i) {
        EXPECT_TRUE(store_.updateUser(userIdOf(store_, "acme_api"), {}, false).ok());
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures, 0);
    EXPECT_LT(store_.lookups, 4 * 500);  // most answers came from the cache
}

TEST(CredentialCacheTest, KeepsOnlyEntriesOfTheCurrentVersionAndAtMostMaxUsers) {
    testing::FakeClock clock;
    CredentialCache cache(clock, {2, std::chrono::seconds(5)});
    auto user = [](std::string name) {
        store::ApiUser u;
        u.name = std::move(name);
        return std::make_shared<const store::ApiUser>(std::move(u));
    };
    const auto tag = cache.tagOf("AbCdEfGhIjKlMnOpQrStUvWxYz012345");
    cache.insert(user("user_one"), tag, 7);
    EXPECT_NE(cache.find("user_one", 7, tag), nullptr);
    EXPECT_EQ(cache.find("user_one", 8, tag), nullptr);  // the version moved: a miss
    cache.insert(user("user_two"), tag, 6);              // read before a change the map reflects
    EXPECT_EQ(cache.find("user_two", 7, tag), nullptr);
    cache.insert(user("user_two"), tag, 7);
    cache.insert(user("user_three"), tag, 7);  // full: starts over rather than grow
    EXPECT_LE(cache.size(), 2u);
    EXPECT_NE(cache.find("user_three", 7, tag), nullptr);
    cache.insert(user("user_four"), tag, 9);  // a newer version drops everything older
    EXPECT_EQ(cache.size(), 1u);
    EXPECT_EQ(cache.find("user_three", 9, tag), nullptr);
    EXPECT_NE(cache.find("user_four", 9, tag), nullptr);
    clock.advance(std::chrono::seconds(5));
    EXPECT_EQ(cache.find("user_four", 9, tag), nullptr);
}

// An entry answers only for the key it was verified with: any other key, even one differing in
// a single character or only in length, is a miss (and then goes to the store).
TEST(CredentialCacheTest, AnswersOnlyForTheVerifiedKey) {
    testing::FakeClock clock;
    CredentialCache cache(clock, {});
    store::ApiUser u;
    u.name = "user_one";
    const std::string key = "AbCdEfGhIjKlMnOpQrStUvWxYz012345";
    cache.insert(std::make_shared<const store::ApiUser>(u), cache.tagOf(key), 1);
    EXPECT_NE(cache.find("user_one", 1, cache.tagOf(key)), nullptr);
    for (const std::string& other :
         {std::string("AbCdEfGhIjKlMnOpQrStUvWxYz012346"), key.substr(0, 31), key + "x",
          std::string(), std::string("user_one")}) {
        EXPECT_EQ(cache.find("user_one", 1, cache.tagOf(other)), nullptr) << other;
    }
    EXPECT_EQ(cache.find("user_two", 1, cache.tagOf(key)), nullptr);
    // Tags are keyed per cache: another cache's tag of the same key proves nothing here.
    CredentialCache other(clock, {});
    EXPECT_NE(other.tagOf(key), cache.tagOf(key));
}

TEST(KeyMaterialTest, HashIsHmacSha256UnderTheDerivedKey) {
    // Computed independently (Python's hmac over the BLAKE2b-derived subkey, and libsodium's
    // one-shot HMAC) for testSecret(): the stored hashes of existing keys must keep matching.
    const auto secret = testSecret();
    const KeyMaterial keys(secret);
    auto hex = [](std::string_view raw) {
        std::string out(raw.size() * 2 + 1, '\0');
        sodium_bin2hex(out.data(), out.size(), reinterpret_cast<const unsigned char*>(raw.data()),
                       raw.size());
        out.pop_back();
        return out;
    };
    EXPECT_EQ(hex(keys.hash("AbCdEfGhIjKlMnOpQrStUvWxYz012345")),
              "d4932d471d0a8128de7648dd84622117693ee5dc4d9ad49b61cb00feb2e20843");
    EXPECT_EQ(hex(keys.hash("")),
              "c08c1f231ef239c5d0ab7c0614515a19c5721073df821a666dbc48b3e6944408");
    EXPECT_EQ(hex(keys.hash(std::string(200, 'x'))),
              "bc114e1cee6161ec61093e3490fb196343992307dc42fdc4693be83cd8082928");
    const auto subkey = secret.deriveKey(1, "apikeyhm");
    for (const std::string& key : std::vector<std::string>{
             "", "k", "Q3tGdI67xSxedvC76zUs9q4nBqptUwuz", std::string(300, 'z')}) {
        std::string expected(crypto_auth_hmacsha256_BYTES, '\0');
        crypto_auth_hmacsha256(reinterpret_cast<unsigned char*>(expected.data()),
                               reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                               subkey.data());
        EXPECT_EQ(keys.hash(key), expected) << key.size();
        EXPECT_EQ(view(keys.hashBytes(key)), expected) << key.size();
    }
}

TEST(KeyMaterialTest, KeysAreLongAlphanumericAndDistinct) {
    testing::FixedRandom random;
    auto a = KeyMaterial::generateKey(random);
    auto b = KeyMaterial::generateKey(random);
    EXPECT_EQ(a.size(), kKeyLength);
    EXPECT_NE(a, b);
    for (char c : a) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << c;
}

TEST(KeyMaterialTest, HashDependsOnTheServerSecret) {
    std::array<uint8_t, ServerSecret::kBytes> one{}, two{};
    two[0] = 1;
    auto s1 = ServerSecret::fromBytes(one);
    auto s2 = ServerSecret::fromBytes(two);
    KeyMaterial k1(s1), k2(s2);
    EXPECT_EQ(k1.hash("key").size(), 32u);
    EXPECT_EQ(k1.hash("key"), k1.hash("key"));
    EXPECT_NE(k1.hash("key"), k2.hash("key"));
    EXPECT_TRUE(KeyMaterial::hashesEqual(k1.hash("key"), k1.hash("key")));
    EXPECT_FALSE(KeyMaterial::hashesEqual(k1.hash("key"), k1.hash("kez")));
    EXPECT_FALSE(KeyMaterial::hashesEqual("", ""));
}

TEST(KeyMaterialTest, SealedSmsKeysOpenOnlyUnderTheSameSecret) {
    std::array<uint8_t, ServerSecret::kBytes> one{}, two{};
    two[5] = 9;
    auto s1 = ServerSecret::fromBytes(one);
    auto s2 = ServerSecret::fromBytes(two);
    KeyMaterial k1(s1), k2(s2);
    testing::FixedRandom random;
    auto sealed = k1.seal("Q3tGdI67xSxedvC76zUs9q4nBqptUwuz", random);
    EXPECT_EQ(sealed.find("Q3tGdI67"), std::string::npos);
    EXPECT_EQ(k1.open(sealed).value_or(""), "Q3tGdI67xSxedvC76zUs9q4nBqptUwuz");
    EXPECT_FALSE(k2.open(sealed).has_value());
    sealed.back() ^= 1;
    EXPECT_FALSE(k1.open(sealed).has_value());
}

TEST(UserNameTest, FollowsTheNamingRule) {
    EXPECT_TRUE(isValidUserName("acme_api"));
    EXPECT_TRUE(isValidUserName("a12345"));
    EXPECT_FALSE(isValidUserName("a1234"));  // too short
    EXPECT_FALSE(isValidUserName("Acme_api"));
    EXPECT_FALSE(isValidUserName("1acme_api"));
    EXPECT_FALSE(isValidUserName("acme-api"));
    EXPECT_FALSE(isValidUserName(std::string(65, 'a')));
    EXPECT_TRUE(isValidUserName(std::string(64, 'a')));
}

TEST(IssuerTest, RefusesDuplicatesAndUnknownAccounts) {
    testing::FakeClock clock;
    testing::FixedRandom random;
    testing::MemoryCredentialStore store;
    auto secret = testSecret();
    KeyMaterial keys(secret);
    CredentialIssuer issuer(store, keys, random, clock, std::chrono::minutes(15));
    ASSERT_TRUE(issuer.createAccount("a@acme.io").ok());
    EXPECT_EQ(issuer.createAccount("a@acme.io").error().kind, IssueError::Kind::Exists);
    EXPECT_EQ(issuer.createAccount("not-an-email").error().kind, IssueError::Kind::InvalidEmail);
    EXPECT_EQ(issuer.createUser("acme_api", store::UserKind::Email, "b@acme.io").error().kind,
              IssueError::Kind::NoSuchAccount);
    auto u = issuer.createUser("acme_api", store::UserKind::Email, "a@acme.io");
    ASSERT_TRUE(u.ok());
    EXPECT_TRUE(u->user.keyCipher.empty());  // API_KEYs are never stored recoverably
    EXPECT_EQ(u->user.keyHash, keys.hash(u->key));
    EXPECT_EQ(issuer.createUser("acme_api", store::UserKind::Sms, "a@acme.io").error().kind,
              IssueError::Kind::Exists);
    auto s = issuer.createUser("acme_sms", store::UserKind::Sms, "a@acme.io");
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(keys.open(s->user.keyCipher).value_or(""), s->key);
}

}  // namespace
}  // namespace sc::auth
