// I/O errors and a full disk under the SQLite store, injected by a VFS that wraps the default one
// (docs/operations.md, "Disk full"): a write the file system refuses must be answered as
// Unavailable, never as a success, must leave nothing of the refused message behind, and must
// not leave the writer, the readers or the file broken once the file system answers again.
// tests/integration/test_disk_full.py does the same with a real full file system.

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "fakes/fake_clock.h"
#include "store/sqlite/full_disk_gate.h"
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
// The same for writes to the database file alone (not its WAL): what a checkpoint meets when the
// file cannot grow while the writers' commits still fit into the WAL.
std::atomic<int> gDatabaseWriteError{SQLITE_OK};
sqlite3_vfs* gReal = nullptr;
sqlite3_vfs gFaulty;
sqlite3_io_methods gMethods;

// The wrapped file lives right behind ours, in the space szOsFile asks SQLite for.
struct FaultyFile {
    sqlite3_file base;
    bool mainDatabase;
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
int databaseWriteError(sqlite3_file* f) {
    return reinterpret_cast<FaultyFile*>(f)->mainDatabase ? gDatabaseWriteError.load() : SQLITE_OK;
}
int fWrite(sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
    if (const int e = gWriteError.load()) return e;
    if (const int e = databaseWriteError(f)) return e;
    return realOf(f)->pMethods->xWrite(realOf(f), buf, n, off);
}
int fTruncate(sqlite3_file* f, sqlite3_int64 size) {
    if (const int e = gWriteError.load()) return e;
    if (const int e = databaseWriteError(f)) return e;
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
    reinterpret_cast<FaultyFile*>(f)->mainDatabase = (flags & SQLITE_OPEN_MAIN_DB) != 0;
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
        clearFaults();
        open();
    }
    void TearDown() override {
        clearFaults();
        backend_.reset();
    }
    static void clearFaults() {
        gWriteError = SQLITE_OK;
        gSyncError = SQLITE_OK;
        gDatabaseWriteError = SQLITE_OK;
    }

    void open() {
        SqliteOptions o;
        o.path = dir_.file("sc.db");
        o.onError = [this](std::string_view e) { errors_.emplace_back(e); };
        o.onNotice = [this](std::string_view e) { notices_.emplace_back(e); };
        o.clock = &clock_;
        backend_ = std::make_unique<SqliteBackend>(o);
    }

    // After a full disk, writers ask for the checkpoint that reopens the gate at most once per
    // interval (sqlite/full_disk_gate.h); the fake clock is what lets the next one ask.
    void letTheNextWriterAskForACheckpoint() {
        clock_.advance(sqlite::FullDiskGate::kDefaultRetryEvery);
    }

    int64_t walBytes() {
        return static_cast<int64_t>(std::filesystem::file_size(dir_.file("sc.db-wal")));
    }
    int64_t databaseBytes() {
        return static_cast<int64_t>(std::filesystem::file_size(dir_.file("sc.db")));
    }

    static bool mentions(const std::vector<std::string>& lines, std::string_view text) {
        for (const auto& l : lines) {
            if (l.find(text) != std::string::npos) return true;
        }
        return false;
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
        letTheNextWriterAskForACheckpoint();
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
    sc::testing::FakeClock clock_;
    std::vector<std::string> errors_;
    std::vector<std::string> notices_;
    std::unique_ptr<SqliteBackend> backend_;
};

TEST_F(SqliteIoErrorTest, AFullDiskRefusesSendsAndTheStoreRecoversWhenSpaceReturns) {
    refusedThenRecovers(gWriteError, SQLITE_FULL);
}

// The race that a real full disk lost (tests/integration/test_disk_full.py under CPU load): when
// space came back, the writers' commits took it for the WAL before the checkpoint could grow the
// database file into it, and the disk was full for good. After a full disk nothing writes until
// the WAL has been copied into the database file: not the intake, not the queue, not the other
// stores; the first writer due to ask for that checkpoint goes ahead once it has run.
TEST_F(SqliteIoErrorTest, AfterAFullDiskNoWriterTouchesTheFileUntilTheWalHasBeenCopied) {
    auto queue = backend_->openQueueStore();
    // Several commits in the WAL, so that a truncated WAL with one commit in it is shorter.
    for (const char* id : {"m1", "e1", "e2", "e3"}) {
        ASSERT_TRUE(enqueueAndWait(backend_->messages(), makeLargeMessage(id)).ok());
    }
    gWriteError = SQLITE_FULL;
    ASSERT_FALSE(enqueueAndWait(backend_->messages(), makeLargeMessage("m2")).ok());
    EXPECT_TRUE(backend_->writesHeldForFullDisk());
    EXPECT_TRUE(mentions(errors_, "the disk is full"));
    // The first writer after the closing asks for a checkpoint at once; it fails on this disk.
    ASSERT_FALSE(enqueueAndWait(backend_->messages(), makeLargeMessage("m3")).ok());

    gWriteError = SQLITE_OK;  // space is back, but no checkpoint is due yet
    const int64_t wal = walBytes();
    const int64_t database = databaseBytes();
    const uint64_t refusedBefore = backend_->writesRefusedForFullDisk();
    auto refused = enqueueAndWait(backend_->messages(), makeLargeMessage("m4"));
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().kind, StoreError::Kind::Unavailable);
    EXPECT_NE(refused.error().message.find("database or disk is full"), std::string::npos)
        << refused.error().message;
    ClaimRequest claim;
    claim.owner = "node-1";
    claim.nowMs = test_support::kCreatedAt + 1000;
    claim.leaseUntilMs = claim.nowMs + 60000;
    auto claimed = queue->claimDue(claim);
    ASSERT_FALSE(claimed.ok());
    EXPECT_EQ(claimed.error().kind, StoreError::Kind::Unavailable);
    auto account = backend_->credentials().createAccount("ops@example.com", claim.nowMs);
    ASSERT_FALSE(account.ok());
    EXPECT_EQ(account.error().kind, StoreError::Kind::Unavailable);
    EXPECT_EQ(backend_->writesRefusedForFullDisk(), refusedBefore + 3);
    EXPECT_EQ(walBytes(), wal);
    EXPECT_EQ(databaseBytes(), database);
    EXPECT_TRUE(notices_.empty());

