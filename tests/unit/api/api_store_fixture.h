#pragma once
// The api unit tests' world over the real SQLite backend in a temp dir: an account with one
// Email API_USER and one SMS_USER, a FakeClock, and the audit recorder (its rows read back after
// a flush), for the send pipeline's parts tested one at a time.

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "audit/audit_recorder.h"
#include "auth/credential_issuer.h"
#include "auth/key_material.h"
#include "auth/server_secret.h"
#include "fakes/fake_clock.h"
#include "fakes/fixed_random.h"
#include "store/sqlite/sqlite_store.h"
#include "unit/store/sqlite_test_support.h"

namespace sc::api::testing {

class ApiStoreFixture : public ::testing::Test {
protected:
    ApiStoreFixture()
        : backend_(sqliteOptions(dir_)),
          secret_(auth::ServerSecret::fromBytes(secretBytes())),
          keys_(secret_),
          issuer_(backend_.credentials(), keys_, random_, clock_, std::chrono::minutes(15)),
          recorder_(backend_.audit(), clock_, {}) {
        auto account = issuer_.createAccount("owner@acme.io");
        auto e = issuer_.createUser("acme_api", store::UserKind::Email, "owner@acme.io");
        auto s = issuer_.createUser("acme_sms", store::UserKind::Sms, "owner@acme.io");
        EXPECT_TRUE(account.ok() && e.ok() && s.ok());
        emailKey_ = e->key;
        smsKey_ = s->key;
        emailUserId_ = e->user.id;
        smsUserId_ = s->user.id;
        accountId_ = e->user.accountId;
    }
    ~ApiStoreFixture() override { backend_.messages().stop(); }

    // The authentication log, newest first; `accountId` 0 for the rows of unknown users.
    std::vector<store::AuthEvent> events(int64_t accountId) {
        EXPECT_TRUE(recorder_.flush());
        store::AuthEventQuery q;
        q.accountId = accountId;
        auto rows = backend_.audit().queryEvents(q);
        EXPECT_TRUE(rows.ok());
        std::vector<store::AuthEvent> out;
        if (rows.ok()) {
            for (auto& row : rows.value()) out.push_back(std::move(row.event));
        }
        return out;
    }

    // The usage counters of `userName`, summed over every hour.
    store::UsageRow usage(const std::string& userName) {
        EXPECT_TRUE(recorder_.flush());
        auto rows =
            backend_.audit().queryUsage(store::UsageQuery{accountId_, userName, 0, INT64_MAX});
        EXPECT_TRUE(rows.ok());
        store::UsageRow sum;
        if (rows.ok()) {
            for (const auto& r : rows.value()) {
                sum.requests += r.requests;
                sum.recipients += r.recipients;
                sum.authFailures += r.authFailures;
                sum.rateLimited += r.rateLimited;
            }
        }
        return sum;
    }

    void setPolicy(int64_t userId, const store::UserPolicy& p) {
        ASSERT_TRUE(backend_.credentials().updateUser(userId, p, false).ok());
    }

    store::test_support::TempDir dir_;
    sc::testing::FakeClock clock_;
    sc::testing::FixedRandom random_;
    store::SqliteBackend backend_;
    auth::ServerSecret secret_;
    auth::KeyMaterial keys_;
    auth::CredentialIssuer issuer_;
    audit::AuditRecorder recorder_;
    std::string emailKey_, smsKey_;
    int64_t emailUserId_ = 0, smsUserId_ = 0, accountId_ = 0;

private:
    static store::SqliteOptions sqliteOptions(const store::test_support::TempDir& dir) {
        store::SqliteOptions o;
        o.path = dir.file("sendcloud.db");
        return o;
    }
    static std::array<uint8_t, 32> secretBytes() {
        std::array<uint8_t, 32> b{};
        b[3] = 42;
        return b;
    }
};

}  // namespace sc::api::testing
