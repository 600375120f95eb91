#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "store/sqlite/connection.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/sqlite_message_store.h"
#include "store/sqlite/sqlite_store.h"
#include "unit/store/sqlite_test_support.h"

namespace sc::store {
namespace {

using namespace std::chrono_literals;

using test_support::cat;
using test_support::countRows;
using test_support::enqueueAndWait;
using test_support::kCreatedAt;
using test_support::makeMessage;
using test_support::must;
using test_support::recipientId;
using test_support::TempDir;

constexpr int64_t kHourMs = 3600 * 1000;

// A message that carries a SendCloud sendRequestId and the response its first acceptance gave.
NewMessage withRequest(NewMessage m, const std::string& requestId, const std::string& response,
                       int64_t createdAtMs = kCreatedAt) {
    m.sendRequestId = requestId;
    m.responseJson = response;
    m.createdAtMs = createdAtMs;
    return m;
}

// Collects enqueue outcomes by message id and lets the test wait for them.
class Outcomes {
public:
    MessageStore::EnqueueDone callback(const std::string& id) {
        return [this, id](Result<Ok, StoreError> r) {
            std::lock_guard lock(mutex_);
            if (r.ok()) {
                results_.emplace(id, std::nullopt);
            } else {
                results_.emplace(id, r.error());
            }
            ++count_;
            cv_.notify_all();
        };
    }

    // A deadline so that a broken store fails the test instead of hanging it.
    [[nodiscard]] bool waitFor(size_t n, std::chrono::milliseconds deadline = 120s) {
        std::unique_lock lock(mutex_);
        return cv_.wait_for(lock, deadline, [&] { return count_ >= n; });
    }

    size_t count() {
        std::lock_guard lock(mutex_);
        return count_;
    }
    size_t okCount() {
        std::lock_guard lock(mutex_);
        size_t n = 0;
        for (const auto& [id, err] : results_) n += err ? 0 : 1;
        return n;
    }
    // nullopt: succeeded; otherwise the error kind. Every queried id must have been answered.
    std::optional<StoreError::Kind> of(const std::string& id) {
        std::lock_guard lock(mutex_);
        auto it = results_.find(id);
        if (it == results_.end()) throw std::logic_error(cat("no outcome for ", id));
        if (!it->second) return std::nullopt;
        return it->second->kind;
    }
    // The error an enqueue failed with; every queried id must have failed.
    StoreError errorOf(const std::string& id) {
        std::lock_guard lock(mutex_);
        auto it = results_.find(id);
        if (it == results_.end() || !it->second) {
            throw std::logic_error(cat("no failure for ", id));
        }
        return *it->second;
    }
    std::vector<std::optional<StoreError::Kind>> allOf(const std::string& id) {
        std::lock_guard lock(mutex_);
        std::vector<std::optional<StoreError::Kind>> out;
        auto [b, e] = results_.equal_range(id);
        for (auto it = b; it != e; ++it) {
            out.push_back(it->second ? std::optional(it->second->kind) : std::nullopt);
        }
        return out;
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    size_t count_ = 0;
    std::multimap<std::string, std::optional<StoreError>> results_;
};

class SqliteMessageStoreTest : public ::testing::Test {
protected:
    void SetUp() override { open(); }

    void open(size_t maxBatch = 512) {
        backend_.reset();
        SqliteOptions o;
        o.path = path();
        o.maxBatch = maxBatch;
        backend_ = std::make_unique<SqliteBackend>(std::move(o));
    }
    std::string path() const { return dir_.file("sendcloud.db"); }
    MessageStore& store() { return backend_->messages(); }

    void enqueue(const std::string& id, int recipients = 3, bool testMode = false) {
        store().enqueue(makeMessage(id, recipients, testMode), outcomes_.callback(id));
    }

    TempDir dir_;
    Outcomes outcomes_;
    std::unique_ptr<SqliteBackend> backend_;
};

TEST_F(SqliteMessageStoreTest, EnqueueStoresMessageAttachmentsAndRecipients) {
    NewMessage m = makeMessage("m1", 3);
    m.attachments.push_back(
        Attachment{"a.bin", "application/octet-stream", std::string("\0\x01\x02\0\xff", 5)});
    m.attachments.push_back(Attachment{"b.txt", "text/plain", "hello"});
    store().enqueue(m, outcomes_.callback("m1"));
    ASSERT_TRUE(outcomes_.waitFor(1));
    EXPECT_FALSE(outcomes_.of("m1").has_value());

    auto r = store().findRecipient(recipientId("m1", 1)).value();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->id, recipientId("m1", 1));
    EXPECT_EQ(r->messageId, "m1");
    EXPECT_EQ(r->address, "user1@example.com");
    EXPECT_EQ(r->role, RecipientRole::Cc);
    EXPECT_EQ(r->state, RecipientState::Queued);
    EXPECT_EQ(r->createdAtMs, kCreatedAt);

    auto all = store().recipientsOf("m1").value();
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all[0].id, recipientId("m1", 0));
    EXPECT_EQ(all[1].id, recipientId("m1", 1));
    EXPECT_EQ(all[2].id, recipientId("m1", 2));
    EXPECT_EQ(all[2].role, RecipientRole::Bcc);

    SQLite::Database raw(path(), SQLite::OPEN_READONLY);
    SQLite::Statement msg(raw,
                          "SELECT kind, account_id, api_user_id, api_user_name, created_at_ms, "
                          "test_mode, content_json FROM messages WHERE id = 'm1'");
    ASSERT_TRUE(msg.executeStep());
    EXPECT_EQ(msg.getColumn(0).getString(), "email");
    EXPECT_EQ(msg.getColumn(1).getInt64(), 1);
    EXPECT_EQ(msg.getColumn(2).getInt64(), 2);
    EXPECT_EQ(msg.getColumn(3).getString(), "shop_trigger");
    EXPECT_EQ(msg.getColumn(4).getInt64(), kCreatedAt);
    EXPECT_EQ(msg.getColumn(5).getInt64(), 0);
    EXPECT_EQ(msg.getColumn(6).getString(), m.contentJson);

