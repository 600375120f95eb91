// The credential version file (`<db>-credver`) must never make a process fault on a full disk:
// its counter is stored through a shared mapping, and a store into a hole needs a block.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "store/sqlite/credential_version_file.h"
#include "unit/store/sqlite_test_support.h"

namespace sc::store::sqlite {
namespace {

using test_support::TempDir;

blkcnt_t blocksOf(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return -1;
    return st.st_blocks;
}

TEST(CredentialVersionFileAllocationTest, ANewFileHasItsCounterAllocated) {
    TempDir dir;
    const std::string db = dir.file("sendcloud.db");
    CredentialVersionFile version(db, {});
    ASSERT_TRUE(version.read().has_value());
    EXPECT_EQ(*version.read(), 0u);
    // A hole would be filled by the first bump(), and on a full disk that is a SIGBUS.
    EXPECT_GT(blocksOf(CredentialVersionFile::pathFor(db)), 0);
}

TEST(CredentialVersionFileAllocationTest, ASparseFileLeftByAnOlderVersionIsAllocated) {
    TempDir dir;
    const std::string db = dir.file("sendcloud.db");
    const std::string path = CredentialVersionFile::pathFor(db);
    {
        FILE* f = std::fopen(path.c_str(), "w");
        ASSERT_NE(f, nullptr);
        ASSERT_EQ(::ftruncate(::fileno(f), sizeof(uint64_t)), 0);
        std::fclose(f);
    }
    ASSERT_EQ(blocksOf(path), 0) << "this file system does not make holes; nothing to test";
    CredentialVersionFile version(db, {});
    EXPECT_GT(blocksOf(path), 0);
    version.bump();
    EXPECT_EQ(*version.read(), 1u);
}

TEST(CredentialVersionFileAllocationTest, AnAllocatedCounterKeepsItsValue) {
    TempDir dir;
    const std::string db = dir.file("sendcloud.db");
    {
        CredentialVersionFile first(db, {});
        first.bump();
        first.bump();
    }
    CredentialVersionFile again(db, {});
    EXPECT_EQ(*again.read(), 2u);
}

}  // namespace
}  // namespace sc::store::sqlite
