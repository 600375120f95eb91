#pragma once
// TemplateStore on SQLite. Every query is scoped by account_id, so another account's template
// is simply not found. Like the other stores, each call borrows a pooled connection and reads
// the file afresh.

#include "store/sqlite/connection.h"
#include "store/template_store.h"

namespace sc::store::sqlite {

class SqliteTemplateStore final : public TemplateStore {
public:
    explicit SqliteTemplateStore(ConnectionPool& pool);

    // NotFound when the account does not exist.
    Result<EmailTemplate, StoreError> createEmailTemplate(const EmailTemplate& t) override;
    Result<std::optional<EmailTemplate>, StoreError> findEmailTemplate(
        int64_t accountId, std::string_view invokeName) override;
    Result<std::vector<EmailTemplate>, StoreError> listEmailTemplates(int64_t accountId) override;
    Result<EmailTemplate, StoreError> updateEmailTemplate(const EmailTemplate& t) override;
    Result<Ok, StoreError> deleteEmailTemplate(int64_t accountId,
                                               std::string_view invokeName) override;

    // NotFound when the account does not exist.
    Result<SmsTemplate, StoreError> createSmsTemplate(const SmsTemplate& t) override;
    Result<std::optional<SmsTemplate>, StoreError> findSmsTemplate(int64_t accountId,
                                                                   int64_t id) override;
    Result<std::vector<SmsTemplate>, StoreError> listSmsTemplates(int64_t accountId) override;
    Result<SmsTemplate, StoreError> updateSmsTemplate(const SmsTemplate& t) override;
    Result<Ok, StoreError> deleteSmsTemplate(int64_t accountId, int64_t id) override;

private:
    ConnectionPool& pool_;
};

}  // namespace sc::store::sqlite