    SQLite::Statement att(raw,
                          "SELECT idx, filename, content_type, data FROM attachments "
                          "WHERE message_id = 'm1' ORDER BY idx");
    ASSERT_TRUE(att.executeStep());
    EXPECT_EQ(att.getColumn(0).getInt(), 0);
    EXPECT_EQ(att.getColumn(1).getString(), "a.bin");
    EXPECT_EQ(att.getColumn(2).getString(), "application/octet-stream");
    EXPECT_EQ(att.getColumn(3).getString(), m.attachments[0].data);
    ASSERT_TRUE(att.executeStep());
    EXPECT_EQ(att.getColumn(3).getString(), "hello");
    EXPECT_FALSE(att.executeStep());

    SQLite::Statement rcpt(raw,
                           "SELECT state, attempts, next_attempt_at_ms, updated_at_ms "
                           "FROM recipients WHERE id = 'm10$r'");
    ASSERT_TRUE(rcpt.executeStep());
    EXPECT_EQ(rcpt.getColumn(0).getString(), "queued");
    EXPECT_EQ(rcpt.getColumn(1).getInt64(), 0);
    // Due at once.
    EXPECT_EQ(rcpt.getColumn(2).getInt64(), kCreatedAt);
    EXPECT_EQ(rcpt.getColumn(3).getInt64(), kCreatedAt);
}

// Test mode is decided at delivery (the scheduler hands such messages to the sandbox agent), so
// the store queues them like any other and keeps the flag on the message.
TEST_F(SqliteMessageStoreTest, TestModeRecipientsAreQueuedWithTheFlagOnTheMessage) {
    enqueue("t1", 2, /*testMode=*/true);
    ASSERT_TRUE(outcomes_.waitFor(1));
    EXPECT_FALSE(outcomes_.of("t1").has_value());
    for (const auto& r : must(store().recipientsOf("t1")))
        EXPECT_EQ(r.state, RecipientState::Queued);

    SQLite::Database raw(path(), SQLite::OPEN_READONLY);
    EXPECT_EQ(raw.execAndGet("SELECT count(*) FROM recipients WHERE message_id = 't1' "
                             "AND next_attempt_at_ms IS NOT NULL")
                  .getInt(),
              2);
    EXPECT_EQ(raw.execAndGet("SELECT test_mode FROM messages WHERE id = 't1'").getInt(), 1);
}

TEST_F(SqliteMessageStoreTest, UnknownIdsFindNothing) {
    EXPECT_FALSE(store().findRecipient("nope").value().has_value());
    EXPECT_TRUE(store().recipientsOf("nope").value().empty());
}

TEST_F(SqliteMessageStoreTest, CallbackRunsOnStoreThreadAfterTheCommit) {
    std::promise<std::pair<bool, std::thread::id>> seen;
    store().enqueue(makeMessage("c1"), [&](Result<Ok, StoreError> r) {
        // A separate connection already sees the rows: the commit came before the callback.
        const bool visible = r.ok() && countRows(path(), "recipients") == 3;
        seen.set_value({visible, std::this_thread::get_id()});
    });
    auto f = seen.get_future();
    ASSERT_EQ(f.wait_for(120s), std::future_status::ready);
    auto [visible, thread] = f.get();
    EXPECT_TRUE(visible);
    EXPECT_NE(thread, std::this_thread::get_id());
}

TEST_F(SqliteMessageStoreTest, ConcurrentEnqueueFromManyThreadsAllCommit) {
    constexpr int kThreads = 16;
    constexpr int kPerThread = 200;
    constexpr size_t kTotal = kThreads * kPerThread;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([this, t] {
            for (int i = 0; i < kPerThread; ++i) {
                enqueue(cat("t", std::to_string(t), "-m", std::to_string(i)), 3);
            }
        });
    }
    for (auto& th : threads) th.join();
    ASSERT_TRUE(outcomes_.waitFor(kTotal));
    EXPECT_EQ(outcomes_.okCount(), kTotal);
    EXPECT_GE(backend_->commitCount(), 1u);
    EXPECT_LE(backend_->commitCount(), kTotal);

    // Durable: all there after the store is closed and opened again.
    backend_.reset();
    EXPECT_EQ(countRows(path(), "messages"), static_cast<int64_t>(kTotal));
    EXPECT_EQ(countRows(path(), "recipients"), static_cast<int64_t>(kTotal * 3));
    open();
    auto rs = store().recipientsOf("t15-m199").value();
    ASSERT_EQ(rs.size(), 3u);
    EXPECT_EQ(rs[2].id, recipientId("t15-m199", 2));
}

