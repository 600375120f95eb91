#include "store/sqlite/sqlite_retention_store.h"

#include <utility>
#include <vector>

#include "store/sqlite/recipient_range.h"

namespace sc::store::sqlite {

namespace {

// What a pruned message's content_json becomes: still valid JSON for any reader.
constexpr const char* kPrunedContent = R"({"pruned":true})";

// The recipient states that still need the message's body.
#define SC_NOT_FINAL "('queued', 'sending', 'deferred')"

constexpr const char* kMessagesAfterMark =
    "SELECT m.rowid, m.id, m.created_at_ms, EXISTS (SELECT 1 FROM recipients r "
    "WHERE " SC_RECIPIENTS_OF("r",
                              "m.id") " AND r.state IN " SC_NOT_FINAL
                                      ") "
                                      "FROM messages m WHERE m.rowid > ? ORDER BY m.rowid LIMIT ?";
constexpr const char* kPruneMessage =
    "UPDATE messages SET content_json = ?2 WHERE id = ?1 AND created_at_ms < ?3 AND NOT EXISTS "
    "(SELECT 1 FROM recipients r WHERE " SC_RECIPIENTS_OF("r", "?1") " AND r.state IN " SC_NOT_FINAL
                                                                     ")";
constexpr const char* kPruneAttachments = "DELETE FROM attachments WHERE message_id = ?";
constexpr const char* kPruneRecipientContent =
    "UPDATE recipients AS r SET content_json = NULL WHERE " SC_RECIPIENTS_OF(
        "r", "?1") " AND r.content_json IS NOT NULL";
constexpr const char* kReadMark = "SELECT last_rowid FROM retention_marks WHERE name = ?";
constexpr const char* kWriteMark =
    "INSERT INTO retention_marks (name, last_rowid) VALUES (?, ?) "
    "ON CONFLICT (name) DO UPDATE SET last_rowid = excluded.last_rowid";
#undef SC_NOT_FINAL

// A row's key: one integer (a rowid or id), or a user id with a second column. Read from the
// select's columns 0.., bound to the delete's parameters 1..; bindKey answers the next index.
using UserAndText = std::pair<int64_t, std::string>;
using UserAndInt = std::pair<int64_t, int64_t>;

void readColumn(SQLite::Statement& s, int index, int64_t& out) {
    out = s.getColumn(index).getInt64();
}
void readColumn(SQLite::Statement& s, int index, std::string& out) {
    out = columnBytes(s, index);
}
void bindColumn(SQLite::Statement& s, int index, int64_t value) {
    bindInt(s, index, value);
}
void bindColumn(SQLite::Statement& s, int index, const std::string& value) {
    bindText(s, index, value);
}

void readKey(SQLite::Statement& s, int64_t& key) {
    readColumn(s, 0, key);
}
template <class Second>
void readKey(SQLite::Statement& s, std::pair<int64_t, Second>& key) {
    readColumn(s, 0, key.first);
    readColumn(s, 1, key.second);
}
int bindKey(SQLite::Statement& s, int64_t key) {
    bindColumn(s, 1, key);
    return 2;
}
template <class Second>
int bindKey(SQLite::Statement& s, const std::pair<int64_t, Second>& key) {
    bindColumn(s, 1, key.first);
    bindColumn(s, 2, key.second);
    return 3;
}

// Reads a batch of keys with `select` (bound: beforeMs, limit), then deletes each with `remove`
// (bound: the key's columns, then beforeMs) in one write transaction.
template <class Key>
Result<int64_t, StoreError> pruneByKey(ConnectionPool& pool, const char* select, const char* remove,
                                       int64_t beforeMs, int64_t limit) {
    try {
        auto conn = pool.acquire();
        std::vector<Key> keys;
        {
            ScopedStatement s(*conn, select);
            bindInt(*s, 1, beforeMs);
            bindInt(*s, 2, limit);
            while (s->executeStep()) readKey(*s, keys.emplace_back());
        }
        if (keys.empty()) return int64_t{0};
        return inWriteTransaction(*conn, [&] {
            int64_t removed = 0;
            for (const auto& key : keys) {
                ScopedStatement s(*conn, remove);
                const int next = bindKey(*s, key);
                bindInt(*s, next, beforeMs);
                removed += s->exec();
            }
            return removed;
        });
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

}  // namespace

SqliteRetentionStore::SqliteRetentionStore(ConnectionPool& pool) : pool_(pool) {}

Result<int64_t, StoreError> SqliteRetentionStore::pruneSendRequests(int64_t beforeMs,
                                                                    int64_t limit) {
    return pruneByKey<UserAndText>(
        pool_, "SELECT api_user_id, request_id FROM send_requests WHERE created_at_ms < ? LIMIT ?",
        "DELETE FROM send_requests WHERE api_user_id = ? AND request_id = ? AND created_at_ms < ?",
        beforeMs, limit);
}

Result<int64_t, StoreError> SqliteRetentionStore::pruneRetiredKeys(int64_t beforeMs,
                                                                   int64_t limit) {
    return pruneByKey<int64_t>(
        pool_, "SELECT rowid FROM retired_keys WHERE expires_at_ms < ? LIMIT ?",
        "DELETE FROM retired_keys WHERE rowid = ? AND expires_at_ms < ?", beforeMs, limit);
}

Result<int64_t, StoreError> SqliteRetentionStore::pruneUsage(int64_t beforeMs, int64_t limit) {
    return pruneByKey<UserAndInt>(
        pool_, "SELECT user_id, hour_start_ms FROM usage_hourly WHERE hour_start_ms < ? LIMIT ?",
        "DELETE FROM usage_hourly WHERE user_id = ? AND hour_start_ms = ? AND hour_start_ms < ?",
        beforeMs, limit);
}

Result<int64_t, StoreError> SqliteRetentionStore::prunePendingReceipts(int64_t beforeMs,
                                                                       int64_t limit) {
    return pruneByKey<int64_t>(
        pool_, "SELECT id FROM pending_receipts WHERE received_at_ms < ? LIMIT ?",
        "DELETE FROM pending_receipts WHERE id = ? AND received_at_ms < ?", beforeMs, limit);
}

Result<int64_t, StoreError> SqliteRetentionStore::pruneMessageBodies(int64_t beforeMs,
                                                                     int64_t limit) {
    static constexpr const char* kMark = "message_bodies";
    try {
        auto conn = pool_.acquire();
        int64_t mark = 0;
        {
            ScopedStatement s(*conn, kReadMark);
            bindText(*s, 1, kMark);
            if (s->executeStep()) mark = s->getColumn(0).getInt64();
        }
        // The batch: messages after the mark, up to the first one that is too young or still
        // being delivered (everything after it waits for the next run).
        struct Prunable {
            int64_t rowid;
            std::string id;
        };
        std::vector<Prunable> batch;
        {
            ScopedStatement s(*conn, kMessagesAfterMark);
            bindInt(*s, 1, mark);
            bindInt(*s, 2, limit);
            while (s->executeStep()) {
                if (s->getColumn(2).getInt64() >= beforeMs || s->getColumn(3).getInt() != 0) break;
                batch.push_back({s->getColumn(0).getInt64(), columnBytes(*s, 1)});
            }
        }
        if (batch.empty()) return int64_t{0};
        return inWriteTransaction(*conn, [&] {
            int64_t pruned = 0;
            for (const auto& message : batch) {
                ScopedStatement m(*conn, kPruneMessage);
                bindText(*m, 1, message.id);
                bindText(*m, 2, kPrunedContent);
                bindInt(*m, 3, beforeMs);
                if (m->exec() == 0) {
                    // Changed since the read (cannot happen today: a final state is final);
                    // stop before it so the mark never passes a body still needed.
                    break;
                }
                ScopedStatement a(*conn, kPruneAttachments);
                bindText(*a, 1, message.id);
                a->exec();
                ScopedStatement r(*conn, kPruneRecipientContent);
                bindText(*r, 1, message.id);
                r->exec();
                ++pruned;
            }
            if (pruned > 0) {
                // The mark moves to the last message pruned.
                ScopedStatement w(*conn, kWriteMark);
                bindText(*w, 1, kMark);
                bindInt(*w, 2, batch[static_cast<size_t>(pruned - 1)].rowid);
                w->exec();
            }
            return pruned;
        });
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

}  // namespace sc::store::sqlite
