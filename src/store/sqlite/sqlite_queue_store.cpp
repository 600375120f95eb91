// The SQLite QueueStore (store/queue_store.h). Its own small connection pool on the database
// file, so that delivery never borrows the send path's connections; every write is one
// BEGIN IMMEDIATE transaction, which SQLite's single writer makes exclusive. Outcomes, receipts
// and inbound SMS commit with synchronous=FULL; claims and lease releases, which a restart
// redoes anyway, with NORMAL.

#include "store/sqlite/sqlite_queue_store.h"
#include "store/queue_store.h"
#include "store/sqlite/connection.h"

#include <optional>
#include <utility>

namespace sc::store {
namespace {

using sqlite::bindInt;
using sqlite::bindNull;
using sqlite::bindText;
using sqlite::bindTextNoCopy;
using sqlite::columnBytes;
using sqlite::Connection;
using sqlite::ScopedStatement;
using sqlite::SynchronousNormal;

// Candidates first, then one UPDATE each: the shape PostgreSQL takes with FOR UPDATE SKIP
// LOCKED on the SELECT. A 'sending' row is due when its lease ran out (next_attempt_at_ms holds
// the lease's end), unless this node holds it: our own live claims are still in flight. No
// ORDER BY: the index hands out each state's rows by due time, and sorting every due row of a
// large queue per claim would cost more than strict order is worth.
constexpr const char* kClaimCandidates =
    "SELECT r.id, r.message_id, r.address, r.role, coalesce(r.content_json, ''), r.attempts, "
    "m.kind, m.test_mode, m.account_id, m.api_user_id, m.api_user_name, m.created_at_ms, "
    "r.rowid FROM recipients r JOIN messages m ON m.id = r.message_id "
    "WHERE r.state IN ('queued', 'deferred', 'sending') AND r.next_attempt_at_ms <= ?1 "
    "AND (r.state <> 'sending' OR r.lease_owner IS NOT ?2) "
    "AND (m.test_mode = 1 OR m.kind IN (?3, ?4)) LIMIT ?5";
// By rowid, which the candidates' SELECT read: no second look-up of the text id.
constexpr const char* kClaimOne =
    "UPDATE recipients SET state = 'sending', lease_owner = ?2, lease_until_ms = ?3, "
    "next_attempt_at_ms = ?3, updated_at_ms = ?4 WHERE rowid = ?1";
constexpr const char* kRelease =
    "UPDATE recipients SET state = CASE WHEN attempts = 0 THEN 'queued' ELSE 'deferred' END, "
    "lease_owner = NULL, lease_until_ms = NULL, next_attempt_at_ms = ?2, updated_at_ms = ?2 "
    "WHERE state = 'sending' AND lease_owner = ?1";
// An outcome's new state, the one write both statements below make.
#define SC_RECORD_STATE                                                                    \
    "UPDATE recipients SET state = ?2, attempts = attempts + 1, next_attempt_at_ms = ?3, " \
    "lease_owner = NULL, lease_until_ms = NULL, last_reply = ?4, updated_at_ms = ?5 "
constexpr const char* kRecordState = SC_RECORD_STATE "WHERE id = ?1";
// By the key the claim handed out: a seek on the rowid instead of one on the text id's index
// (text comparisons were a fifth of an outcome's write). The id must match as well, so that a row
// renumbered since the claim (VACUUM may renumber the rowids of a table without an INTEGER
// PRIMARY KEY) is never taken for another; the outcome then goes by kRecordState.
constexpr const char* kRecordStateByKey = SC_RECORD_STATE "WHERE rowid = ?6 AND id = ?1";
#undef SC_RECORD_STATE
constexpr const char* kInsertAttempt =
    "INSERT INTO delivery_attempts (recipient_id, at_ms, outcome, remote_host, remote_ip, "
    "reply_code, enhanced_code, reply_text, tls_version, tls_cipher, smsc_message_id) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
// ?5: the account when the caller knows it (coalesce() stops at its first non-NULL argument, so
// the look-up runs only without it).
constexpr const char* kInsertEvent =
    "INSERT INTO events (kind, recipient_id, account_id, at_ms, payload_json) "
    "VALUES (?1, ?2, coalesce(?5, (SELECT m.account_id FROM recipients r JOIN messages m "
    "ON m.id = r.message_id WHERE r.id = ?2), 0), ?3, ?4)";
constexpr const char* kInsertSmscId =
    "INSERT OR IGNORE INTO smsc_ids (route, smsc_id, recipient_id, part, exact) "
    "VALUES (?, ?, ?, ?, ?)";
constexpr const char* kPendingFor =
    "SELECT id, smsc_id, stat, error_code, received_at_ms FROM pending_receipts "
    "WHERE route = ? AND smsc_id = ?";
constexpr const char* kDeletePending = "DELETE FROM pending_receipts WHERE id = ?";
constexpr const char* kAnyPending = "SELECT 1 FROM pending_receipts LIMIT 1";
// The exact form wins over a converted one when two recipients share a spelling.
constexpr const char* kFindSmscId =
    "SELECT recipient_id, part FROM smsc_ids WHERE route = ? AND smsc_id = ? "
    "ORDER BY exact DESC LIMIT 1";
constexpr const char* kSetPartStat =
    "UPDATE smsc_ids SET stat = ?3 WHERE recipient_id = ?1 AND part = ?2";
constexpr const char* kPartStats =
    "SELECT part, max(stat) FROM smsc_ids WHERE recipient_id = ? GROUP BY part";
constexpr const char* kInsertPending =
    "INSERT INTO pending_receipts (route, smsc_id, stat, error_code, received_at_ms) "
    "VALUES (?, ?, ?, ?, ?)";
constexpr const char* kRecipientState = "SELECT state FROM recipients WHERE id = ?";
constexpr const char* kSetFinalState =
    "UPDATE recipients SET state = ?2, updated_at_ms = ?3, last_reply = ?4 WHERE id = ?1";

bool isFinalStat(std::string_view stat) {
    return stat == "DELIVRD" || stat == "EXPIRED" || stat == "DELETED" || stat == "UNDELIV" ||
           stat == "UNKNOWN" || stat == "REJECTD";
}

// docs/delivery.md "Receipts": delivered when every part is DELIVRD; otherwise the first
// failed part decides.
RecipientState stateOfFinalStat(std::string_view stat) {
    if (stat == "DELIVRD") return RecipientState::Delivered;
    if (stat == "EXPIRED") return RecipientState::Expired;
    if (stat == "REJECTD") return RecipientState::Rejected;
    return RecipientState::Undeliverable;  // UNDELIV, DELETED, UNKNOWN
}

std::string eventKindOf(RecipientState s) {
    return s == RecipientState::Delivered ? "deliver" : "delivererror";
}

class SqliteQueueStore final : public QueueStore {
    // (Declared first: the members below deduce its return type.)
    // Every write of the queue: one BEGIN IMMEDIATE transaction, after the intake writer's batch
    // if it has one waiting (intake_first.h).
    template <class Body>
    auto inWriteTransaction(Connection& c, Body&& body) {
        if (intakeFirst_ != nullptr) intakeFirst_->yieldToIntake();
        return sqlite::inWriteTransaction(c, std::forward<Body>(body));
    }

public:
    SqliteQueueStore(const std::string& path, int busyTimeoutMs, sqlite::IntakeFirst* intakeFirst,
                     sqlite::ConnectionPool::OnOpen onOpen)
        : pool_(path, busyTimeoutMs, 4, std::move(onOpen)), intakeFirst_(intakeFirst) {}