TEST_F(SqliteMessageStoreTest, QueuedMessagesShareCommitsUpToMaxBatch) {
    open(/*maxBatch=*/100);
    backend_->holdWriterForTest(true);
    constexpr int kThreads = 8;
    constexpr int kPerThread = 100;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([this, t] {
            for (int i = 0; i < kPerThread; ++i) {
                enqueue(cat("b", std::to_string(t), "-", std::to_string(i)), 1);
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(outcomes_.count(), 0u);  // held: nothing written yet
    EXPECT_EQ(backend_->commitCount(), 0u);

    backend_->holdWriterForTest(false);
    ASSERT_TRUE(outcomes_.waitFor(kThreads * kPerThread));
    EXPECT_EQ(outcomes_.okCount(), static_cast<size_t>(kThreads * kPerThread));
    // 800 messages, 100 per transaction.
    EXPECT_EQ(backend_->commitCount(), 8u);
    EXPECT_EQ(countRows(path(), "messages"), kThreads * kPerThread);
}

TEST_F(SqliteMessageStoreTest, DuplicateMessageIdConflictsWhileRestOfBatchCommits) {
    backend_->holdWriterForTest(true);
    enqueue("a", 2);
    enqueue("b", 2);
    // Same message id, different recipient ids: only the message key collides.
    NewMessage dup = makeMessage("a", 1);
    dup.recipients[0].id = recipientId("dup", 0);
    store().enqueue(std::move(dup), outcomes_.callback("a"));
    enqueue("c", 2);
    backend_->holdWriterForTest(false);
    ASSERT_TRUE(outcomes_.waitFor(4));

    EXPECT_EQ(backend_->commitCount(), 1u);
    const auto a = outcomes_.allOf("a");
    ASSERT_EQ(a.size(), 2u);
    // multimap keeps insertion order for equal keys: the first "a" won, the second lost.
    EXPECT_FALSE(a[0].has_value());
    EXPECT_EQ(a[1], StoreError::Kind::Conflict);
    EXPECT_FALSE(outcomes_.of("b").has_value());
    EXPECT_FALSE(outcomes_.of("c").has_value());

    EXPECT_EQ(store().recipientsOf("a").value().size(), 2u);
    EXPECT_FALSE(store().findRecipient(recipientId("dup", 0)).value().has_value());
    EXPECT_EQ(store().recipientsOf("b").value().size(), 2u);
    EXPECT_EQ(store().recipientsOf("c").value().size(), 2u);
    EXPECT_EQ(countRows(path(), "messages"), 3);
}

TEST_F(SqliteMessageStoreTest, DuplicateRecipientIdRollsBackTheWholeMessage) {
    enqueue("first", 1);
    ASSERT_TRUE(outcomes_.waitFor(1));

    // A new message whose second recipient collides with a committed one: its message row
    // and first recipient must not stay behind.
    NewMessage m = makeMessage("second", 2);
    m.recipients[1].id = recipientId("first", 0);
    m.attachments.push_back(Attachment{"x", "text/plain", "x"});
    store().enqueue(std::move(m), outcomes_.callback("second"));
    ASSERT_TRUE(outcomes_.waitFor(2));
    EXPECT_EQ(outcomes_.of("second"), StoreError::Kind::Conflict);
    EXPECT_TRUE(store().recipientsOf("second").value().empty());
    EXPECT_FALSE(store().findRecipient(recipientId("second", 0)).value().has_value());
    EXPECT_EQ(countRows(path(), "messages"), 1);
    EXPECT_EQ(countRows(path(), "attachments"), 0);
    EXPECT_EQ(store().findRecipient(recipientId("first", 0)).value()->messageId, "first");
}

TEST_F(SqliteMessageStoreTest, StopDrainsPendingWorkThenRefusesNewWork) {
    backend_->holdWriterForTest(true);
    for (int i = 0; i < 10; ++i) enqueue(cat("s", std::to_string(i)), 2);
    EXPECT_EQ(outcomes_.count(), 0u);

    store().stop();
    // Every accepted message was committed and answered before stop() returned.
    EXPECT_EQ(outcomes_.count(), 10u);
    EXPECT_EQ(outcomes_.okCount(), 10u);
    EXPECT_EQ(countRows(path(), "messages"), 10);

    bool answered = false;
    std::optional<StoreError::Kind> kind;
    store().enqueue(makeMessage("late"), [&](Result<Ok, StoreError> r) {
        answered = true;
        if (!r.ok()) kind = r.error().kind;
    });
    EXPECT_TRUE(answered);  // at once, on the caller's thread
    EXPECT_EQ(kind, StoreError::Kind::Unavailable);
    EXPECT_TRUE(store().recipientsOf("late").value().empty());

    // Reads still work, and stopping again is harmless.
    EXPECT_EQ(store().recipientsOf("s9").value().size(), 2u);
    EXPECT_TRUE(store().ping());
    store().stop();
}

TEST_F(SqliteMessageStoreTest, DestroyingTheBackendDrainsPendingWork) {
    backend_->holdWriterForTest(true);
    for (int i = 0; i < 5; ++i) enqueue(cat("d", std::to_string(i)), 1);
    backend_.reset();
    EXPECT_EQ(outcomes_.okCount(), 5u);
    EXPECT_EQ(countRows(path(), "messages"), 5);
}

TEST_F(SqliteMessageStoreTest, WaitsForAnotherProcessesWriteLockInsteadOfFailing) {
    SQLite::Database other(path(), SQLite::OPEN_READWRITE);
    other.exec("BEGIN IMMEDIATE");
    other.exec(
        "INSERT INTO messages (id, kind, account_id, api_user_id, api_user_name, created_at_ms, "
        "test_mode, content_json) VALUES ('op', 'sms', 1, 1, 'op', 1, 0, '{}')");

    enqueue("w1", 1);
    // Not a synchronisation sleep: a bounded check that nothing is committed while the lock is
    // held (whatever the timing), which also lets the writer reach its busy wait.
    EXPECT_FALSE(outcomes_.waitFor(1, 100ms));
    other.exec("COMMIT");

    ASSERT_TRUE(outcomes_.waitFor(1));
    EXPECT_FALSE(outcomes_.of("w1").has_value());
    EXPECT_EQ(countRows(path(), "messages"), 2);
}

TEST_F(SqliteMessageStoreTest, PerRecipientContentRoundTripsAndFallsBackToTheMessage) {
    NewMessage m = makeMessage("p1", 3);
    m.recipients[0].contentJson = R"({"subject":"Hi Ann"})";
    m.recipients[2].contentJson = R"({"subject":"Hi \u00c9va","html":"<p>\n</p>"})";
    ASSERT_TRUE(enqueueAndWait(store(), m).ok());

    auto all = store().recipientsOf("p1").value();
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all[0].contentJson, m.recipients[0].contentJson);
    EXPECT_EQ(all[1].contentJson, m.contentJson);  // none of its own
    EXPECT_EQ(all[2].contentJson, m.recipients[2].contentJson);
    EXPECT_EQ(store().findRecipient(recipientId("p1", 0)).value()->contentJson,
              m.recipients[0].contentJson);
    EXPECT_EQ(store().findRecipient(recipientId("p1", 1)).value()->contentJson, m.contentJson);

    // Stored once: no copy of the message's content for recipients without their own.
    SQLite::Database raw(path(), SQLite::OPEN_READONLY);
    EXPECT_EQ(raw.execAndGet("SELECT count(*) FROM recipients WHERE message_id = 'p1' "
                             "AND content_json IS NULL")
                  .getInt(),
              1);
    EXPECT_EQ(raw.execAndGet("SELECT typeof(content_json) FROM recipients WHERE id = 'p11$r'")
                  .getString(),
              "null");
}

TEST_F(SqliteMessageStoreTest, MessagesWithoutASendRequestIdRecordNone) {
    ASSERT_TRUE(enqueueAndWait(store(), makeMessage("n1")).ok());
    ASSERT_TRUE(enqueueAndWait(store(), makeMessage("n2")).ok());
    EXPECT_EQ(countRows(path(), "send_requests"), 0);
    EXPECT_EQ(countRows(path(), "messages"), 2);
}

TEST_F(SqliteMessageStoreTest, SameSendRequestIdTwiceIsADuplicateWithTheFirstResponse) {
    ASSERT_TRUE(
        enqueueAndWait(store(), withRequest(makeMessage("s1"), "req-1", R"({"first":1})")).ok());

    auto second = enqueueAndWait(
        store(), withRequest(makeMessage("s2"), "req-1", R"({"second":2})", kCreatedAt + 1000));
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.error().kind, StoreError::Kind::Duplicate);
    EXPECT_EQ(second.error().existingResponse, R"({"first":1})");

    // Nothing of the second request was queued, and the record still answers the first.
    EXPECT_TRUE(store().recipientsOf("s2").value().empty());
    EXPECT_EQ(countRows(path(), "messages"), 1);
    EXPECT_EQ(countRows(path(), "recipients"), 3);
    EXPECT_EQ(countRows(path(), "send_requests"), 1);
    EXPECT_EQ(must(store().findSendRequest(2, "req-1", kCreatedAt)), R"({"first":1})");
}

TEST_F(SqliteMessageStoreTest, SendRequestIdsAreScopedToTheUser) {
    NewMessage a = withRequest(makeMessage("u1"), "req-1", "a");
    NewMessage b = withRequest(makeMessage("u2"), "req-1", "b");
    b.apiUserId = 3;
    NewMessage c = withRequest(makeMessage("u3"), "req-2", "c");
    ASSERT_TRUE(enqueueAndWait(store(), a).ok());
    ASSERT_TRUE(enqueueAndWait(store(), b).ok());
    ASSERT_TRUE(enqueueAndWait(store(), c).ok());
    EXPECT_EQ(countRows(path(), "messages"), 3);
    EXPECT_EQ(must(store().findSendRequest(2, "req-1", 0)), "a");
    EXPECT_EQ(must(store().findSendRequest(3, "req-1", 0)), "b");
    EXPECT_EQ(must(store().findSendRequest(2, "req-2", 0)), "c");
    EXPECT_FALSE(must(store().findSendRequest(3, "req-2", 0)).has_value());
}

TEST_F(SqliteMessageStoreTest, SendRequestIdIsAcceptedAgainAfterAnHour) {
    ASSERT_TRUE(enqueueAndWait(store(), withRequest(makeMessage("h1"), "req", "first")).ok());

    // Exactly an hour later it still counts...
    auto edge = enqueueAndWait(store(),
                               withRequest(makeMessage("h2"), "req", "edge", kCreatedAt + kHourMs));
    ASSERT_FALSE(edge.ok());
    EXPECT_EQ(edge.error().kind, StoreError::Kind::Duplicate);
    EXPECT_EQ(edge.error().existingResponse, "first");

    // ...a millisecond after, it no longer does, and the new request takes the record over.
    const int64_t later = kCreatedAt + kHourMs + 1;
    ASSERT_TRUE(
        enqueueAndWait(store(), withRequest(makeMessage("h3"), "req", "third", later)).ok());
    EXPECT_EQ(store().recipientsOf("h3").value().size(), 3u);
    EXPECT_EQ(countRows(path(), "messages"), 2);
    EXPECT_EQ(countRows(path(), "send_requests"), 1);
    EXPECT_EQ(must(store().findSendRequest(2, "req", later)), "third");

    // And the window now runs from the new record.
    auto again =
        enqueueAndWait(store(), withRequest(makeMessage("h4"), "req", "fourth", later + 10));
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().existingResponse, "third");
}

