#pragma once
// TemplateStore: an account's email templates (sent by invokeName through the template-send
// paths) and SMS templates (sent by id as signed SMS requests' templateId). Every call is scoped
// to an account: another account's template is NotFound, never visible.

#include <optional>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "store/records.h"

namespace sc::store {

class TemplateStore {
public:
    virtual ~TemplateStore() = default;

    // Conflict when the account already has this invokeName.
    virtual Result<EmailTemplate, StoreError> createEmailTemplate(const EmailTemplate& t) = 0;
    virtual Result<std::optional<EmailTemplate>, StoreError> findEmailTemplate(
        int64_t accountId, std::string_view invokeName) = 0;
    // Ordered by invokeName.
    virtual Result<std::vector<EmailTemplate>, StoreError> listEmailTemplates(
        int64_t accountId) = 0;
    // Replaces name, subject, html, plain and updatedAtMs of (t.accountId, t.invokeName).
    // NotFound when there is none.
    virtual Result<EmailTemplate, StoreError> updateEmailTemplate(const EmailTemplate& t) = 0;
    virtual Result<Ok, StoreError> deleteEmailTemplate(int64_t accountId,
                                                       std::string_view invokeName) = 0;

    // Assigns the id.
    virtual Result<SmsTemplate, StoreError> createSmsTemplate(const SmsTemplate& t) = 0;
    virtual Result<std::optional<SmsTemplate>, StoreError> findSmsTemplate(int64_t accountId,
                                                                           int64_t id) = 0;
    // Ordered by id.
    virtual Result<std::vector<SmsTemplate>, StoreError> listSmsTemplates(int64_t accountId) = 0;
    // Replaces name, text and updatedAtMs of (t.accountId, t.id). NotFound when there is none.
    virtual Result<SmsTemplate, StoreError> updateSmsTemplate(const SmsTemplate& t) = 0;
    virtual Result<Ok, StoreError> deleteSmsTemplate(int64_t accountId, int64_t id) = 0;
};

}  // namespace sc::store
