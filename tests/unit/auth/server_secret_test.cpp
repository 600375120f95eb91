#include "auth/server_secret.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "auth/key_material.h"
#include "fakes/fixed_random.h"

namespace sc::auth {
namespace {

class ServerSecretTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/sc-secret-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::string dir_;
};

TEST_F(ServerSecretTest, GeneratedOnceWithPrivateModeAndReloadedTheSame) {
    testing::FixedRandom r1(1), r2(2);
    std::string path = dir_ + "/server.secret";
    auto first = ServerSecret::loadOrCreate(path, r1);
    ASSERT_TRUE(first.ok()) << first.error();
    struct stat st {};
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    auto second = ServerSecret::loadOrCreate(path, r2);  // other randomness: must not matter
    ASSERT_TRUE(second.ok());
    KeyMaterial k1(first.value()), k2(second.value());
    EXPECT_EQ(k1.hash("abc"), k2.hash("abc"));
}

TEST_F(ServerSecretTest, AGarbledFileIsRefusedWithoutEchoingIt) {
    std::string path = dir_ + "/server.secret";
    std::ofstream(path) << "not-a-secret-value";
    testing::FixedRandom r;
    auto s = ServerSecret::loadOrCreate(path, r);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().find("not-a-secret-value"), std::string::npos);
}

}  // namespace
}  // namespace sc::auth