    Result<std::vector<ClaimedRecipient>, StoreError> claimDue(const ClaimRequest& req) override {
        try {
            auto conn = pool_.acquire();
            // A claim need not reach the disk before its recipients are handed out: one lost
            // with the power leaves them due, which is what start-up does to our leases anyway
            // (releaseLeases), and the outcome of any attempt is a FULL commit after it, which
            // syncs the claim's frames with its own. This halves the queue's fsyncs.
            SynchronousNormal relaxed(*conn);
            return inWriteTransaction(
                *conn, [&]() -> Result<std::vector<ClaimedRecipient>, StoreError> {
                    std::vector<ClaimedRecipient> out;
                    std::vector<int64_t> rowids;
                    {
                        ScopedStatement s(*conn, kClaimCandidates);
                        bindInt(*s, 1, req.nowMs);
                        bindText(*s, 2, req.owner);
                        bindText(*s, 3, req.email ? userKindName(UserKind::Email) : "");
                        bindText(*s, 4, req.sms ? userKindName(UserKind::Sms) : "");
                        bindInt(*s, 5, static_cast<int64_t>(req.limit));
                        while (s->executeStep()) {
                            ClaimedRecipient c;
                            c.id = columnBytes(*s, 0);
                            c.messageId = columnBytes(*s, 1);
                            c.address = columnBytes(*s, 2);
                            c.role = columnBytes(*s, 3);
                            c.contentJson = columnBytes(*s, 4);
                            c.attempts = s->getColumn(5).getInt64();
                            c.kind = sqlite::parsedColumn(*s, 6, parseUserKind, "message kind");
                            c.testMode = s->getColumn(7).getInt64() != 0;
                            c.accountId = s->getColumn(8).getInt64();
                            c.apiUserId = s->getColumn(9).getInt64();
                            c.apiUserName = columnBytes(*s, 10);
                            c.createdAtMs = s->getColumn(11).getInt64();
                            c.recipientKey = s->getColumn(12).getInt64();
                            rowids.push_back(c.recipientKey);
                            out.push_back(std::move(c));
                        }
                    }
                    SQLite::Statement& claimOne = conn->statement(kClaimOne);
                    for (const int64_t rowid : rowids) {
                        ScopedStatement u(claimOne);
                        bindInt(*u, 1, rowid);
                        bindTextNoCopy(*u, 2, req.owner);
                        bindInt(*u, 3, req.leaseUntilMs);
                        bindInt(*u, 4, req.nowMs);
                        u->exec();
                    }
                    return out;
                });
        } catch (const std::exception& e) {
            return fail(sqlite::toStoreError(e));
        }
    }

