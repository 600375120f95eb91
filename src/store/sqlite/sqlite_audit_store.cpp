#include "store/sqlite/sqlite_audit_store.h"

#include <algorithm>
#include <array>
#include <climits>
#include <string>

namespace sc::store::sqlite {

namespace {

// Events go in with multi-row INSERTs of kEventsPerInsert rows (and, for the rest of a batch,
// of 16, 8, 4, 2 and 1): one statement step per 32 rows instead of one per row, and
// AUTOINCREMENT's sqlite_sequence row is read and written once per statement, not once per event.
constexpr size_t kEventsPerInsert = 32;
constexpr int kColumnsPerEvent = 12;

// The INSERT text for `rows` events, for rows a power of two up to kEventsPerInsert.
const std::string& insertEventsSql(size_t rows) {
    static const std::array<std::string, 6> texts = [] {
        std::array<std::string, 6> t;
        for (size_t i = 0; i < t.size(); ++i) {
            std::string& sql = t[i];
            sql =
                "INSERT INTO auth_events (at_ms, api, user_name, account_id, user_id, outcome, "
                "reason, key_fingerprint, client_ip, user_agent, attempts, last_at_ms) VALUES ";
            for (size_t r = 0; r < (size_t{1} << i); ++r) {
                sql += r == 0 ? "" : ",";
                sql += "(?,?,?,?,?,?,?,?,?,?,?,?)";
            }
        }
        return t;
    }();
    static_assert(kEventsPerInsert == size_t{1} << 5);
    size_t i = 0;
    while ((size_t{1} << i) < rows) ++i;
    return texts[i];
}

// last_used_ms is NULL until a delta brings a use (a delta's 0 is bound as NULL). SQL's max() of
// NULL and a value is NULL, hence the coalesce, and the nullif that turns two NULLs back into one.
constexpr const char* kAddUsage =
    "INSERT INTO usage_hourly (user_id, account_id, user_name, hour_start_ms, requests, "
    "recipients, auth_failures, rate_limited, last_used_ms) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, nullif(?, 0)) "
    "ON CONFLICT (user_id, hour_start_ms) DO UPDATE SET "
    "requests = requests + excluded.requests, "
    "recipients = recipients + excluded.recipients, "
    "auth_failures = auth_failures + excluded.auth_failures, "
    "rate_limited = rate_limited + excluded.rate_limited, "
    "last_used_ms = nullif(max(coalesce(last_used_ms, 0), coalesce(excluded.last_used_ms, 0)), 0)";

// The optional filters are added to the text rather than written as "(? = '' OR col = ?)",
// which would hide them from the planner; each of the four texts is prepared once per
// connection. The id bound is always present (INT64_MAX on the first page), so that
// auth_events_by_account serves the account match, the cursor and the order at once.
std::string eventQuerySql(bool byUser, bool byOutcome) {
    std::string sql(
        "SELECT id, at_ms, api, user_name, account_id, user_id, outcome, reason, "
        "key_fingerprint, client_ip, user_agent, attempts, coalesce(last_at_ms, at_ms) "
        "FROM auth_events "
        "WHERE account_id = :account AND id < :before AND at_ms >= :from AND at_ms < :to");
    if (byUser) sql.append(" AND user_name = :user");
    if (byOutcome) sql.append(" AND outcome = :outcome");
    sql.append(" ORDER BY id DESC LIMIT :limit");
    return sql;
}

std::string usageQuerySql(bool byUser) {
    std::string sql(
        "SELECT user_id, user_name, hour_start_ms, requests, recipients, auth_failures, "
        "rate_limited FROM usage_hourly "
        "WHERE account_id = :account AND hour_start_ms >= :from AND hour_start_ms < :to");
    if (byUser) sql.append(" AND user_name = :user");
    sql.append(" ORDER BY hour_start_ms, user_name");
    return sql;
}

// Named parameters, so that the optional ones need no index arithmetic.
void bindNamedInt(SQLite::Statement& s, const char* name, int64_t value) {
    s.bind(name, value);
}

void bindNamedText(SQLite::Statement& s, const char* name, std::string_view value) {
    s.bind(name, std::string(value));
}

}  // namespace

SqliteAuditStore::SqliteAuditStore(ConnectionPool& pool) : pool_(pool) {}

Result<Ok, StoreError> SqliteAuditStore::appendEvents(const std::vector<AuthEvent>& events) {
    if (events.empty()) return Ok{};
    try {
        auto conn = pool_.acquire();
        // Audit records wait up to a second in memory before they get here, so the fsync of
        // synchronous=FULL buys them nothing, and it would be done holding the write lock the
        // message writer is waiting for. NORMAL keeps the WAL consistent; the message writer's
        // next commit syncs these frames with its own.
        SynchronousNormal relaxed(*conn);
        return inWriteTransaction(*conn, [&]() -> Result<Ok, StoreError> {
            size_t next = 0;
            while (next < events.size()) {
                size_t rows = kEventsPerInsert;
                while (rows > events.size() - next) rows /= 2;
                // Cached per text by the connection; ScopedStatement resets it for the next use.
                // The events outlive the statement's execution, so their text is not copied.
                ScopedStatement s(*conn, insertEventsSql(rows));
                for (size_t r = 0; r < rows; ++r) {
                    const AuthEvent& e = events[next + r];
                    const int base = static_cast<int>(r) * kColumnsPerEvent;
                    bindInt(*s, base + 1, e.atMs);
                    bindText(*s, base + 2, authApiName(e.api));
                    bindTextNoCopy(*s, base + 3, e.userName);
                    bindInt(*s, base + 4, e.accountId);
                    bindInt(*s, base + 5, e.userId);
                    bindText(*s, base + 6, authOutcomeName(e.outcome));
                    bindTextNoCopy(*s, base + 7, e.reason);
                    bindTextNoCopy(*s, base + 8, e.keyFingerprint);
                    bindTextNoCopy(*s, base + 9, e.clientIp);
                    bindTextNoCopy(*s, base + 10, e.userAgent);
                    bindInt(*s, base + 11, std::max<int64_t>(e.attempts, 1));
                    bindInt(*s, base + 12, e.lastAttemptAtMs());
                }
                s->exec();
                next += rows;
            }
            return Ok{};
        });
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

Result<Ok, StoreError> SqliteAuditStore::addUsage(const std::vector<UsageDelta>& deltas) {
    if (deltas.empty()) return Ok{};
    try {
        auto conn = pool_.acquire();
        return inWriteTransaction(*conn, [&]() -> Result<Ok, StoreError> {
            for (const UsageDelta& d : deltas) {
                ScopedStatement s(*conn, kAddUsage);
                bindInt(*s, 1, d.userId);
                bindInt(*s, 2, d.accountId);
                bindText(*s, 3, d.userName);
                bindInt(*s, 4, d.hourStartMs);
                bindInt(*s, 5, d.requests);
                bindInt(*s, 6, d.recipients);
                bindInt(*s, 7, d.authFailures);
                bindInt(*s, 8, d.rateLimited);
                bindInt(*s, 9, d.lastUsedMs);
                s->exec();
            }
            return Ok{};
        });
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

Result<std::vector<StoredAuthEvent>, StoreError> SqliteAuditStore::queryEvents(
    const AuthEventQuery& q) {
    try {
        std::vector<StoredAuthEvent> out;
        const bool byUser = !q.userName.empty();
        const bool byOutcome = q.outcome.has_value();
        auto conn = pool_.acquire();
        ScopedStatement s(*conn, eventQuerySql(byUser, byOutcome));
        bindNamedInt(*s, ":account", q.accountId);
        bindNamedInt(*s, ":before", q.beforeId > 0 ? q.beforeId : INT64_MAX);
        bindNamedInt(*s, ":from", q.fromMs);
        bindNamedInt(*s, ":to", q.toMs);
        if (byUser) bindNamedText(*s, ":user", q.userName);
        if (byOutcome) bindNamedText(*s, ":outcome", authOutcomeName(*q.outcome));
        bindNamedInt(*s, ":limit", std::clamp<int64_t>(q.limit, 1, kMaxEventsPerQuery));
        while (s->executeStep()) {
            StoredAuthEvent row;
            row.id = s->getColumn(0).getInt64();
            AuthEvent& e = row.event;
            e.atMs = s->getColumn(1).getInt64();
            e.api = parsedColumn(*s, 2, parseAuthApi, "authentication API");
            e.userName = columnBytes(*s, 3);
            e.accountId = s->getColumn(4).getInt64();
            e.userId = s->getColumn(5).getInt64();
            e.outcome = parsedColumn(*s, 6, parseAuthOutcome, "authentication outcome");
            e.reason = columnBytes(*s, 7);
            e.keyFingerprint = columnBytes(*s, 8);
            e.clientIp = columnBytes(*s, 9);
            e.userAgent = columnBytes(*s, 10);
            e.attempts = s->getColumn(11).getInt64();
            e.lastAtMs = s->getColumn(12).getInt64();
            out.push_back(std::move(row));
        }
        return out;
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

Result<std::vector<UsageRow>, StoreError> SqliteAuditStore::queryUsage(const UsageQuery& q) {
    try {
        std::vector<UsageRow> out;
        const bool byUser = !q.userName.empty();
        auto conn = pool_.acquire();
        ScopedStatement s(*conn, usageQuerySql(byUser));
        bindNamedInt(*s, ":account", q.accountId);
        bindNamedInt(*s, ":from", q.fromMs);
        bindNamedInt(*s, ":to", q.toMs);
        if (byUser) bindNamedText(*s, ":user", q.userName);
        while (s->executeStep()) {
            UsageRow row;
            row.userId = s->getColumn(0).getInt64();
            row.userName = columnBytes(*s, 1);
            row.hourStartMs = s->getColumn(2).getInt64();
            row.requests = s->getColumn(3).getInt64();
            row.recipients = s->getColumn(4).getInt64();
            row.authFailures = s->getColumn(5).getInt64();
            row.rateLimited = s->getColumn(6).getInt64();
            out.push_back(std::move(row));
        }
        return out;
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

Result<int64_t, StoreError> SqliteAuditStore::countKeyUses(int64_t userId,
                                                           std::string_view fingerprint,
                                                           int64_t fromMs) {
    try {
        auto conn = pool_.acquire();
        // auth_events_by_key finds the rows; each counts its coalesced attempts. A row whose
        // first attempt came before fromMs is left out whole (its attempts span one second).
        ScopedStatement s(*conn,
                          "SELECT coalesce(sum(attempts), 0) FROM auth_events WHERE user_id = ? "
                          "AND key_fingerprint = ? AND at_ms >= ? AND outcome = ?");
        bindInt(*s, 1, userId);
        bindText(*s, 2, fingerprint);
        bindInt(*s, 3, fromMs);
        bindText(*s, 4, authOutcomeName(AuthOutcome::Success));
        s->executeStep();
        return s->getColumn(0).getInt64();
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

Result<std::optional<int64_t>, StoreError> SqliteAuditStore::lastUseOf(int64_t userId) {
    try {
        auto conn = pool_.acquire();
        // A use is counted in the hour it happened, so the newest hour that holds one holds the
        // latest: the primary key walks the user's hours backwards and stops at the first.
        ScopedStatement s(*conn,
                          "SELECT last_used_ms FROM usage_hourly WHERE user_id = ? AND "
                          "last_used_ms > 0 ORDER BY hour_start_ms DESC LIMIT 1");
        bindInt(*s, 1, userId);
        if (!s->executeStep()) return std::optional<int64_t>();
        return std::optional<int64_t>(s->getColumn(0).getInt64());
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

Result<int64_t, StoreError> SqliteAuditStore::recipientsBetween(int64_t userId, int64_t fromMs,
                                                                int64_t toMs) {
    try {
        auto conn = pool_.acquire();
        // sum() is NULL over no rows; total() would answer a floating-point value.
        ScopedStatement s(*conn,
                          "SELECT coalesce(sum(recipients), 0) FROM usage_hourly "
                          "WHERE user_id = ? AND hour_start_ms >= ? AND hour_start_ms < ?");
        bindInt(*s, 1, userId);
        bindInt(*s, 2, fromMs);
        bindInt(*s, 3, toMs);
        s->executeStep();
        return s->getColumn(0).getInt64();
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

Result<int64_t, StoreError> SqliteAuditStore::pruneEvents(int64_t olderThanMs) {
    try {
        auto conn = pool_.acquire();
        return inWriteTransaction(*conn, [&]() -> Result<int64_t, StoreError> {
            ScopedStatement s(*conn, "DELETE FROM auth_events WHERE at_ms < ?");
            bindInt(*s, 1, olderThanMs);
            return static_cast<int64_t>(s->exec());
        });
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

}  // namespace sc::store::sqlite
