#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store/sqlite/sqlite_store.h"
#include "unit/store/sqlite_test_support.h"

namespace sc::store {
namespace {

using test_support::countRows;
using test_support::must;
using test_support::TempDir;

EmailTemplate emailTemplate(int64_t accountId, const std::string& invokeName,
                            const std::string& tag = "v1") {
    EmailTemplate t;
    t.accountId = accountId;
    t.invokeName = invokeName;
    t.name = test_support::cat("Name ", tag);
    t.subject = test_support::cat("Subject %name% ", tag);
    t.html = test_support::cat("<p>Hello %name%</p>\n<p>\xc3\xa9t\xc3\xa9 ", tag, "</p>");
    t.plain = test_support::cat("Hello %name% ", tag);
    t.createdAtMs = 1000;
    t.updatedAtMs = 1000;
    return t;
}

SmsTemplate smsTemplate(int64_t accountId, const std::string& text) {
    SmsTemplate t;
    t.accountId = accountId;
    t.name = test_support::cat("sms ", text);
    t.text = text;
    t.createdAtMs = 2000;
    t.updatedAtMs = 2000;
    return t;
}

class SqliteTemplateStoreTest : public ::testing::Test {
protected:
    SqliteTemplateStoreTest()
        : backend_(options()),
          store_(backend_.templates()),
          a_(must(backend_.credentials().createAccount("a@example.com", 1)).id),
          b_(must(backend_.credentials().createAccount("b@example.com", 1)).id) {}

    SqliteOptions options() const {
        SqliteOptions o;
        o.path = dir_.file("sendcloud.db");
        return o;
    }

    // Accounts have no delete in the CredentialStore interface; an operator would use SQL.
    void deleteAccountWithSql(int64_t id) {
        SQLite::Database raw(options().path, SQLite::OPEN_READWRITE);
        raw.exec("PRAGMA foreign_keys=ON");
        SQLite::Statement del(raw, "DELETE FROM accounts WHERE id = ?");
        del.bind(1, id);
        ASSERT_EQ(del.exec(), 1);
    }

    TempDir dir_;
    SqliteBackend backend_;
    TemplateStore& store_;
    const int64_t a_;
    const int64_t b_;
};

void expectSameEmail(const EmailTemplate& got, const EmailTemplate& want) {
    EXPECT_EQ(got.id, want.id);
    EXPECT_EQ(got.accountId, want.accountId);
    EXPECT_EQ(got.invokeName, want.invokeName);
    EXPECT_EQ(got.name, want.name);
    EXPECT_EQ(got.subject, want.subject);
    EXPECT_EQ(got.html, want.html);
    EXPECT_EQ(got.plain, want.plain);
    EXPECT_EQ(got.createdAtMs, want.createdAtMs);
    EXPECT_EQ(got.updatedAtMs, want.updatedAtMs);
}

TEST_F(SqliteTemplateStoreTest, EmailTemplateCreateFindUpdateDelete) {
    EmailTemplate want = emailTemplate(a_, "welcome");
    want.plain = "";  // an HTML-only template
    const EmailTemplate created = must(store_.createEmailTemplate(want));
    EXPECT_GT(created.id, 0);
    want.id = created.id;
    expectSameEmail(created, want);

    auto found = must(store_.findEmailTemplate(a_, "welcome"));
    ASSERT_TRUE(found.has_value());
    expectSameEmail(*found, want);
    EXPECT_FALSE(must(store_.findEmailTemplate(a_, "Welcome")).has_value());
    EXPECT_FALSE(must(store_.findEmailTemplate(a_, "nope")).has_value());

    // The update replaces the content and updatedAtMs; id and createdAtMs stay.
    EmailTemplate change = emailTemplate(a_, "welcome", "v2");
    change.id = 999;
    change.createdAtMs = 5;
    change.updatedAtMs = 3000;
    const EmailTemplate updated = must(store_.updateEmailTemplate(change));
    EmailTemplate afterUpdate = emailTemplate(a_, "welcome", "v2");
    afterUpdate.id = created.id;
    afterUpdate.updatedAtMs = 3000;
    expectSameEmail(updated, afterUpdate);
    expectSameEmail(*must(store_.findEmailTemplate(a_, "welcome")), afterUpdate);

    ASSERT_TRUE(store_.deleteEmailTemplate(a_, "welcome").ok());
    EXPECT_FALSE(must(store_.findEmailTemplate(a_, "welcome")).has_value());
    auto again = store_.deleteEmailTemplate(a_, "welcome");
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().kind, StoreError::Kind::NotFound);
    auto missing = store_.updateEmailTemplate(change);
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().kind, StoreError::Kind::NotFound);
    EXPECT_EQ(countRows(options().path, "email_templates"), 0);
}