    Result<std::optional<QueuedMessageContent>, StoreError> messageContent(
        std::string_view messageId) override {
        try {
            auto conn = pool_.acquire();
            QueuedMessageContent out;
            {
                ScopedStatement s(*conn, "SELECT content_json FROM messages WHERE id = ?");
                bindText(*s, 1, messageId);
                if (!s->executeStep()) return std::optional<QueuedMessageContent>();
                out.contentJson = columnBytes(*s, 0);
            }
            ScopedStatement a(*conn,
                              "SELECT filename, content_type, data FROM attachments "
                              "WHERE message_id = ? ORDER BY idx");
            bindText(*a, 1, messageId);
            while (a->executeStep()) {
                Attachment att;
                att.filename = columnBytes(*a, 0);
                att.contentType = columnBytes(*a, 1);
                att.data = columnBytes(*a, 2);
                out.attachments.push_back(std::move(att));
            }
            return std::optional<QueuedMessageContent>(std::move(out));
        } catch (const std::exception& e) {
            return fail(sqlite::toStoreError(e));
        }
    }

    Result<int64_t, StoreError> releaseLeases(std::string_view owner, int64_t nowMs) override {
        try {
            auto conn = pool_.acquire();
            // As for a claim: a release lost with the power is done again at the next start-up.
            SynchronousNormal relaxed(*conn);
            return inWriteTransaction(*conn, [&]() -> Result<int64_t, StoreError> {
                ScopedStatement s(*conn, kRelease);
                bindText(*s, 1, owner);
                bindInt(*s, 2, nowMs);
                return static_cast<int64_t>(s->exec());
            });
        } catch (const std::exception& e) {
            return fail(sqlite::toStoreError(e));
        }
    }

    Result<std::vector<bool>, StoreError> recordOutcomes(
        std::span<const OutcomeWrite> writes) override {
        try {
            auto conn = pool_.acquire();
            return inWriteTransaction(*conn, [&] {
                OutcomeStatements stmts(*conn);
                // Receipts wait in pending_receipts only while their submit is unrecorded, so
                // the table is nearly always empty: one look for the whole transaction instead
                // of one per id form (nothing else writes while we hold the write lock).
                bool anyPending = false;
                {
                    ScopedStatement p(*conn, kAnyPending);
                    anyPending = p->executeStep();
                }
                std::vector<bool> written;
                written.reserve(writes.size());
                for (const auto& w : writes) {
                    written.push_back(writeOutcome(*conn, stmts, w, anyPending));
                }
                return written;
            });
        } catch (const std::exception& e) {
            return fail(sqlite::toStoreError(e));
        }
    }