TEST_F(SqliteMessageStoreTest, FindSendRequestAnswersOnlyRecordsSinceTheGivenTime) {
    ASSERT_TRUE(enqueueAndWait(store(), withRequest(makeMessage("f1"), "req", "resp")).ok());
    EXPECT_EQ(must(store().findSendRequest(2, "req", kCreatedAt - 1)), "resp");
    EXPECT_EQ(must(store().findSendRequest(2, "req", kCreatedAt)), "resp");  // inclusive
    EXPECT_FALSE(must(store().findSendRequest(2, "req", kCreatedAt + 1)).has_value());
    EXPECT_FALSE(must(store().findSendRequest(3, "req", 0)).has_value());
    EXPECT_FALSE(must(store().findSendRequest(2, "other", 0)).has_value());
    EXPECT_FALSE(must(store().findSendRequest(2, "", 0)).has_value());
}

// 20 clients retry the same request at once: exactly one is queued, and every other one is told
// what the winner was told. Run with one message per commit (every retry in its own batch) and
// with the default batch (retries sharing a commit, whatever the timing).
TEST_F(SqliteMessageStoreTest, ConcurrentEnqueuesOfOneSendRequestIdQueueExactlyOneMessage) {
    for (const size_t maxBatch : {size_t{1}, size_t{512}}) {
        SCOPED_TRACE(cat("maxBatch ", std::to_string(maxBatch)));
        TempDir dir;
        const std::string db = dir.file("concurrent.db");
        SqliteOptions o;
        o.path = db;
        o.maxBatch = maxBatch;
        SqliteBackend backend(std::move(o));
        Outcomes outcomes;

        constexpr int kThreads = 20;
        std::latch start(kThreads);
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&, t] {
                const std::string id = cat("c", std::to_string(t));
                NewMessage m = withRequest(makeMessage(id), "same", cat("resp-", id));
                start.arrive_and_wait();
                backend.messages().enqueue(std::move(m), outcomes.callback(id));
            });
        }
        for (auto& th : threads) th.join();
        ASSERT_TRUE(outcomes.waitFor(kThreads));

        EXPECT_EQ(outcomes.okCount(), 1u);
        std::string winner;
        for (int t = 0; t < kThreads; ++t) {
            const std::string id = cat("c", std::to_string(t));
            if (!outcomes.of(id).has_value()) winner = id;
        }
        ASSERT_FALSE(winner.empty());
        for (int t = 0; t < kThreads; ++t) {
            const std::string id = cat("c", std::to_string(t));
            if (id == winner) continue;
            const StoreError e = outcomes.errorOf(id);
            EXPECT_EQ(e.kind, StoreError::Kind::Duplicate) << id;
            EXPECT_EQ(e.existingResponse, cat("resp-", winner)) << id;
        }
        EXPECT_EQ(countRows(db, "messages"), 1);
        EXPECT_EQ(countRows(db, "recipients"), 3);
        EXPECT_EQ(backend.messages().recipientsOf(winner).value().size(), 3u);
        EXPECT_EQ(must(backend.messages().findSendRequest(2, "same", 0)), cat("resp-", winner));
    }
}

