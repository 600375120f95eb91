// I/O errors and a full disk under the SQLite store, injected by a VFS that wraps the default one
// (docs/operations.md, "Disk full"): a write the file system refuses must be answered as
// Unavailable, never as a success, must leave nothing of the refused message behind, and must
// not leave the writer, the readers or the file broken once the file system answers again.
// tests/integration/test_disk_full.py does the same with a real full file system.

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "store/sqlite/sqlite_store.h"
#include "unit/store/sqlite_test_support.h"

namespace sc::store {
namespace {

using test_support::cat;
using test_support::enqueueAndWait;
using test_support::must;
using test_support::recipientId;
using test_support::TempDir;

// What the wrapped VFS answers instead of writing, truncating or syncing: SQLITE_OK to pass.
std::atomic<int> gWriteError{SQLITE_OK};
std::atomic<int> gSyncError{SQLITE_OK};
sqlite3_vfs* gReal = nullptr;
sqlite3_vfs gFaulty;
sqlite3_io_methods gMethods;

// The wrapped file lives right behind ours, in the space szOsFile asks SQLite for.
struct FaultyFile {
    sqlite3_file base;
};

sqlite3_file* realOf(sqlite3_file* f) {
    return reinterpret_cast<sqlite3_file*>(reinterpret_cast<FaultyFile*>(f) + 1);
}

int fClose(sqlite3_file* f) {
    return realOf(f)->pMethods->xClose(realOf(f));
}
int fRead(sqlite3_file* f, void* buf, int n, sqlite3_int64 off) {
    return realOf(f)->pMethods->xRead(realOf(f), buf, n, off);
}
int fWrite(sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
    if (const int e = gWriteError.load()) return e;
    return realOf(f)->pMethods->xWrite(realOf(f), buf, n, off);
}
int fTruncate(sqlite3_file* f, sqlite3_int64 size) {
    if (const int e = gWriteError.load()) return e;
    return realOf(f)->pMethods->xTruncate(realOf(f), size);
}
int fSync(sqlite3_file* f, int flags) {
    if (const int e = gSyncError.load()) return e;
    return realOf(f)->pMethods->xSync(realOf(f), flags);
}
int fFileSize(sqlite3_file* f, sqlite3_int64* size) {
    return realOf(f)->pMethods->xFileSize(realOf(f), size);
}
int fLock(sqlite3_file* f, int level) {
    return realOf(f)->pMethods->xLock(realOf(f), level);
}
int fUnlock(sqlite3_file* f, int level) {
    return realOf(f)->pMethods->xUnlock(realOf(f), level);
}
int fCheckReservedLock(sqlite3_file* f, int* out) {
    return realOf(f)->pMethods->xCheckReservedLock(realOf(f), out);
}
int fFileControl(sqlite3_file* f, int op, void* arg) {
    return realOf(f)->pMethods->xFileControl(realOf(f), op, arg);
}
int fSectorSize(sqlite3_file* f) {
    return realOf(f)->pMethods->xSectorSize(realOf(f));
}
int fDeviceCharacteristics(sqlite3_file* f) {
    return realOf(f)->pMethods->xDeviceCharacteristics(realOf(f));
}
int fShmMap(sqlite3_file* f, int page, int size, int extend, void volatile** out) {
    return realOf(f)->pMethods->xShmMap(realOf(f), page, size, extend, out);
}
int fShmLock(sqlite3_file* f, int offset, int n, int flags) {
    return realOf(f)->pMethods->xShmLock(realOf(f), offset, n, flags);
}
void fShmBarrier(sqlite3_file* f) {
    realOf(f)->pMethods->xShmBarrier(realOf(f));
}
int fShmUnmap(sqlite3_file* f, int deleteFlag) {
    return realOf(f)->pMethods->xShmUnmap(realOf(f), deleteFlag);
}
int fFetch(sqlite3_file* f, sqlite3_int64 off, int n, void** out) {
    return realOf(f)->pMethods->xFetch(realOf(f), off, n, out);
}
int fUnfetch(sqlite3_file* f, sqlite3_int64 off, void* p) {
    return realOf(f)->pMethods->xUnfetch(realOf(f), off, p);
}

int faultyOpen(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags, int* outFlags) {
    f->pMethods = nullptr;
    const int rc = gReal->xOpen(gReal, name, realOf(f), flags, outFlags);
    // SQLite closes a file whose pMethods is set even when the open failed.
    if (realOf(f)->pMethods != nullptr) f->pMethods = &gMethods;
    return rc;
}

// Makes the faulty VFS SQLite's default, for every connection the store opens.
void installFaultyVfs() {
    if (gReal != nullptr) return;
    gReal = sqlite3_vfs_find(nullptr);
    ASSERT_NE(gReal, nullptr);
    ASSERT_GE(gReal->iVersion, 1);
    gFaulty = *gReal;
    gFaulty.zName = "sc_faulty";
    gFaulty.pNext = nullptr;
    gFaulty.szOsFile = static_cast<int>(sizeof(FaultyFile)) + gReal->szOsFile;
    gFaulty.xOpen = faultyOpen;
    gMethods = sqlite3_io_methods{3,
                                  fClose,
                                  fRead,
                                  fWrite,
                                  fTruncate,
                                  fSync,
                                  fFileSize,
                                  fLock,
                                  fUnlock,
                                  fCheckReservedLock,
                                  fFileControl,
                                  fSectorSize,
                                  fDeviceCharacteristics,
                                  fShmMap,
                                  fShmLock,
                                  fShmBarrier,
                                  fShmUnmap,
                                  fFetch,
                                  fUnfetch};
    ASSERT_EQ(sqlite3_vfs_register(&gFaulty, /*makeDflt=*/1), SQLITE_OK);
}

// Two recipients and a large body, so that the transaction spills pages and writes more than
// the WAL header.
NewMessage makeLargeMessage(const std::string& id) {
    NewMessage m = test_support::makeMessage(id, 2);
    m.contentJson = cat(R"({"subject":"Hi","plain":")", std::string(20000, 'x'), R"("})");
    return m;
}

class SqliteIoErrorTest : public ::testing::Test {
protected:
    void SetUp() override {
        installFaultyVfs();
        gWriteError = SQLITE_OK;
        gSyncError = SQLITE_OK;
        open();
    }
    void TearDown() override {
        gWriteError = SQLITE_OK;
        gSyncError = SQLITE_OK;
        backend_.reset();
    }