    Result<ReceiptResult, StoreError> recordReceipt(const ReceiptWrite& w) override {
        try {
            auto conn = pool_.acquire();
            return inWriteTransaction(*conn, [&]() -> Result<ReceiptResult, StoreError> {
                ReceiptResult r = applyReceipt(*conn, w);
                if (!r.matched) {
                    ScopedStatement s(*conn, kInsertPending);
                    bindText(*s, 1, w.route);
                    bindText(*s, 2, w.smscId);
                    bindText(*s, 3, w.stat);
                    bindText(*s, 4, w.errorCode);
                    bindInt(*s, 5, w.atMs);
                    s->exec();
                }
                return r;
            });
        } catch (const std::exception& e) {
            return fail(sqlite::toStoreError(e));
        }
    }

    Result<Ok, StoreError> recordInbound(const InboundRecord& r) override {
        try {
            auto conn = pool_.acquire();
            return inWriteTransaction(*conn, [&]() -> Result<Ok, StoreError> {
                ScopedStatement s(*conn,
                                  "INSERT INTO inbound_sms (route, sender, receiver, text, at_ms) "
                                  "VALUES (?, ?, ?, ?, ?) RETURNING id");
                bindText(*s, 1, r.route);
                bindText(*s, 2, r.from);
                bindText(*s, 3, r.to);
                bindText(*s, 4, r.text);
                bindInt(*s, 5, r.atMs);
                s->executeStep();
                const int64_t id = s->getColumn(0).getInt64();
                while (s->executeStep()) {
                }
                ScopedStatement e(*conn,
                                  "INSERT INTO events (kind, recipient_id, account_id, at_ms, "
                                  "payload_json) VALUES ('reply', NULL, 0, ?, "
                                  "json_object('inboundId', ?, 'route', ?, 'phone', ?, "
                                  "'to', ?))");
                bindInt(*e, 1, r.atMs);
                bindInt(*e, 2, id);
                bindText(*e, 3, r.route);
                bindText(*e, 4, r.from);
                bindText(*e, 5, r.to);
                e->exec();
                return Ok{};
            });
        } catch (const std::exception& e) {
            return fail(sqlite::toStoreError(e));
        }
    }

    Result<std::optional<int64_t>, StoreError> nextDueAtMs() override {
        try {
            auto conn = pool_.acquire();
            ScopedStatement s(*conn,
                              "SELECT min(next_attempt_at_ms) FROM recipients "
                              "WHERE state IN ('queued', 'deferred', 'sending')");
            if (!s->executeStep() || s->getColumn(0).isNull()) return std::optional<int64_t>();
            return std::optional<int64_t>(s->getColumn(0).getInt64());
        } catch (const std::exception& e) {
            return fail(sqlite::toStoreError(e));
        }
    }

    Result<std::vector<RecipientStatus>, StoreError> statusOf(
        const std::vector<std::string>& ids) override {
        try {
            auto conn = pool_.acquire();
            std::vector<RecipientStatus> out;
            for (const auto& id : ids) {
                RecipientStatus st;
                {
                    ScopedStatement s(*conn,
                                      "SELECT r.id, r.message_id, m.kind, m.account_id, "
                                      "m.api_user_name, r.address, r.state, m.created_at_ms, "
                                      "r.updated_at_ms FROM recipients r JOIN messages m ON "
                                      "m.id = r.message_id WHERE r.id = ?");
                    bindText(*s, 1, id);
                    if (!s->executeStep()) continue;
                    st.id = columnBytes(*s, 0);
                    st.messageId = columnBytes(*s, 1);
                    st.kind = sqlite::parsedColumn(*s, 2, parseUserKind, "message kind");
                    st.accountId = s->getColumn(3).getInt64();
                    st.apiUserName = columnBytes(*s, 4);
                    st.address = columnBytes(*s, 5);
                    st.state = columnBytes(*s, 6);
                    st.createdAtMs = s->getColumn(7).getInt64();
                    st.updatedAtMs = s->getColumn(8).getInt64();
                }
                ScopedStatement a(*conn,
                                  "SELECT at_ms, outcome, remote_host, remote_ip, reply_code, "
                                  "enhanced_code, reply_text, tls_version, tls_cipher, "
                                  "smsc_message_id FROM delivery_attempts WHERE recipient_id = ? "
                                  "ORDER BY id");
                bindText(*a, 1, id);
                while (a->executeStep()) {
                    AttemptRecord r;
                    r.atMs = a->getColumn(0).getInt64();
                    r.outcome = columnBytes(*a, 1);
                    r.remoteHost = columnBytes(*a, 2);
                    r.remoteIp = columnBytes(*a, 3);
                    r.replyCode = a->getColumn(4).getInt64();
                    r.enhancedCode = columnBytes(*a, 5);
                    r.replyText = columnBytes(*a, 6);
                    r.tlsVersion = columnBytes(*a, 7);
                    r.tlsCipher = columnBytes(*a, 8);
                    r.smscMessageId = columnBytes(*a, 9);
                    st.attempts.push_back(std::move(r));
                }
                out.push_back(std::move(st));
            }
            return out;
        } catch (const std::exception& e) {
            return fail(sqlite::toStoreError(e));
        }
    }