TEST_F(SqliteMessageStoreTest, SameSendRequestIdTwiceInOneBatchTheEarlierWins) {
    backend_->holdWriterForTest(true);
    store().enqueue(withRequest(makeMessage("b1"), "req", "first"), outcomes_.callback("b1"));
    store().enqueue(withRequest(makeMessage("b2"), "other", "other"), outcomes_.callback("b2"));
    store().enqueue(withRequest(makeMessage("b3"), "req", "third"), outcomes_.callback("b3"));
    enqueue("b4");
    backend_->holdWriterForTest(false);
    ASSERT_TRUE(outcomes_.waitFor(4));

    EXPECT_EQ(backend_->commitCount(), 1u);
    EXPECT_FALSE(outcomes_.of("b1").has_value());
    EXPECT_FALSE(outcomes_.of("b2").has_value());
    EXPECT_FALSE(outcomes_.of("b4").has_value());
    const StoreError dup = outcomes_.errorOf("b3");
    EXPECT_EQ(dup.kind, StoreError::Kind::Duplicate);
    EXPECT_EQ(dup.existingResponse, "first");
    EXPECT_TRUE(store().recipientsOf("b3").value().empty());
    EXPECT_EQ(countRows(path(), "messages"), 3);
    EXPECT_EQ(must(store().findSendRequest(2, "req", 0)), "first");
}

TEST_F(SqliteMessageStoreTest, ARefusedMessageDoesNotClaimItsSendRequestId) {
    ASSERT_TRUE(enqueueAndWait(store(), makeMessage("taken")).ok());

    // The message id collides, so the message is refused: its request id must stay free, or
    // the client's corrected retry would be answered "duplicate" with nothing queued.
    NewMessage clash = withRequest(makeMessage("taken"), "req", "clash");
    clash.recipients = {
        test_support::recipient(recipientId("clash", 0), "a@example.com", RecipientRole::To)};
    auto refused = enqueueAndWait(store(), clash);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().kind, StoreError::Kind::Conflict);
    EXPECT_EQ(countRows(path(), "send_requests"), 0);

    ASSERT_TRUE(enqueueAndWait(store(), withRequest(makeMessage("retry"), "req", "retry")).ok());
    EXPECT_EQ(must(store().findSendRequest(2, "req", 0)), "retry");
}

TEST_F(SqliteMessageStoreTest, AFailedBatchReportsNoDuplicateOfItsOwnMessages) {
    {
        // RAISE(ROLLBACK) ends the whole transaction, as a full disk or an I/O error would.
        SQLite::Database raw(path(), SQLite::OPEN_READWRITE);
        raw.exec(
            "CREATE TRIGGER fail_batch BEFORE INSERT ON messages WHEN NEW.id = 'boom' "
            "BEGIN SELECT RAISE(ROLLBACK, 'injected failure'); END");
    }
    backend_->holdWriterForTest(true);
    store().enqueue(withRequest(makeMessage("x1"), "req", "first"), outcomes_.callback("x1"));
    store().enqueue(withRequest(makeMessage("x2"), "req", "second"), outcomes_.callback("x2"));
    enqueue("boom");
    backend_->holdWriterForTest(false);
    ASSERT_TRUE(outcomes_.waitFor(3));

    // x2 saw x1's record, but x1 was never committed: x2 must not be told "already accepted".
    ASSERT_TRUE(outcomes_.of("x1").has_value());
    ASSERT_TRUE(outcomes_.of("x2").has_value());
    EXPECT_NE(outcomes_.of("x2"), StoreError::Kind::Duplicate);
    EXPECT_EQ(outcomes_.of("x2"), outcomes_.of("x1"));
    EXPECT_EQ(outcomes_.errorOf("x2").existingResponse, "");
    EXPECT_EQ(countRows(path(), "messages"), 0);
    EXPECT_EQ(countRows(path(), "send_requests"), 0);

    // The client's retry goes through.
    ASSERT_TRUE(enqueueAndWait(store(), withRequest(makeMessage("x3"), "req", "retry")).ok());
}

sqlite::SqliteMessageStore& sqliteStore(SqliteBackend& backend) {
    return dynamic_cast<sqlite::SqliteMessageStore&>(backend.messages());
}

TEST_F(SqliteMessageStoreTest, AGoodBatchWithADuplicateRequestIdCommitsWithoutSavepoints) {
    backend_->holdWriterForTest(true);
    store().enqueue(withRequest(makeMessage("g1"), "req", "first"), outcomes_.callback("g1"));
    enqueue("g2");
    store().enqueue(withRequest(makeMessage("g3"), "req", "third"), outcomes_.callback("g3"));
    backend_->holdWriterForTest(false);
    ASSERT_TRUE(outcomes_.waitFor(3));

    // A refused sendRequestId writes nothing, so it needs no savepoint to be undone.
    EXPECT_EQ(sqliteStore(*backend_).savepointFallbackCount(), 0u);
    EXPECT_EQ(backend_->commitCount(), 1u);
    EXPECT_FALSE(outcomes_.of("g1").has_value());
    EXPECT_FALSE(outcomes_.of("g2").has_value());
    EXPECT_EQ(outcomes_.errorOf("g3").existingResponse, "first");
    EXPECT_EQ(countRows(path(), "messages"), 2);
    EXPECT_EQ(countRows(path(), "send_requests"), 1);
}

