// When the store or the work pool cannot serve, the console says so (503 with Retry-After) and
// never answers a misleading "not found" or "wrong password"; an outage does not count towards
// a login lockout.

#include "unit/console/console_fixture.h"

namespace sc::console::testing {
namespace {

using M = http::Method;

// The real credential store, with reads that fail while `down` is set.
class FlakyCredentialStore final : public store::CredentialStore {
public:
    explicit FlakyCredentialStore(store::CredentialStore& real) : real_(real) {}
    bool down = false;

    Result<store::Account, store::StoreError> createAccount(std::string_view email,
                                                            int64_t nowMs) override {
        return real_.createAccount(email, nowMs);
    }
    Result<std::optional<store::Account>, store::StoreError> findAccountByEmail(
        std::string_view email) override {
        if (down) return outage();
        return real_.findAccountByEmail(email);
    }
    Result<std::optional<store::Account>, store::StoreError> findAccountById(int64_t id) override {
        if (down) return outage();
        return real_.findAccountById(id);
    }
    Result<Ok, store::StoreError> setAccountPassword(int64_t id, std::string_view hash) override {
        return real_.setAccountPassword(id, hash);
    }
    Result<store::ApiUser, store::StoreError> createUser(const store::NewApiUser& u) override {
        return real_.createUser(u);
    }
    Result<std::optional<store::ApiUser>, store::StoreError> findUser(
        std::string_view name) override {
        if (down) return outage();
        return real_.findUser(name);
    }
    Result<std::optional<store::ApiUser>, store::StoreError> findUserById(int64_t id) override {
        if (down) return outage();
        return real_.findUserById(id);
    }
    Result<std::vector<store::ApiUser>, store::StoreError> listUsers(int64_t accountId) override {
        if (down) return outage();
        return real_.listUsers(accountId);
    }
    Result<Ok, store::StoreError> setUserDisabled(std::string_view name, bool disabled) override {
        return real_.setUserDisabled(name, disabled);
    }
    Result<store::ApiUser, store::StoreError> updateUser(int64_t id, const store::UserPolicy& p,
                                                         bool disabled) override {
        return real_.updateUser(id, p, disabled);
    }
    Result<Ok, store::StoreError> deleteUser(int64_t id) override { return real_.deleteUser(id); }
    Result<store::ApiUser, store::StoreError> rotateKey(int64_t id,
                                                        const store::KeyRotation& r) override {
        return real_.rotateKey(id, r);
    }
    Result<std::optional<store::RetiredKey>, store::StoreError> findRetiredKey(
        int64_t id, std::string_view hash) override {
        return real_.findRetiredKey(id, hash);
    }
    Result<store::UserAndRetiredKey, store::StoreError> findUserAndRetiredKey(
        std::string_view name, std::string_view hash) override {
        if (down) return outage();
        return real_.findUserAndRetiredKey(name, hash);
    }
    Result<std::vector<store::RetiredKey>, store::StoreError> retiredKeys(int64_t id) override {
        if (down) return outage();
        return real_.retiredKeys(id);
    }

private:
    static Unexpected<store::StoreError> outage() {
        return fail(store::StoreError{store::StoreError::Kind::Unavailable,
                                      "database is locked (SECRET-INTERNAL-DETAIL)"});
    }
    store::CredentialStore& real_;
};

class OutageTest : public ConsoleTest {
protected:
    OutageTest() : flaky_(backend_.credentials()) {
        api_ = std::make_unique<ManagementApi>(
            ManagementDeps{flaky_, backend_.sessions(), backend_.audit(), issuer_,
                           backend_.templates(), clock_, random_, pool_},
            defaultOptions());
    }

    void expectOutage(const Reply& r) {
        EXPECT_EQ(r.status, 503) << r.body;
        EXPECT_EQ(r.code(), "console.store_unavailable");
        EXPECT_EQ(r.header("retry-after"), "1");
        EXPECT_EQ(r.body.find("SECRET-INTERNAL-DETAIL"), std::string::npos);
    }

    FlakyCredentialStore flaky_;
};

TEST_F(OutageTest, AnOutageIsA503NeverANotFound) {
    Browser a = loginA();
    createUser(a, "email-users", "alice_mail");
    flaky_.down = true;
    expectOutage(as(a, M::Get, "/console/api/email-users"));
    expectOutage(as(a, M::Get, "/console/api/email-users/alice_mail"));
    expectOutage(as(a, M::Patch, "/console/api/email-users/alice_mail", R"({"disabled":true})"));
    expectOutage(as(a, M::Delete, "/console/api/email-users/alice_mail"));
    expectOutage(as(a, M::Post, "/console/api/email-users/alice_mail/reset"));
    expectOutage(as(a, M::Get, "/console/api/session"));
    flaky_.down = false;
    Reply r = as(a, M::Get, "/console/api/email-users/alice_mail");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.info()["user"]["disabled"], false);
}

TEST_F(OutageTest, ALoginDuringAnOutageIsNotAFailedLogin) {
    flaky_.down = true;
    for (int i = 0; i < 10; ++i) expectOutage(loginReply(kEmailA, kPasswordA));
    flaky_.down = false;
    EXPECT_EQ(loginReply(kEmailA, kPasswordA).status, 200);  // not locked out by the outage
}

TEST_F(OutageTest, AFullPoolAnswersBusyAndCountsNothing) {
    WorkPool full(1, 0);  // accepts no task at all
    api_ = std::make_unique<ManagementApi>(
        ManagementDeps{flaky_, backend_.sessions(), backend_.audit(), issuer_, backend_.templates(),
                       clock_, random_, full},
        defaultOptions());
    for (int i = 0; i < 10; ++i) {
        Reply r = loginReply(kEmailA, "wrong password");
        EXPECT_EQ(r.status, 503);
        EXPECT_EQ(r.code(), "console.busy");
        EXPECT_EQ(r.header("retry-after"), "1");
    }
    api_ = std::make_unique<ManagementApi>(
        ManagementDeps{flaky_, backend_.sessions(), backend_.audit(), issuer_, backend_.templates(),
                       clock_, random_, pool_},
        defaultOptions());
    EXPECT_EQ(loginReply(kEmailA, kPasswordA).status, 200);
}

TEST_F(OutageTest, ConcurrentLoginsAllGetAnswers) {
    // Logins at once from several threads: each is answered exactly once, and guesses in flight
    // cannot push an e-mail past its threshold (5). Bob logs in meanwhile, fewer times than his
    // own threshold, since attempts in flight count against it too.
    std::vector<std::future<Reply>> replies;
    for (int i = 0; i < 12; ++i) {
        replies.push_back(std::async(std::launch::async, [this, i] {
            return i % 3 == 0 ? loginReply(kEmailB, kPasswordB, "198.51.100." + std::to_string(i))
                              : loginReply(kEmailA, "wrong password", "203.0.113.1");
        }));
    }
    int ok = 0, failed = 0, locked = 0;
    for (auto& f : replies) {
        Reply r = f.get();
        if (r.status == 200) {
            ++ok;
            EXPECT_EQ(r.info()["account"]["email"], kEmailB);
        }
        if (r.status == 401) ++failed;
        if (r.status == 429) ++locked;
    }
    EXPECT_EQ(ok, 4);
    EXPECT_LE(failed, 5);
    EXPECT_EQ(failed + locked, 8);
}

}  // namespace
}  // namespace sc::console::testing