    Result<QueueStats, StoreError> stats(int64_t nowMs) override {
        try {
            auto conn = pool_.acquire();
            QueueStats out;
            {
                ScopedStatement s(*conn, "SELECT state, count(*) FROM recipients GROUP BY state");
                while (s->executeStep()) {
                    out.recipientsByState[columnBytes(*s, 0)] = s->getColumn(1).getInt64();
                }
            }
            ScopedStatement s(*conn,
                              "SELECT count(*), min(m.created_at_ms) FROM recipients r JOIN "
                              "messages m ON m.id = r.message_id WHERE r.state IN ('queued', "
                              "'deferred') AND r.next_attempt_at_ms <= ?");
            bindInt(*s, 1, nowMs);
            if (s->executeStep()) {
                out.due = s->getColumn(0).getInt64();
                if (!s->getColumn(1).isNull()) out.oldestDueAtMs = s->getColumn(1).getInt64();
            }
            return out;
        } catch (const std::exception& e) {
            return fail(sqlite::toStoreError(e));
        }
    }

private:
    static std::string replySummary(const AttemptRecord& a) {
        std::string out;
        if (a.replyCode != 0) out.append(std::to_string(a.replyCode)).append(" ");
        if (!a.enhancedCode.empty()) out.append(a.enhancedCode).append(" ");
        out.append(a.replyText);
        return out;
    }

    // The statements of an outcome write, looked up once per transaction rather than once per
    // use (the connection's cache is keyed by the SQL text).
    struct OutcomeStatements {
        explicit OutcomeStatements(Connection& c)
            : recordState(c.statement(kRecordState)),
              recordStateByKey(c.statement(kRecordStateByKey)),
              insertAttempt(c.statement(kInsertAttempt)),
              insertEvent(c.statement(kInsertEvent)),
              insertSmscId(c.statement(kInsertSmscId)) {}
        SQLite::Statement& recordState;
        SQLite::Statement& recordStateByKey;
        SQLite::Statement& insertAttempt;
        SQLite::Statement& insertEvent;
        SQLite::Statement& insertSmscId;
    };

