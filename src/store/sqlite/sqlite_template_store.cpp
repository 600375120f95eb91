#include "store/sqlite/sqlite_template_store.h"

#include <string>
#include <utility>

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

// Steps a RETURNING statement to its end, so that it has finished (and its row is no longer
// pending) before the transaction commits; answers its row, if any.
template <class Row, class Read>
std::optional<Row> stepOne(ScopedStatement& s, Read read) {
    std::optional<Row> row;
    while (s->executeStep()) {
        if (!row) row = read(*s);
    }
    return row;
}

StoreError notFound(const char* what) {
    return storeError(StoreError::Kind::NotFound, what);
}

// A create's failure: the account's foreign key means the account is gone; any other constraint
// (the unique invoke name) is a Conflict.
StoreError createError(const SQLite::Exception& e) {
    if (isForeignKeyViolation(e)) return notFound("no such account");
    return toStoreError(e);
}

}  // namespace

SqliteTemplateStore::SqliteTemplateStore(ConnectionPool& pool) : pool_(pool) {}

Result<EmailTemplate, StoreError> SqliteTemplateStore::createEmailTemplate(const EmailTemplate& t) {
    try {
        auto conn = pool_.acquire();
        return inWriteTransactionIfOk(*conn, [&]() -> Result<EmailTemplate, StoreError> {
            ScopedStatement s(*conn, kInsertEmail);
            bindInt(*s, 1, t.accountId);
            bindText(*s, 2, t.invokeName);
            bindText(*s, 3, t.name);
            bindText(*s, 4, t.subject);
            bindTextNoCopy(*s, 5, t.html);
            bindTextNoCopy(*s, 6, t.plain);
            bindInt(*s, 7, t.createdAtMs);
            bindInt(*s, 8, t.updatedAtMs);
            auto row = stepOne<EmailTemplate>(s, readEmail);
            if (!row) return fail(storeError(StoreError::Kind::Internal, "insert answered no row"));
            return std::move(*row);
        });
    } catch (const SQLite::Exception& e) {
        return fail(createError(e));
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

Result<std::optional<EmailTemplate>, StoreError> SqliteTemplateStore::findEmailTemplate(
    int64_t accountId, std::string_view invokeName) {
    try {
        auto conn = pool_.acquire();
        ScopedStatement s(*conn, kFindEmail);
        bindInt(*s, 1, accountId);
        bindText(*s, 2, invokeName);
        if (!s->executeStep()) return std::optional<EmailTemplate>();
        return std::optional<EmailTemplate>(readEmail(*s));
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

Result<std::vector<EmailTemplate>, StoreError> SqliteTemplateStore::listEmailTemplates(
    int64_t accountId) {
    try {
        auto conn = pool_.acquire();
        ScopedStatement s(*conn, kListEmail);
        bindInt(*s, 1, accountId);
        std::vector<EmailTemplate> out;
        while (s->executeStep()) out.push_back(readEmail(*s));
        return out;
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

Result<EmailTemplate, StoreError> SqliteTemplateStore::updateEmailTemplate(const EmailTemplate& t) {
    try {
        auto conn = pool_.acquire();
        return inWriteTransactionIfOk(*conn, [&]() -> Result<EmailTemplate, StoreError> {
            ScopedStatement s(*conn, kUpdateEmail);
            bindText(*s, 1, t.name);
            bindText(*s, 2, t.subject);
            bindTextNoCopy(*s, 3, t.html);
            bindTextNoCopy(*s, 4, t.plain);
            bindInt(*s, 5, t.updatedAtMs);
            bindInt(*s, 6, t.accountId);
            bindText(*s, 7, t.invokeName);
            auto row = stepOne<EmailTemplate>(s, readEmail);
            if (!row) return fail(notFound("no such email template"));
            return std::move(*row);
        });
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

Result<Ok, StoreError> SqliteTemplateStore::deleteEmailTemplate(int64_t accountId,
                                                                std::string_view invokeName) {
    try {
        auto conn = pool_.acquire();
        return inWriteTransactionIfOk(*conn, [&]() -> Result<Ok, StoreError> {
            ScopedStatement s(*conn, kDeleteEmail);
            bindInt(*s, 1, accountId);
            bindText(*s, 2, invokeName);
            if (s->exec() == 0) return fail(notFound("no such email template"));
            return Ok{};
        });
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

Result<SmsTemplate, StoreError> SqliteTemplateStore::createSmsTemplate(const SmsTemplate& t) {
    try {
        auto conn = pool_.acquire();
        return inWriteTransactionIfOk(*conn, [&]() -> Result<SmsTemplate, StoreError> {
            ScopedStatement s(*conn, kInsertSms);
            bindInt(*s, 1, t.accountId);
            bindText(*s, 2, t.name);
            bindText(*s, 3, t.text);
            bindInt(*s, 4, t.createdAtMs);
            bindInt(*s, 5, t.updatedAtMs);
            auto row = stepOne<SmsTemplate>(s, readSms);
            if (!row) return fail(storeError(StoreError::Kind::Internal, "insert answered no row"));
            return std::move(*row);
        });
    } catch (const SQLite::Exception& e) {
        return fail(createError(e));
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

Result<std::optional<SmsTemplate>, StoreError> SqliteTemplateStore::findSmsTemplate(
    int64_t accountId, int64_t id) {
    try {
        auto conn = pool_.acquire();
        ScopedStatement s(*conn, kFindSms);
        bindInt(*s, 1, accountId);
        bindInt(*s, 2, id);
        if (!s->executeStep()) return std::optional<SmsTemplate>();
        return std::optional<SmsTemplate>(readSms(*s));
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

Result<std::vector<SmsTemplate>, StoreError> SqliteTemplateStore::listSmsTemplates(
    int64_t accountId) {
    try {
        auto conn = pool_.acquire();
        ScopedStatement s(*conn, kListSms);
        bindInt(*s, 1, accountId);
        std::vector<SmsTemplate> out;
        while (s->executeStep()) out.push_back(readSms(*s));
        return out;
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

Result<SmsTemplate, StoreError> SqliteTemplateStore::updateSmsTemplate(const SmsTemplate& t) {
    try {
        auto conn = pool_.acquire();
        return inWriteTransactionIfOk(*conn, [&]() -> Result<SmsTemplate, StoreError> {
            ScopedStatement s(*conn, kUpdateSms);
            bindText(*s, 1, t.name);
            bindText(*s, 2, t.text);
            bindInt(*s, 3, t.updatedAtMs);
            bindInt(*s, 4, t.accountId);
            bindInt(*s, 5, t.id);
            auto row = stepOne<SmsTemplate>(s, readSms);
            if (!row) return fail(notFound("no such SMS template"));
            return std::move(*row);
        });
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

Result<Ok, StoreError> SqliteTemplateStore::deleteSmsTemplate(int64_t accountId, int64_t id) {
    try {
        auto conn = pool_.acquire();
        return inWriteTransactionIfOk(*conn, [&]() -> Result<Ok, StoreError> {
            ScopedStatement s(*conn, kDeleteSms);
            bindInt(*s, 1, accountId);
            bindInt(*s, 2, id);
            if (s->exec() == 0) return fail(notFound("no such SMS template"));
            return Ok{};
        });
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

}  // namespace sc::store::sqlite
