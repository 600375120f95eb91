#include "common/random.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

namespace sc {
namespace {

// Draws of every size around the buffer's edges: a draw that does not fit what is left of the
// buffer must refill it rather than read past its end or hand out stale (wiped, zero) bytes.
TEST(SystemRandomTest, SmallDrawsAcrossRefillsAreFreshBytes) {
    SystemRandom random;
    std::set<std::string> seen;
    size_t allZero = 0;
    for (size_t round = 0; round < 200; ++round) {
        for (size_t len = 1; len <= SystemRandom::kMaxBufferedDraw; ++len) {
            std::string draw(len, '\0');
            random.fill(draw.data(), len);
            if (draw.find_first_not_of('\0') == std::string::npos) ++allZero;
            if (len >= 8) {
                EXPECT_TRUE(seen.insert(draw).second) << "a repeated " << len << "-byte draw";
            }
        }
    }
    // A wiped byte handed out again would be 0; a fresh byte is 0 once in 256. Eight zero
    // bytes in a row never happen by chance; single-byte draws may be 0 now and then.
    EXPECT_LT(allZero, 200u);
}

TEST(SystemRandomTest, LargeDrawsBypassTheBuffer) {
    SystemRandom random;
    std::string a(4096, '\0');
    std::string b(4096, '\0');
    random.fill(a.data(), a.size());
    random.fill(b.data(), b.size());
    EXPECT_NE(a, b);
    EXPECT_NE(a.find_first_not_of('\0'), std::string::npos);
}

// Each thread has a buffer of its own: two threads drawing at once never get the same bytes.
TEST(SystemRandomTest, ThreadsDrawDifferentBytes) {
    SystemRandom random;
    constexpr size_t kDraws = 2000;
    std::vector<uint64_t> first(kDraws);
    std::vector<uint64_t> second(kDraws);
    std::thread t1([&] {
        for (auto& v : first) v = random.next64();
    });
    std::thread t2([&] {
        for (auto& v : second) v = random.next64();
    });
    t1.join();
    t2.join();
    std::set<uint64_t> all(first.begin(), first.end());
    all.insert(second.begin(), second.end());
    EXPECT_EQ(all.size(), 2 * kDraws);
}

TEST(SystemRandomTest, AlphanumericKeysAreDistinct) {
    SystemRandom random;
    std::set<std::string> keys;
    for (int i = 0; i < 1000; ++i) {
        const std::string key = random.alphanumeric(32);
        ASSERT_EQ(key.size(), 32u);
        EXPECT_EQ(
            key.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
            std::string::npos);
        EXPECT_TRUE(keys.insert(key).second);
    }
}

}  // namespace
}  // namespace sc