    letTheNextWriterAskForACheckpoint();
    auto accepted = enqueueAndWait(backend_->messages(), makeLargeMessage("m5"));
    ASSERT_TRUE(accepted.ok()) << accepted.error().message;
    EXPECT_FALSE(backend_->writesHeldForFullDisk());
    EXPECT_TRUE(mentions(notices_, "writes resume"));
    // The checkpoint truncated the WAL: what it holds now is m5 alone.
    EXPECT_LT(walBytes(), wal);
    EXPECT_EQ(must(queue->claimDue(claim)).size(), 10u);  // two recipients each of 5 messages
    EXPECT_TRUE(must(backend_->credentials().createAccount("ops@example.com", claim.nowMs)).id > 0);
    for (const char* lost : {"m2", "m3", "m4"}) EXPECT_FALSE(stored(lost)) << lost;
    for (const char* kept : {"m1", "e1", "e2", "e3", "m5"}) EXPECT_TRUE(stored(kept)) << kept;
    EXPECT_EQ(integrity(), "ok");
}

// A checkpoint that cannot grow the database file closes the gate too, though the writers'
// commits still fit into the WAL: each of them would make the WAL longer, and it can only start
// again from its beginning once everything in it has been copied.
TEST_F(SqliteIoErrorTest, ACheckpointThatCannotGrowTheDatabaseFileStopsTheWriters) {
    gDatabaseWriteError = SQLITE_FULL;
    std::vector<std::string> acknowledged;
    std::optional<StoreError> refusal;
    // Enough messages for the WAL to pass the checkpoint threshold several times over.
    for (int i = 0; i < 3000 && !refusal; ++i) {
        const std::string id = cat("w", std::to_string(i));
        auto r = enqueueAndWait(backend_->messages(), makeLargeMessage(id));
        if (r.ok()) {
            acknowledged.push_back(id);
        } else {
            refusal = r.error();
        }
    }
    ASSERT_TRUE(refusal.has_value()) << "the writers went on past a failing checkpoint";
    EXPECT_EQ(refusal->kind, StoreError::Kind::Unavailable);
    EXPECT_TRUE(backend_->writesHeldForFullDisk());
    EXPECT_TRUE(mentions(errors_, "the disk is full"));
    const int64_t wal = walBytes();

    gDatabaseWriteError = SQLITE_OK;
    letTheNextWriterAskForACheckpoint();
    ASSERT_TRUE(enqueueAndWait(backend_->messages(), makeLargeMessage("after")).ok());
    EXPECT_FALSE(backend_->writesHeldForFullDisk());
    EXPECT_LT(walBytes(), wal / 10) << "the WAL was not truncated";
    for (const auto& id : acknowledged) ASSERT_TRUE(stored(id)) << id;
    EXPECT_TRUE(stored("after"));
    EXPECT_EQ(integrity(), "ok");
}

// A reader that keeps its snapshot (an operator's `sqlite3` shell inside a transaction) keeps the
// checkpoint from truncating the WAL, but not from copying it: once everything is in the
// database file, the writes go on.
TEST_F(SqliteIoErrorTest, AReaderOnTheWalDoesNotHoldWritesBackOnceEverythingIsCopied) {
    for (const char* id : {"m1", "e1"}) {
        ASSERT_TRUE(enqueueAndWait(backend_->messages(), makeLargeMessage(id)).ok());
    }
    SQLite::Database reader(dir_.file("sc.db"), SQLite::OPEN_READONLY);
    reader.exec("BEGIN");
    ASSERT_EQ(reader.execAndGet("SELECT count(*) FROM recipients").getInt(), 4);
    gWriteError = SQLITE_FULL;
    ASSERT_FALSE(enqueueAndWait(backend_->messages(), makeLargeMessage("m2")).ok());
    ASSERT_FALSE(enqueueAndWait(backend_->messages(), makeLargeMessage("m3")).ok());
    ASSERT_TRUE(backend_->writesHeldForFullDisk());

    gWriteError = SQLITE_OK;
    letTheNextWriterAskForACheckpoint();
    auto accepted = enqueueAndWait(backend_->messages(), makeLargeMessage("m4"));
    ASSERT_TRUE(accepted.ok()) << accepted.error().message;
    EXPECT_FALSE(backend_->writesHeldForFullDisk());
    // Still the reader's snapshot, and the WAL it reads was not cut from under it.
    EXPECT_EQ(reader.execAndGet("SELECT count(*) FROM recipients").getInt(), 4);
    reader.exec("COMMIT");
    EXPECT_TRUE(stored("m4"));
    EXPECT_FALSE(stored("m2"));
    EXPECT_EQ(integrity(), "ok");
}

TEST_F(SqliteIoErrorTest, WriteErrorsRefuseSendsAndTheStoreRecovers) {
    refusedThenRecovers(gWriteError, SQLITE_IOERR_WRITE);
}

TEST_F(SqliteIoErrorTest, FsyncErrorsRefuseSendsAndTheStoreRecovers) {
    refusedThenRecovers(gSyncError, SQLITE_IOERR_FSYNC);
}

}  // namespace
}  // namespace sc::store