TEST_F(SqliteTemplateStoreTest, EmailTemplatesAreListedByInvokeName) {
    for (const char* n : {"order_shipped", "Welcome", "abandoned_cart", "welcome"}) {
        must(store_.createEmailTemplate(emailTemplate(a_, n)));
    }
    must(store_.createEmailTemplate(emailTemplate(b_, "b_only")));
    std::vector<std::string> names;
    for (const auto& t : must(store_.listEmailTemplates(a_))) names.push_back(t.invokeName);
    EXPECT_EQ(names,
              (std::vector<std::string>{"Welcome", "abandoned_cart", "order_shipped", "welcome"}));
    EXPECT_TRUE(must(store_.listEmailTemplates(b_ + 100)).empty());
}

TEST_F(SqliteTemplateStoreTest, DuplicateInvokeNameConflictsWithinAnAccountOnly) {
    const EmailTemplate first = must(store_.createEmailTemplate(emailTemplate(a_, "welcome")));
    auto dup = store_.createEmailTemplate(emailTemplate(a_, "welcome", "v2"));
    ASSERT_FALSE(dup.ok());
    EXPECT_EQ(dup.error().kind, StoreError::Kind::Conflict);
    expectSameEmail(*must(store_.findEmailTemplate(a_, "welcome")), first);

    // Another account may use the same name.
    const EmailTemplate other = must(store_.createEmailTemplate(emailTemplate(b_, "welcome")));
    EXPECT_NE(other.id, first.id);
    EXPECT_EQ(must(store_.findEmailTemplate(b_, "welcome"))->id, other.id);
    EXPECT_EQ(must(store_.findEmailTemplate(a_, "welcome"))->id, first.id);
}

TEST_F(SqliteTemplateStoreTest, AnotherAccountsEmailTemplateIsNotFound) {
    const EmailTemplate mine = must(store_.createEmailTemplate(emailTemplate(a_, "private")));

    EXPECT_FALSE(must(store_.findEmailTemplate(b_, "private")).has_value());
    EXPECT_TRUE(must(store_.listEmailTemplates(b_)).empty());
    EmailTemplate hijack = emailTemplate(b_, "private", "evil");
    auto upd = store_.updateEmailTemplate(hijack);
    ASSERT_FALSE(upd.ok());
    EXPECT_EQ(upd.error().kind, StoreError::Kind::NotFound);
    auto del = store_.deleteEmailTemplate(b_, "private");
    ASSERT_FALSE(del.ok());
    EXPECT_EQ(del.error().kind, StoreError::Kind::NotFound);

    expectSameEmail(*must(store_.findEmailTemplate(a_, "private")), mine);
}

TEST_F(SqliteTemplateStoreTest, SmsTemplateCreateFindUpdateDelete) {
    const SmsTemplate first = must(store_.createSmsTemplate(smsTemplate(a_, "Code %code%")));
    const SmsTemplate second = must(store_.createSmsTemplate(smsTemplate(a_, "Hi %name%")));
    EXPECT_GT(first.id, 0);
    EXPECT_GT(second.id, first.id);
    EXPECT_EQ(first.accountId, a_);
    EXPECT_EQ(first.name, "sms Code %code%");
    EXPECT_EQ(first.text, "Code %code%");
    EXPECT_EQ(first.createdAtMs, 2000);
    EXPECT_EQ(first.updatedAtMs, 2000);

    auto found = must(store_.findSmsTemplate(a_, second.id));
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->text, "Hi %name%");
    EXPECT_FALSE(must(store_.findSmsTemplate(a_, second.id + 1)).has_value());

    SmsTemplate change = second;
    change.name = "greeting";
    change.text = "Hello %name%, \xe4\xbd\xa0\xe5\xa5\xbd";
    change.createdAtMs = 1;
    change.updatedAtMs = 4000;
    const SmsTemplate updated = must(store_.updateSmsTemplate(change));
    EXPECT_EQ(updated.id, second.id);
    EXPECT_EQ(updated.name, "greeting");
    EXPECT_EQ(updated.text, change.text);
    EXPECT_EQ(updated.createdAtMs, 2000);
    EXPECT_EQ(updated.updatedAtMs, 4000);
    EXPECT_EQ(must(store_.findSmsTemplate(a_, second.id))->text, change.text);

    ASSERT_TRUE(store_.deleteSmsTemplate(a_, second.id).ok());
    EXPECT_FALSE(must(store_.findSmsTemplate(a_, second.id)).has_value());
    auto again = store_.deleteSmsTemplate(a_, second.id);
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().kind, StoreError::Kind::NotFound);
    auto missing = store_.updateSmsTemplate(change);
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().kind, StoreError::Kind::NotFound);

    // The deleted (largest) id is never handed out again: a client still sending it must not
    // reach a newer template.
    EXPECT_GT(must(store_.createSmsTemplate(smsTemplate(a_, "new"))).id, second.id);
}

