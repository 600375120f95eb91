#include "auth/replay_cache.h"

#include <gtest/gtest.h>

#include "fakes/fake_clock.h"

namespace sc::auth {
namespace {

using Admit = SignatureReplayCache::Admit;

TEST(SignatureReplayCacheTest, ASignatureIsAdmittedOncePerUser) {
    sc::testing::FakeClock clock;
    SignatureReplayCache cache(clock);
    const int64_t expires = clock.nowMillis() + 60'000;
    EXPECT_EQ(cache.admit("acme_sms", "abc", expires), Admit::First);
    EXPECT_EQ(cache.admit("acme_sms", "abc", expires), Admit::Replay);
    EXPECT_EQ(cache.admit("acme_sms", "abd", expires), Admit::First);
    EXPECT_EQ(cache.admit("other_sms", "abc", expires), Admit::First);
    EXPECT_EQ(cache.size(), 3u);
}

TEST(SignatureReplayCacheTest, EntriesAreForgottenWhenTheirWindowEnds) {
    sc::testing::FakeClock clock;
    SignatureReplayCache cache(clock);
    EXPECT_EQ(cache.admit("acme_sms", "early", clock.nowMillis() + 1'000), Admit::First);
    EXPECT_EQ(cache.admit("acme_sms", "late", clock.nowMillis() + 120'000), Admit::First);
    clock.advance(std::chrono::milliseconds(999));
    EXPECT_EQ(cache.admit("acme_sms", "early", clock.nowMillis() + 1'000), Admit::Replay);
    clock.advance(std::chrono::milliseconds(1));
    // Pruned on the next call: only "late" and the new entry are held.
    EXPECT_EQ(cache.admit("acme_sms", "new", clock.nowMillis() + 1'000), Admit::First);
    EXPECT_EQ(cache.size(), 2u);
    EXPECT_EQ(cache.admit("acme_sms", "late", clock.nowMillis() + 1'000), Admit::Replay);
}

TEST(SignatureReplayCacheTest, AFullCacheRefusesRatherThanForgets) {
    sc::testing::FakeClock clock;
    SignatureReplayCache cache(clock, {3});
    for (const char* s : {"a", "b", "c"}) {
        EXPECT_EQ(cache.admit("u_sms1", s, clock.nowMillis() + 10'000), Admit::First);
    }
    EXPECT_EQ(cache.admit("u_sms1", "d", clock.nowMillis() + 10'000), Admit::Full);
    EXPECT_EQ(cache.admit("u_sms1", "a", clock.nowMillis() + 10'000), Admit::Replay);
    EXPECT_EQ(cache.size(), 3u);
    clock.advance(std::chrono::seconds(10));
    EXPECT_EQ(cache.admit("u_sms1", "d", clock.nowMillis() + 10'000), Admit::First);
    EXPECT_EQ(cache.size(), 1u);
}

}  // namespace
}  // namespace sc::auth