TEST_F(SqliteMessageStoreTest, OneBadMessageInABatchIsRefusedAloneAndLeavesNoRequestRecord) {
    ASSERT_TRUE(enqueueAndWait(store(), makeMessage("taken", 1)).ok());
    const size_t commitsBefore = backend_->commitCount();

    backend_->holdWriterForTest(true);
    store().enqueue(withRequest(makeMessage("k1"), "req-1", "one"), outcomes_.callback("k1"));
    store().enqueue(withRequest(makeMessage("k2"), "req-2", "two"), outcomes_.callback("k2"));
    // Its message id collides with the committed one; its request id is new.
    NewMessage clash = withRequest(makeMessage("taken", 1), "req-clash", "clash");
    clash.recipients[0].id = recipientId("clash", 0);
    store().enqueue(std::move(clash), outcomes_.callback("clash"));
    // The same request id as k1, after the failure: still the earlier one's duplicate.
    store().enqueue(withRequest(makeMessage("k3"), "req-1", "three"), outcomes_.callback("k3"));
    enqueue("k4");
    backend_->holdWriterForTest(false);
    ASSERT_TRUE(outcomes_.waitFor(5));

    EXPECT_EQ(sqliteStore(*backend_).savepointFallbackCount(), 1u);
    EXPECT_EQ(backend_->commitCount(), commitsBefore + 1);
    EXPECT_FALSE(outcomes_.of("k1").has_value());
    EXPECT_FALSE(outcomes_.of("k2").has_value());
    EXPECT_FALSE(outcomes_.of("k4").has_value());
    EXPECT_EQ(outcomes_.of("clash"), StoreError::Kind::Conflict);
    EXPECT_EQ(outcomes_.of("k3"), StoreError::Kind::Duplicate);
    EXPECT_EQ(outcomes_.errorOf("k3").existingResponse, "one");

    EXPECT_EQ(countRows(path(), "messages"), 4);  // taken, k1, k2, k4
    EXPECT_EQ(store().recipientsOf("k1").value().size(), 3u);
    EXPECT_EQ(store().recipientsOf("k4").value().size(), 3u);
    EXPECT_FALSE(store().findRecipient(recipientId("clash", 0)).value().has_value());
    EXPECT_TRUE(store().recipientsOf("k3").value().empty());
    EXPECT_FALSE(must(store().findSendRequest(2, "req-clash", 0)).has_value());
    EXPECT_EQ(must(store().findSendRequest(2, "req-1", 0)), "one");
    EXPECT_EQ(must(store().findSendRequest(2, "req-2", 0)), "two");
    EXPECT_EQ(countRows(path(), "send_requests"), 2);
}

TEST_F(SqliteMessageStoreTest, ALoneFailingMessageIsRefusedWithoutASecondAttempt) {
    ASSERT_TRUE(enqueueAndWait(store(), makeMessage("taken", 1)).ok());
    NewMessage clash = withRequest(makeMessage("taken", 1), "req", "clash");
    clash.recipients[0].id = recipientId("clash", 0);
    auto refused = enqueueAndWait(store(), clash);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().kind, StoreError::Kind::Conflict);
    // Rolling the transaction back already undid exactly that one message.
    EXPECT_EQ(sqliteStore(*backend_).savepointFallbackCount(), 0u);
    EXPECT_EQ(countRows(path(), "send_requests"), 0);
    EXPECT_EQ(countRows(path(), "recipients"), 1);
}

// A message store of its own, on a migrated file of its own, with a given checkpoint policy.
class DirectStore {
public:
    DirectStore(const std::string& path, sqlite::CheckpointPolicy policy) : pool_(path, 5000, 4) {
        {
            sqlite::Connection c(path, 5000);
            sqlite::migrate(c);
        }
        store_ = std::make_unique<sqlite::SqliteMessageStore>(
            path, 5000, 512, pool_,
            [this](std::string_view e) {
                std::lock_guard lock(mutex_);
                errors_.emplace_back(e);
            },
            policy);
    }
    ~DirectStore() { store_.reset(); }

    sqlite::SqliteMessageStore& operator*() { return *store_; }
    sqlite::SqliteMessageStore* operator->() { return store_.get(); }
    std::vector<std::string> errors() {
        std::lock_guard lock(mutex_);
        return errors_;
    }

    // Commits one message at a time until the writer's last commit left at least `frames`
    // frames in the WAL (a bounded number of messages, so that a WAL that never gets there
    // fails the test instead of hanging it).
    void writeUntilWalHas(int frames, const std::string& prefix) {
        for (int n = 0; store_->walFrames() < frames; ++n) {
            if (n == kMaxMessages)
                throw std::runtime_error(cat("WAL never reached ", std::to_string(frames)));
            write(cat(prefix, std::to_string(n)));
        }
    }

    // Commits one message at a time, each followed by whatever checkpoint it asked for, until
    // the checkpointer has run once more.
    void writeUntilCheckpointed(const std::string& prefix) {
        const size_t before = store_->checkpointCount();
        for (int n = 0; store_->checkpointCount() == before; ++n) {
            if (n == kMaxMessages) throw std::runtime_error("no checkpoint");
            write(cat(prefix, std::to_string(n)));
            if (!store_->waitForCheckpointerForTest(120s)) throw std::runtime_error("stuck");
        }
    }

    void write(const std::string& id) {
        const auto r = enqueueAndWait(*store_, makeMessage(id, 1));
        if (!r.ok()) throw std::runtime_error(r.error().message);
    }

private:
    static constexpr int kMaxMessages = 5000;
    sqlite::ConnectionPool pool_;
    std::unique_ptr<sqlite::SqliteMessageStore> store_;
    std::mutex mutex_;
    std::vector<std::string> errors_;
};

TEST_F(SqliteMessageStoreTest, TheWriterNeverCheckpointsOnItsOwn) {
    // No checkpointer either: SQLite's auto-checkpoint would have restarted the WAL at 1000.
    sqlite::CheckpointPolicy never;
    never.passiveFrames = 1 << 30;
    never.restartFrames = 1 << 30;
    DirectStore store(dir_.file("direct.db"), never);
    store.writeUntilWalHas(1100, "w");
    EXPECT_EQ(store->checkpointCount(), 0u);
    EXPECT_TRUE(store.errors().empty());
}

// Another connection's commits, handed to the store (the delivery queue's, as SqliteBackend
// does), are counted and checkpointed as the writer's are, and never checkpoint on their own.
TEST_F(SqliteMessageStoreTest, AConnectionHandedToTheCheckpointerNeverCheckpointsOnItsOwn) {
    sqlite::CheckpointPolicy never;
    never.passiveFrames = 1 << 30;
    never.restartFrames = 1 << 30;
    const std::string db = dir_.file("direct.db");
    DirectStore store(db, never);
    sqlite::Connection other(db, 5000);
    store->checkpointCommitsOf(other);
    other.exec("CREATE TABLE scratch (data BLOB NOT NULL)");
    // A page-sized row per commit: SQLite's auto-checkpoint would have restarted the WAL at
    // 1000 frames.
    for (int n = 0; store->walFrames() < 1100; ++n) {
        ASSERT_LT(n, 5000) << "the WAL never reached 1100 frames: " << store->walFrames();
        other.exec("INSERT INTO scratch (data) VALUES (zeroblob(4000))");
    }
    EXPECT_EQ(store->checkpointCount(), 0u);
    EXPECT_TRUE(store.errors().empty());
}

