#include "store/sqlite/sqlite_template_store.h"

#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace sc::store::sqlite {

namespace {

// Every query that answers email templates selects these columns, in readEmail()'s order.
#define SC_EMAIL_COLUMNS \
    "id, account_id, invoke_name, name, subject, html, plain, created_at_ms, updated_at_ms"
constexpr const char* kInsertEmail =
    "INSERT INTO email_templates (account_id, invoke_name, name, subject, html, plain, "
    "created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING " SC_EMAIL_COLUMNS;
constexpr const char* kFindEmail =
    "SELECT " SC_EMAIL_COLUMNS " FROM email_templates WHERE account_id = ? AND invoke_name = ?";
constexpr const char* kListEmail =
    "SELECT " SC_EMAIL_COLUMNS " FROM email_templates WHERE account_id = ? ORDER BY invoke_name";
constexpr const char* kUpdateEmail =
    "UPDATE email_templates SET name = ?, subject = ?, html = ?, plain = ?, updated_at_ms = ? "
    "WHERE account_id = ? AND invoke_name = ? RETURNING " SC_EMAIL_COLUMNS;
constexpr const char* kDeleteEmail =
    "DELETE FROM email_templates WHERE account_id = ? AND invoke_name = ?";
#undef SC_EMAIL_COLUMNS

#define SC_SMS_COLUMNS "id, account_id, name, text, created_at_ms, updated_at_ms"
constexpr const char* kInsertSms =
    "INSERT INTO sms_templates (account_id, name, text, created_at_ms, updated_at_ms) "
    "VALUES (?, ?, ?, ?, ?) RETURNING " SC_SMS_COLUMNS;
constexpr const char* kFindSms =
    "SELECT " SC_SMS_COLUMNS " FROM sms_templates WHERE account_id = ? AND id = ?";
constexpr const char* kListSms =
    "SELECT " SC_SMS_COLUMNS " FROM sms_templates WHERE account_id = ? ORDER BY id";
constexpr const char* kUpdateSms =
    "UPDATE sms_templates SET name = ?, text = ?, updated_at_ms = ? "
    "WHERE account_id = ? AND id = ? RETURNING " SC_SMS_COLUMNS;
constexpr const char* kDeleteSms = "DELETE FROM sms_templates WHERE account_id = ? AND id = ?";
#undef SC_SMS_COLUMNS

EmailTemplate readEmail(const SQLite::Statement& s) {
    EmailTemplate t;
    t.id = s.getColumn(0).getInt64();
    t.accountId = s.getColumn(1).getInt64();
    t.invokeName = columnBytes(s, 2);
    t.name = columnBytes(s, 3);
    t.subject = columnBytes(s, 4);
    t.html = columnBytes(s, 5);
    t.plain = columnBytes(s, 6);
    t.createdAtMs = s.getColumn(7).getInt64();
    t.updatedAtMs = s.getColumn(8).getInt64();
    return t;
}

SmsTemplate readSms(const SQLite::Statement& s) {
    SmsTemplate t;
    t.id = s.getColumn(0).getInt64();
    t.accountId = s.getColumn(1).getInt64();
    t.name = columnBytes(s, 2);
    t.text = columnBytes(s, 3);
    t.createdAtMs = s.getColumn(4).getInt64();
    t.updatedAtMs = s.getColumn(5).getInt64();
    return t;
}

StoreError notFound(const char* what) {
    return storeError(StoreError::Kind::NotFound, what);
}

// The shapes every call of both halves (email by invoke name, SMS by id) takes. `bind` sets a
// statement's parameters, `read` turns a row into a template.

// An INSERT or UPDATE ... RETURNING in a write transaction: the row it wrote, or `missing` when
// it wrote none. The statement is stepped to its end, so that it has finished (and its row is
// no longer pending) before the transaction commits.
template <class Row, class Bind>
Result<Row, StoreError> writeOne(ConnectionPool& pool, const char* sql, Bind bind,
                                 Row (*read)(const SQLite::Statement&), StoreError missing) {
    try {
        auto conn = pool.acquire();
        return inWriteTransactionIfOk(*conn, [&]() -> Result<Row, StoreError> {
            ScopedStatement s(*conn, sql);
            bind(*s);
            std::optional<Row> row;
            while (s->executeStep()) {
                if (!row) row = read(*s);
            }
            if (!row) return fail(std::move(missing));
            return std::move(*row);
        });
    } catch (const SQLite::Exception& e) {
        // Only an insert can break the account's foreign key: the account is gone. Any other
        // constraint (the unique invoke name) is a Conflict.
        if (isForeignKeyViolation(e)) return fail(notFound("no such account"));
        return fail(toStoreError(e));
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

// Every row the query answers (the first when `first`).
template <class Row, class Bind>
Result<std::vector<Row>, StoreError> readRows(ConnectionPool& pool, const char* sql, Bind bind,
                                              Row (*read)(const SQLite::Statement&),
                                              bool first = false) {
    try {
        auto conn = pool.acquire();
        ScopedStatement s(*conn, sql);
        bind(*s);
        std::vector<Row> out;
        while ((!first || out.empty()) && s->executeStep()) out.push_back(read(*s));
        return out;
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

template <class Row, class Bind>
Result<std::optional<Row>, StoreError> readOne(ConnectionPool& pool, const char* sql, Bind bind,
                                               Row (*read)(const SQLite::Statement&)) {
    auto rows = readRows(pool, sql, bind, read, /*first=*/true);
    if (!rows) return fail(std::move(rows).error());
    if (rows->empty()) return std::optional<Row>();
    return std::optional<Row>(std::move(rows->front()));
}

// A DELETE in a write transaction; `missing` when it deleted nothing.
template <class Bind>
Result<Ok, StoreError> deleteOne(ConnectionPool& pool, const char* sql, Bind bind,
                                 StoreError missing) {
    try {
        auto conn = pool.acquire();
        return inWriteTransactionIfOk(*conn, [&]() -> Result<Ok, StoreError> {
            ScopedStatement s(*conn, sql);
            bind(*s);
            if (s->exec() == 0) return fail(std::move(missing));
            return Ok{};
        });
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

StoreError noRowInserted() {
    return storeError(StoreError::Kind::Internal, "insert answered no row");
}

// Binds (account id, key), the parameters of every query that names one template.
template <class Key>
auto byKey(int64_t accountId, Key key) {
    return [accountId, key](SQLite::Statement& s) {
        bindInt(s, 1, accountId);
        if constexpr (std::is_same_v<Key, int64_t>) {
            bindInt(s, 2, key);
        } else {
            bindText(s, 2, key);
        }
    };
}

}  // namespace

SqliteTemplateStore::SqliteTemplateStore(ConnectionPool& pool) : pool_(pool) {}

Result<EmailTemplate, StoreError> SqliteTemplateStore::createEmailTemplate(const EmailTemplate& t) {
    auto bind = [&t](SQLite::Statement& s) {
        bindInt(s, 1, t.accountId);
        bindText(s, 2, t.invokeName);
        bindText(s, 3, t.name);
        bindText(s, 4, t.subject);
        bindTextNoCopy(s, 5, t.html);
        bindTextNoCopy(s, 6, t.plain);
        bindInt(s, 7, t.createdAtMs);
        bindInt(s, 8, t.updatedAtMs);
    };
    return writeOne(pool_, kInsertEmail, bind, readEmail, noRowInserted());
}

Result<std::optional<EmailTemplate>, StoreError> SqliteTemplateStore::findEmailTemplate(
    int64_t accountId, std::string_view invokeName) {
    return readOne(pool_, kFindEmail, byKey(accountId, invokeName), readEmail);
}

Result<std::vector<EmailTemplate>, StoreError> SqliteTemplateStore::listEmailTemplates(
    int64_t accountId) {
    return readRows(
        pool_, kListEmail, [accountId](SQLite::Statement& s) { bindInt(s, 1, accountId); },
        readEmail);
}

Result<EmailTemplate, StoreError> SqliteTemplateStore::updateEmailTemplate(const EmailTemplate& t) {
    auto bind = [&t](SQLite::Statement& s) {
        bindText(s, 1, t.name);
        bindText(s, 2, t.subject);
        bindTextNoCopy(s, 3, t.html);
        bindTextNoCopy(s, 4, t.plain);
        bindInt(s, 5, t.updatedAtMs);
        bindInt(s, 6, t.accountId);
        bindText(s, 7, t.invokeName);
    };
    return writeOne(pool_, kUpdateEmail, bind, readEmail, notFound("no such email template"));
}

Result<Ok, StoreError> SqliteTemplateStore::deleteEmailTemplate(int64_t accountId,
                                                                std::string_view invokeName) {
    return deleteOne(pool_, kDeleteEmail, byKey(accountId, invokeName),
                     notFound("no such email template"));
}

Result<SmsTemplate, StoreError> SqliteTemplateStore::createSmsTemplate(const SmsTemplate& t) {
    auto bind = [&t](SQLite::Statement& s) {
        bindInt(s, 1, t.accountId);
        bindText(s, 2, t.name);
        bindText(s, 3, t.text);
        bindInt(s, 4, t.createdAtMs);
        bindInt(s, 5, t.updatedAtMs);
    };
    return writeOne(pool_, kInsertSms, bind, readSms, noRowInserted());
}

Result<std::optional<SmsTemplate>, StoreError> SqliteTemplateStore::findSmsTemplate(
    int64_t accountId, int64_t id) {
    return readOne(pool_, kFindSms, byKey(accountId, id), readSms);
}

Result<std::vector<SmsTemplate>, StoreError> SqliteTemplateStore::listSmsTemplates(
    int64_t accountId) {
    return readRows(
        pool_, kListSms, [accountId](SQLite::Statement& s) { bindInt(s, 1, accountId); }, readSms);
}

Result<SmsTemplate, StoreError> SqliteTemplateStore::updateSmsTemplate(const SmsTemplate& t) {
    auto bind = [&t](SQLite::Statement& s) {
        bindText(s, 1, t.name);
        bindText(s, 2, t.text);
        bindInt(s, 3, t.updatedAtMs);
        bindInt(s, 4, t.accountId);
        bindInt(s, 5, t.id);
    };
    return writeOne(pool_, kUpdateSms, bind, readSms, notFound("no such SMS template"));
}

Result<Ok, StoreError> SqliteTemplateStore::deleteSmsTemplate(int64_t accountId, int64_t id) {
    return deleteOne(pool_, kDeleteSms, byKey(accountId, id), notFound("no such SMS template"));
}

}  // namespace sc::store::sqlite