    // One outcome inside the caller's transaction; false (nothing written) when the recipient
    // does not exist. Text is bound without a copy: `w` outlives every statement's step.
    static bool writeOutcome(Connection& c, OutcomeStatements& stmts, const OutcomeWrite& w,
                             bool anyPending) {
        const std::string reply = replySummary(w.attempt);
        // key: the row's key (?6 of kRecordStateByKey), or none for kRecordState.
        auto recordState = [&](SQLite::Statement& stmt, std::optional<int64_t> key) {
            ScopedStatement s(stmt);
            bindTextNoCopy(*s, 1, w.recipientId);
            bindText(*s, 2, recipientStateName(w.state));
            if (w.nextAttemptAtMs) {
                bindInt(*s, 3, *w.nextAttemptAtMs);
            } else {
                bindNull(*s, 3);
            }
            bindTextNoCopy(*s, 4, reply);
            bindInt(*s, 5, w.attempt.atMs);
            if (key) bindInt(*s, 6, *key);
            return s->exec() > 0;
        };
        const bool byKey =
            w.recipientKey != 0 && recordState(stmts.recordStateByKey, w.recipientKey);
        if (!byKey && !recordState(stmts.recordState, std::nullopt)) return false;
        insertAttempt(stmts.insertAttempt, w.recipientId, w.attempt);
        if (!w.eventKind.empty()) {
            ScopedStatement s(stmts.insertEvent);
            bindTextNoCopy(*s, 1, w.eventKind);
            bindTextNoCopy(*s, 2, w.recipientId);
            bindInt(*s, 3, w.attempt.atMs);
            if (w.eventPayloadJson.empty()) {
                bindText(*s, 4, "{}");
            } else {
                bindTextNoCopy(*s, 4, w.eventPayloadJson);
            }
            if (w.accountId) {
                bindInt(*s, 5, *w.accountId);
            } else {
                bindNull(*s, 5);
            }
            s->exec();
        }
        // One row per part, under the id as the SMSC spelled it: a receipt in another spelling
        // looks its conversions up instead (ReceiptWrite::otherForms). Receipts are read once,
        // submits written at the full rate, so the conversions cost lookups, not rows.
        for (size_t part = 0; part < w.smscIdForms.size(); ++part) {
            if (w.smscIdForms[part].empty()) continue;
            ScopedStatement s(stmts.insertSmscId);
            bindTextNoCopy(*s, 1, w.route);
            bindTextNoCopy(*s, 2, w.smscIdForms[part].front());
            bindTextNoCopy(*s, 3, w.recipientId);
            bindInt(*s, 4, static_cast<int64_t>(part));
            bindInt(*s, 5, 1);
            s->exec();
        }
        if (!anyPending) return true;
        // Receipts that overtook this submit, matched now under any of the id's forms.
        for (size_t part = 0; part < w.smscIdForms.size(); ++part) {
            for (const auto& form : w.smscIdForms[part]) {
                for (auto& pending : takePending(c, w.route, form)) {
                    applyReceiptTo(c, pending, w.recipientId, static_cast<int64_t>(part));
                }
            }
        }
        return true;
    }

    static void insertAttempt(Connection& c, const std::string& recipientId,
                              const AttemptRecord& a) {
        insertAttempt(c.statement(kInsertAttempt), recipientId, a);
    }

    // `recipientId` and `a` outlive the statement's step: bound without a copy.
    static void insertAttempt(SQLite::Statement& stmt, const std::string& recipientId,
                              const AttemptRecord& a) {
        ScopedStatement s(stmt);
        bindTextNoCopy(*s, 1, recipientId);
        bindInt(*s, 2, a.atMs);
        bindTextNoCopy(*s, 3, a.outcome);
        bindTextNoCopy(*s, 4, a.remoteHost);
        bindTextNoCopy(*s, 5, a.remoteIp);
        bindInt(*s, 6, a.replyCode);
        bindTextNoCopy(*s, 7, a.enhancedCode);
        bindTextNoCopy(*s, 8, a.replyText);
        bindTextNoCopy(*s, 9, a.tlsVersion);
        bindTextNoCopy(*s, 10, a.tlsCipher);
        bindTextNoCopy(*s, 11, a.smscMessageId);
        s->exec();
    }

    static void insertEvent(Connection& c, const std::string& kind, const std::string& recipientId,
                            int64_t atMs, const std::string& payloadJson) {
        ScopedStatement s(c, kInsertEvent);
        bindText(*s, 1, kind);
        bindText(*s, 2, recipientId);
        bindInt(*s, 3, atMs);
        bindText(*s, 4, payloadJson.empty() ? std::string("{}") : payloadJson);
        s->exec();
    }

    static std::vector<ReceiptWrite> takePending(Connection& c, const std::string& route,
                                                 const std::string& smscId) {
        std::vector<std::pair<int64_t, ReceiptWrite>> found;
        {
            ScopedStatement s(c, kPendingFor);
            bindText(*s, 1, route);
            bindText(*s, 2, smscId);
            while (s->executeStep()) {
                ReceiptWrite w;
                w.route = route;
                w.smscId = columnBytes(*s, 1);
                w.stat = columnBytes(*s, 2);
                w.errorCode = columnBytes(*s, 3);
                w.atMs = s->getColumn(4).getInt64();
                found.emplace_back(s->getColumn(0).getInt64(), std::move(w));
            }
        }
        std::vector<ReceiptWrite> out;
        for (auto& [id, w] : found) {
            ScopedStatement d(c, kDeletePending);
            bindInt(*d, 1, id);
            d->exec();
            out.push_back(std::move(w));
        }
        return out;
    }