TEST_F(SqliteMessageStoreTest, AHandedOverConnectionsCommitsWakeTheCheckpointer) {
    sqlite::CheckpointPolicy small;
    small.passiveFrames = 30;
    const std::string db = dir_.file("direct.db");
    DirectStore store(db, small);
    sqlite::Connection other(db, 5000);
    store->checkpointCommitsOf(other);
    other.exec("CREATE TABLE scratch (data BLOB NOT NULL)");
    for (int n = 0; store->checkpointCount() == 0; ++n) {
        ASSERT_LT(n, 5000) << "no checkpoint";
        other.exec("INSERT INTO scratch (data) VALUES (zeroblob(4000))");
        ASSERT_TRUE(store->waitForCheckpointerForTest(120s));
    }
    EXPECT_EQ(store->restartCheckpointCount(), 0u);
    EXPECT_TRUE(store.errors().empty());
}

// The backend's queue store is opened with its connections handed over: a queue write alone
// moves the message store's count of WAL frames.
TEST_F(SqliteMessageStoreTest, TheBackendsQueueStoreCommitsThroughTheCheckpointer) {
    ASSERT_TRUE(enqueueAndWait(store(), makeMessage("m1", 300)).ok());
    const int afterIntake = sqliteStore(*backend_).walFrames();
    ASSERT_GT(afterIntake, 0);
    auto queue = backend_->openQueueStore();
    ClaimRequest req;
    req.owner = "node-a";
    req.nowMs = 1'000'000'000'000'000;
    req.limit = 300;
    auto claimed = queue->claimDue(req);
    ASSERT_TRUE(claimed.ok());
    ASSERT_EQ(claimed.value().size(), 300u);
    EXPECT_GT(sqliteStore(*backend_).walFrames(), afterIntake);
}

TEST_F(SqliteMessageStoreTest, TheCheckpointerCopiesTheWalSoTheNextCommitRestartsIt) {
    sqlite::CheckpointPolicy small;
    small.passiveFrames = 30;
    DirectStore store(dir_.file("direct.db"), small);
    store.writeUntilWalHas(30, "c");
    ASSERT_TRUE(store->waitForCheckpointerForTest(120s));
    EXPECT_GE(store->checkpointCount(), 1u);
    EXPECT_EQ(store->restartCheckpointCount(), 0u);

    // Every frame is in the database file now and no reader holds an old snapshot: the next
    // commit starts the WAL from its beginning.
    const int before = store->walFrames();
    ASSERT_TRUE(enqueueAndWait(*store, makeMessage("after", 1)).ok());
    EXPECT_LT(store->walFrames(), before);
    EXPECT_LT(store->walFrames(), small.passiveFrames);
    EXPECT_TRUE(store.errors().empty());
}

TEST_F(SqliteMessageStoreTest, AStarvedCheckpointTriesRestartAndTheWalRecoversOnceReadersLetGo) {
    sqlite::CheckpointPolicy small;
    small.passiveFrames = 40;
    small.restartFrames = 120;
    const std::string db = dir_.file("direct.db");
    DirectStore store(db, small);
    store.write("first");

    // A reader in the middle of a transaction keeps the frames after its snapshot in the WAL:
    // no checkpoint may copy them.
    SQLite::Database reader(db, SQLite::OPEN_READONLY);
    reader.exec("BEGIN");
    EXPECT_EQ(reader.execAndGet("SELECT count(*) FROM messages").getInt(), 1);
    store.writeUntilWalHas(small.restartFrames, "s");
    ASSERT_TRUE(store->waitForCheckpointerForTest(120s));
    // Whatever it asks for from here on is past restartFrames.
    store.writeUntilCheckpointed("r");
    EXPECT_EQ(store->restartCheckpointCount(), 1u);
    const size_t restarts = store->restartCheckpointCount();
    // Backed off: the next checkpoint is a PASSIVE one, which does not wait for the reader
    // (nor make the writer wait).
    store.writeUntilCheckpointed("next");
    EXPECT_EQ(store->restartCheckpointCount(), restarts);
    EXPECT_GE(store->walFrames(), small.restartFrames);

    reader.exec("COMMIT");
    store.writeUntilCheckpointed("released");
    store.write("restarted");
    EXPECT_LT(store->walFrames(), small.passiveFrames);
    EXPECT_TRUE(store.errors().empty());
}

TEST_F(SqliteMessageStoreTest, StopEndsTheCheckpointerAfterTheLastCommit) {
    sqlite::CheckpointPolicy small;
    small.passiveFrames = 1;
    DirectStore store(dir_.file("direct.db"), small);
    store->holdWriterForTest(true);
    for (int i = 0; i < 5; ++i) {
        store->enqueue(makeMessage(cat("q", std::to_string(i)), 1),
                       outcomes_.callback(cat("q", std::to_string(i))));
    }
    store->stop();
    EXPECT_EQ(outcomes_.okCount(), 5u);
    // The final commit's request was either served or dropped with the thread; nothing waits.
    EXPECT_TRUE(store->waitForCheckpointerForTest(0ms));
    store->stop();
    EXPECT_TRUE(store.errors().empty());
}

TEST_F(SqliteMessageStoreTest, RowsWrittenWithoutForeignKeyChecksStillHoldThemAndCascade) {
    NewMessage m = makeMessage("fk", 2);
    m.attachments.push_back(Attachment{"a.txt", "text/plain", "a"});
    ASSERT_TRUE(enqueueAndWait(store(), m).ok());
    ASSERT_TRUE(enqueueAndWait(store(), makeMessage("other", 1)).ok());

    // The writer's connection does not check foreign keys; every row it wrote has its parent,
    // and a connection that does (as all others do) still cascades a delete.
    SQLite::Database raw(path(), SQLite::OPEN_READWRITE);
    SQLite::Statement check(raw, "PRAGMA foreign_key_check");
    EXPECT_FALSE(check.executeStep());
    raw.exec("PRAGMA foreign_keys=ON");
    raw.exec("DELETE FROM messages WHERE id = 'fk'");
    EXPECT_EQ(countRows(path(), "recipients"), 1);
    EXPECT_EQ(countRows(path(), "attachments"), 0);
    EXPECT_EQ(store().recipientsOf("other").value().size(), 1u);
}