    void open() {
        SqliteOptions o;
        o.path = dir_.file("sc.db");
        o.onError = [this](std::string_view e) { errors_.emplace_back(e); };
        backend_ = std::make_unique<SqliteBackend>(o);
    }

    bool stored(const std::string& messageId) {
        auto r = must(backend_->messages().findRecipient(recipientId(messageId, 0)));
        return r.has_value();
    }

    std::string integrity() {
        SQLite::Database raw(dir_.file("sc.db"), SQLite::OPEN_READONLY);
        return raw.execAndGet("PRAGMA integrity_check").getString();
    }

    // Refused while `error` is answered, then accepted again once the file system recovers.
    void refusedThenRecovers(std::atomic<int>& failure, int error) {
        ASSERT_TRUE(enqueueAndWait(backend_->messages(), makeLargeMessage("m1")).ok());
        failure = error;
        for (const char* id : {"m2", "m3"}) {
            auto r = enqueueAndWait(backend_->messages(), makeLargeMessage(id));
            ASSERT_FALSE(r.ok()) << id << " was acknowledged on a failing disk";
            EXPECT_EQ(r.error().kind, StoreError::Kind::Unavailable) << r.error().message;
        }
        failure = SQLITE_OK;
        // No restart: the same writer and readers go on.
        auto r = enqueueAndWait(backend_->messages(), makeLargeMessage("m4"));
        ASSERT_TRUE(r.ok()) << r.error().message;
        EXPECT_TRUE(backend_->messages().ping());
        EXPECT_TRUE(stored("m1"));
        EXPECT_FALSE(stored("m2"));
        EXPECT_FALSE(stored("m3"));
        EXPECT_TRUE(stored("m4"));
        EXPECT_EQ(integrity(), "ok");
        // And what a restart finds: the same.
        backend_.reset();
        open();
        EXPECT_TRUE(stored("m1"));
        EXPECT_FALSE(stored("m2"));
        EXPECT_FALSE(stored("m3"));
        EXPECT_TRUE(stored("m4"));
        EXPECT_EQ(integrity(), "ok");
    }

    TempDir dir_;
    std::vector<std::string> errors_;
    std::unique_ptr<SqliteBackend> backend_;
};

TEST_F(SqliteIoErrorTest, AFullDiskRefusesSendsAndTheStoreRecoversWhenSpaceReturns) {
    refusedThenRecovers(gWriteError, SQLITE_FULL);
}

TEST_F(SqliteIoErrorTest, WriteErrorsRefuseSendsAndTheStoreRecovers) {
    refusedThenRecovers(gWriteError, SQLITE_IOERR_WRITE);
}

TEST_F(SqliteIoErrorTest, FsyncErrorsRefuseSendsAndTheStoreRecovers) {
    refusedThenRecovers(gSyncError, SQLITE_IOERR_FSYNC);
}

}  // namespace
}  // namespace sc::store