TEST_F(SqliteTemplateStoreTest, SmsTemplatesAreListedByIdAndScopedToTheAccount) {
    std::vector<int64_t> mine;
    for (const char* text : {"z", "a", "m"}) {
        mine.push_back(must(store_.createSmsTemplate(smsTemplate(a_, text))).id);
        must(store_.createSmsTemplate(smsTemplate(b_, text)));
    }
    std::vector<int64_t> listed;
    for (const auto& t : must(store_.listSmsTemplates(a_))) {
        EXPECT_EQ(t.accountId, a_);
        listed.push_back(t.id);
    }
    EXPECT_EQ(listed, mine);

    // Another account's id is NotFound for everything.
    const int64_t id = mine[0];
    EXPECT_FALSE(must(store_.findSmsTemplate(b_, id)).has_value());
    SmsTemplate hijack = smsTemplate(b_, "evil");
    hijack.id = id;
    auto upd = store_.updateSmsTemplate(hijack);
    ASSERT_FALSE(upd.ok());
    EXPECT_EQ(upd.error().kind, StoreError::Kind::NotFound);
    auto del = store_.deleteSmsTemplate(b_, id);
    ASSERT_FALSE(del.ok());
    EXPECT_EQ(del.error().kind, StoreError::Kind::NotFound);
    EXPECT_EQ(must(store_.findSmsTemplate(a_, id))->text, "z");
    EXPECT_EQ(must(store_.listSmsTemplates(b_)).size(), 3u);
}

TEST_F(SqliteTemplateStoreTest, CreatingForAMissingAccountIsNotFound) {
    auto e = store_.createEmailTemplate(emailTemplate(b_ + 100, "x"));
    ASSERT_FALSE(e.ok());
    EXPECT_EQ(e.error().kind, StoreError::Kind::NotFound);
    auto s = store_.createSmsTemplate(smsTemplate(b_ + 100, "x"));
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().kind, StoreError::Kind::NotFound);
    EXPECT_EQ(countRows(options().path, "email_templates"), 0);
    EXPECT_EQ(countRows(options().path, "sms_templates"), 0);
}

TEST_F(SqliteTemplateStoreTest, DeletingAnAccountDeletesItsTemplates) {
    must(store_.createEmailTemplate(emailTemplate(a_, "welcome")));
    must(store_.createEmailTemplate(emailTemplate(a_, "bye")));
    const int64_t smsA = must(store_.createSmsTemplate(smsTemplate(a_, "a"))).id;
    must(store_.createEmailTemplate(emailTemplate(b_, "welcome")));
    const int64_t smsB = must(store_.createSmsTemplate(smsTemplate(b_, "b"))).id;

    deleteAccountWithSql(a_);

    EXPECT_TRUE(must(store_.listEmailTemplates(a_)).empty());
    EXPECT_TRUE(must(store_.listSmsTemplates(a_)).empty());
    EXPECT_FALSE(must(store_.findSmsTemplate(a_, smsA)).has_value());
    EXPECT_EQ(countRows(options().path, "email_templates"), 1);
    EXPECT_EQ(countRows(options().path, "sms_templates"), 1);
    EXPECT_TRUE(must(store_.findEmailTemplate(b_, "welcome")).has_value());
    EXPECT_TRUE(must(store_.findSmsTemplate(b_, smsB)).has_value());
}

}  // namespace
}  // namespace sc::store