// Message ids where one is a prefix of another (never so for real ids, which all end in
// ".sc-<host>"): the recipients' key ranges overlap, and each
// message must still get exactly its own recipients, in the order the request listed them (not
// key order, where "q10$r" sorts before "q2$r").
TEST_F(SqliteMessageStoreTest, RecipientsOfAMessageAreExactlyItsOwnInInsertionOrder) {
    NewMessage m1 = makeMessage("q1", 12);
    NewMessage m10 = makeMessage("q10", 2);
    NewMessage m19 = makeMessage("q19", 1);
    NewMessage m2 = makeMessage("q2", 1);
    m10.createdAtMs = kCreatedAt + 1;
    m19.createdAtMs = kCreatedAt + 2;
    m2.createdAtMs = kCreatedAt + 3;
    for (const NewMessage& m : {m1, m10, m19, m2}) ASSERT_TRUE(enqueueAndWait(store(), m).ok());

    auto all = store().recipientsOf("q1").value();
    ASSERT_EQ(all.size(), 12u);
    for (int i = 0; i < 12; ++i) {
        EXPECT_EQ(all[i].id, recipientId("q1", i));
        EXPECT_EQ(all[i].messageId, "q1");
    }
    ASSERT_EQ(store().recipientsOf("q10").value().size(), 2u);
    EXPECT_EQ(store().recipientsOf("q10").value()[1].id, recipientId("q10", 1));
    ASSERT_EQ(store().recipientsOf("q19").value().size(), 1u);
    EXPECT_TRUE(store().recipientsOf("q").value().empty());

    auto recent = must(store().recentMessages(1, 10));
    ASSERT_EQ(recent.size(), 4u);
    EXPECT_EQ(recent[0].id, "q2");
    EXPECT_EQ(recent[0].recipients.size(), 1u);
    EXPECT_EQ(recent[1].id, "q19");
    EXPECT_EQ(recent[1].recipients.size(), 1u);
    EXPECT_EQ(recent[2].id, "q10");
    EXPECT_EQ(recent[2].recipients.size(), 2u);
    EXPECT_EQ(recent[3].id, "q1");
    ASSERT_EQ(recent[3].recipients.size(), 12u);
    for (int i = 0; i < 12; ++i) {
        EXPECT_EQ(recent[3].recipients[i].address, m1.recipients[i].address) << i;
    }
    // The page limit counts messages, not recipients.
    auto page = must(store().recentMessages(1, 1));
    ASSERT_EQ(page.size(), 1u);
    EXPECT_EQ(page[0].id, "q2");
}

// The details of EXPLAIN QUERY PLAN for sql on the database at path.
std::vector<std::string> queryPlan(const std::string& path, const std::string& sql) {
    SQLite::Database raw(path, SQLite::OPEN_READONLY);
    SQLite::Statement plan(raw, cat("EXPLAIN QUERY PLAN ", sql));
    std::vector<std::string> details;
    while (plan.executeStep()) details.push_back(plan.getColumn(3).getString());
    return details;
}

std::string joined(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) out.append(l).append("\n");
    return out;
}

// Without an index on recipients(message_id), both reads must find a message's recipients by
// the primary-key range; a scan (or an automatic index, which is built by a scan) would read
// every recipient ever queued. Checked on an empty database and after ANALYZE on a filled one,
// since statistics change the planner's choices.
TEST_F(SqliteMessageStoreTest, RecipientReadsUseTheRecipientKeyAndNeverScanRecipients) {
    const std::vector<std::string> queries = {
        sqlite::SqliteMessageStore::recipientsOfSqlForTest(),
        sqlite::SqliteMessageStore::recentMessagesSqlForTest()};
    auto check = [&](const char* when) {
        for (const std::string& sql : queries) {
            const auto plan = queryPlan(path(), sql);
            SCOPED_TRACE(cat(when, ": ", sql, "\n", joined(plan)));
            bool usesKey = false;
            for (const std::string& step : plan) {
                if (step.find("sqlite_autoindex_recipients_1") != std::string::npos) {
                    usesKey = true;
                }
                EXPECT_EQ(step.find("SCAN r"), std::string::npos);
                EXPECT_EQ(step.find("AUTOMATIC"), std::string::npos);
                EXPECT_EQ(step.find("recipients_by_message"), std::string::npos);
            }
            EXPECT_TRUE(usesKey);
        }
    };
    check("empty");

    backend_->holdWriterForTest(true);
    for (int i = 0; i < 200; ++i) enqueue(cat("a", std::to_string(i)), 1 + i % 3);
    backend_->holdWriterForTest(false);
    ASSERT_TRUE(outcomes_.waitFor(200));
    {
        SQLite::Database raw(path(), SQLite::OPEN_READWRITE);
        raw.exec("ANALYZE");
    }
    check("analyzed");
}

TEST_F(SqliteMessageStoreTest, Migration5DropsTheRecipientsByMessageIndex) {
    auto hasIndex = [](const std::string& db) {
        SQLite::Database raw(db, SQLite::OPEN_READONLY);
        return raw.execAndGet(
                      "SELECT count(*) FROM sqlite_schema WHERE type = 'index' "
                      "AND name = 'recipients_by_message'")
                   .getInt() == 1;
    };
    EXPECT_FALSE(hasIndex(path()));

    const std::string old = dir_.file("version4.db");
    {
        sqlite::Connection c(old, 5000);
        sqlite::migrate(c, 4);
    }
    EXPECT_TRUE(hasIndex(old));
    {
        sqlite::Connection c(old, 5000);
        sqlite::migrate(c, 5);
    }
    EXPECT_FALSE(hasIndex(old));
}

TEST_F(SqliteMessageStoreTest, PingAnswers) {
    EXPECT_TRUE(store().ping());
}

}  // namespace
}  // namespace sc::store