    // Marks the receipt's part and, once every part has a final receipt, the recipient's state.
    // Unmatched: answers matched = false and writes nothing (the caller keeps it as pending).
    static ReceiptResult applyReceipt(Connection& c, const ReceiptWrite& w) {
        // The receipt's own spelling first: a submit kept under it wins over one kept under a
        // conversion of it.
        auto find = [&](const std::string& form) -> std::optional<std::pair<std::string, int64_t>> {
            ScopedStatement s(c, kFindSmscId);
            bindText(*s, 1, w.route);
            bindText(*s, 2, form);
            if (!s->executeStep()) return std::nullopt;
            return std::make_pair(columnBytes(*s, 0), s->getColumn(1).getInt64());
        };
        auto target = find(w.smscId);
        for (size_t i = 0; !target && i < w.otherForms.size(); ++i) target = find(w.otherForms[i]);
        if (!target) return ReceiptResult{};
        return applyReceiptTo(c, w, target->first, target->second);
    }

    // The receipt w of part `part` of recipientId (found by its id, or the submit that matched a
    // pending receipt).
    static ReceiptResult applyReceiptTo(Connection& c, const ReceiptWrite& w,
                                        const std::string& recipientId, int64_t part) {
        ReceiptResult r;
        r.matched = true;
        r.recipientId = recipientId;
        AttemptRecord a;
        a.atMs = w.atMs;
        a.outcome = "receipt:" + w.stat;
        a.replyText = w.errorCode.empty() ? w.stat : w.stat + " err:" + w.errorCode;
        a.smscMessageId = w.smscId;
        a.remoteHost = w.route;
        insertAttempt(c, r.recipientId, a);
        if (!isFinalStat(w.stat)) return r;
        {
            ScopedStatement s(c, kSetPartStat);
            bindText(*s, 1, r.recipientId);
            bindInt(*s, 2, part);
            bindText(*s, 3, w.stat);
            s->exec();
        }
        std::optional<RecipientState> decided = RecipientState::Delivered;
        {
            ScopedStatement s(c, kPartStats);
            bindText(*s, 1, r.recipientId);
            while (s->executeStep()) {
                const std::string stat = columnBytes(*s, 1);
                if (stat.empty()) {
                    decided.reset();  // a part still waits for its receipt
                    break;
                }
                if (stat != "DELIVRD" && decided == RecipientState::Delivered) {
                    decided = stateOfFinalStat(stat);
                }
            }
        }
        if (!decided) return r;
        {
            // A recipient already final (a duplicate receipt) keeps its state.
            ScopedStatement s(c, kRecipientState);
            bindText(*s, 1, r.recipientId);
            if (!s->executeStep() || columnBytes(*s, 0) != "submitted") return r;
        }
        ScopedStatement s(c, kSetFinalState);
        bindText(*s, 1, r.recipientId);
        bindText(*s, 2, recipientStateName(*decided));
        bindInt(*s, 3, w.atMs);
        bindText(*s, 4, a.replyText);
        s->exec();
        r.newState = decided;
        // isFinalStat() admitted only known words, so the stat needs no JSON escaping.
        insertEvent(c, eventKindOf(*decided), r.recipientId, w.atMs,
                    std::string("{\"stat\":\"").append(w.stat).append("\"}"));
        return r;
    }

    sqlite::ConnectionPool pool_;
    sqlite::IntakeFirst* const intakeFirst_;  // may be null (a queue store without intake)
};

}  // namespace

std::unique_ptr<QueueStore> openSqliteQueueStore(const std::string& path, int busyTimeoutMs) {
    return std::make_unique<SqliteQueueStore>(path, busyTimeoutMs, nullptr,
                                              sqlite::ConnectionPool::OnOpen{});
}

namespace sqlite {

std::unique_ptr<QueueStore> openSqliteQueueStore(const std::string& path, int busyTimeoutMs,
                                                 IntakeFirst& intakeFirst,
                                                 ConnectionPool::OnOpen onOpen) {
    return std::make_unique<SqliteQueueStore>(path, busyTimeoutMs, &intakeFirst, std::move(onOpen));
}

}  // namespace sqlite

}  // namespace sc::store
