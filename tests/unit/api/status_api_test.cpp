// The status APIs against a real SQLite queue store in a temporary directory: states and attempt
// logs as written by recordOutcome, owner-only reads (another account's id reads exactly as an
// unknown one), id limits, SendCloud's paging and its unsupported selectors.

#include "api/status_handlers.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "../store/sqlite_test_support.h"
#include "store/queue_store.h"

namespace sc::api {
namespace {

using namespace store;
using namespace store::test_support;

constexpr int64_t kT0 = 1795827000000;  // 2026-11-28 00:50:00 UTC

class StatusApiTest : public ::testing::Test {
protected:
    StatusApiTest() {
        SqliteOptions o;
        o.path = dir_.file("sc.db");
        backend_ = std::make_unique<SqliteBackend>(o);
        queue_ = openSqliteQueueStore(o.path);
        // Authentication is SendApi's (tested in send_api_test); here a user name stands for its
        // account: acme → 7, rival → 8.
        auto authenticate =
            [](const SendRoute&,
               const http::Request& req) -> Result<AuthenticatedRequest, http::Response> {
            auto form = http::parseRequestParams(req, http::ParseLimits{});
            if (!form) return fail(errorResponse(ApiError{400, "param.bad", "", {}}));
            auto user = form.value().params.get("apiUser").value_or(
                form.value().params.get("smsUser").value_or(""));
            AuthenticatedRequest a;
            a.form = std::move(form).value();
            if (user == "acme") {
                a.ctx.accountId = 7;
            } else if (user == "rival") {
                a.ctx.accountId = 8;
            } else {
                return fail(errorResponse(ApiError{401, "auth.failed", "", {}}));
            }
            a.ctx.userName = std::string(user);
            return a;
        };
        api_ = std::make_unique<StatusApi>(
            authenticate,
            [this](const std::vector<std::string>& ids) { return queue_->statusOf(ids); });
    }

    void enqueue(const std::string& id, int n, UserKind kind) {
        NewMessage m;
        m.messageId = id;
        m.kind = kind;
        m.accountId = 7;
        m.apiUserId = 3;
        m.apiUserName = "acme";
        m.createdAtMs = kT0;
        m.contentJson = R"({"subject":"s"})";
        for (int i = 0; i < n; ++i) {
            m.recipients.push_back(recipient(recipientId(id, i),
                                             kind == UserKind::Sms
                                                 ? cat("1380000000", std::to_string(i))
                                                 : cat("u", std::to_string(i), "@x.io"),
                                             store::RecipientRole::To));
        }
        must(enqueueAndWait(backend_->messages(), std::move(m)));
    }

    void record(const std::string& id, RecipientState s, int64_t at, int64_t code) {
        OutcomeWrite w;
        w.recipientId = id;
        w.state = s;
        if (s == RecipientState::Deferred) w.nextAttemptAtMs = at + 60000;
        w.attempt.atMs = at;
        w.attempt.outcome = std::string(recipientStateName(s));
        w.attempt.remoteHost = "mx.x.io";
        w.attempt.replyCode = code;
        w.attempt.replyText = "<b>ok</b>";
        w.eventKind = "deliver";
        must(queue_->recordOutcome(w));
    }

    http::Response call(const std::string& path, const std::string& query) {
        http::Request req;
        req.method = http::Method::Get;
        req.path = path;
        req.query = query;
        req.target = path + "?" + query;
        req.clientIp = "127.0.0.1";
        std::optional<http::Response> got;
        http::Responder reply([&got](http::Response r) { got = std::move(r); });
        if (path == "/email/status") api_->emailStatus(req, reply);
        if (path == "/smsapi/status") api_->smsStatus(req, reply);
        if (path == "/apiv2/data/emailStatus") api_->emailStatusQuery(req, reply);
        if (path == "/smsapi/status/query") api_->smsStatusQuery(req, reply);
        EXPECT_TRUE(got.has_value());
        return got.value_or(http::Response{});
    }

    static nlohmann::json body(const http::Response& r) { return nlohmann::json::parse(r.body); }

    TempDir dir_;
    std::unique_ptr<SqliteBackend> backend_;
    std::unique_ptr<QueueStore> queue_;
    std::unique_ptr<StatusApi> api_;
};

TEST(StatusTimeTest, SendCloudFormatInUtc) {
    EXPECT_EQ(formatStatusTime(0), "1970-01-01 00:00:00");
    EXPECT_EQ(formatStatusTime(1795827000999), "2026-11-28 00:50:00");
}

TEST_F(StatusApiTest, EmailStatusGivesStateAndAttemptLogOldestFirst) {
    enqueue("m1", 2, UserKind::Email);
    const auto id = recipientId("m1", 0);
    record(id, RecipientState::Deferred, kT0 + 1000, 451);
    record(id, RecipientState::Delivered, kT0 + 61000, 250);

    auto r = call("/email/status", "apiUser=acme&emailId=" + id + ";" + recipientId("m1", 1));
    ASSERT_EQ(r.status, 200) << r.body;
    auto list = body(r)["info"]["voList"];
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0]["emailId"], id);
    EXPECT_EQ(list[0]["recipient"], "u0@x.io");
    EXPECT_EQ(list[0]["status"], "delivered");
    EXPECT_EQ(list[0]["requestTime"], formatStatusTime(kT0));
    EXPECT_EQ(list[0]["modifiedTime"], formatStatusTime(kT0 + 61000));
    ASSERT_EQ(list[0]["sendLog"].size(), 2u);
    EXPECT_EQ(list[0]["sendLog"][0]["replyCode"], 451);
    EXPECT_EQ(list[0]["sendLog"][0]["outcome"], "deferred");
    EXPECT_EQ(list[0]["sendLog"][1]["replyCode"], 250);
    EXPECT_EQ(list[0]["sendLog"][1]["host"], "mx.x.io");
    EXPECT_EQ(list[1]["status"], "queued");
    EXPECT_TRUE(list[1]["sendLog"].empty());
}

TEST_F(StatusApiTest, AnotherAccountsIdReadsExactlyAsAnUnknownOne) {
    enqueue("m1", 1, UserKind::Email);
    const auto id = recipientId("m1", 0);
    auto theirs = call("/email/status", "apiUser=rival&emailId=" + id);
    auto unknown = call("/email/status", "apiUser=rival&emailId=" + recipientId("zz", 0));
    ASSERT_EQ(theirs.status, 200);
    EXPECT_EQ(body(theirs)["info"]["voList"][0]["status"], "not_found");
    EXPECT_FALSE(body(theirs)["info"]["voList"][0].contains("recipient"));
    // Same shape, byte for byte but for the id itself.
    auto a = body(theirs)["info"]["voList"][0];
    auto b = body(unknown)["info"]["voList"][0];
    a.erase("emailId");
    b.erase("emailId");
    EXPECT_EQ(a, b);
    auto q = call("/apiv2/data/emailStatus", "apiUser=rival&emailIds=" + id);
    EXPECT_EQ(body(q)["info"]["total"], 0);
}

TEST_F(StatusApiTest, AnSmsIdIsNotFoundThroughTheEmailPathAndFoundThroughTheSmsOne) {
    enqueue("s1", 1, UserKind::Sms);
    const auto id = recipientId("s1", 0);
    record(id, RecipientState::Sandbox, kT0 + 5, 0);
    EXPECT_EQ(
        body(call("/email/status", "apiUser=acme&emailId=" + id))["info"]["voList"][0]["status"],
        "not_found");
    auto r = body(call("/smsapi/status", "smsUser=acme&smsId=" + id));
    EXPECT_EQ(r["info"]["voList"][0]["status"], "sandbox");
    EXPECT_EQ(r["info"]["voList"][0]["recipient"], "13800000000");
    auto q = body(call("/smsapi/status/query", "smsUser=acme&smsIds=" + id));
    EXPECT_EQ(q["info"]["total"], 1);
    EXPECT_EQ(q["info"]["voList"][0]["smsId"], id);
    EXPECT_EQ(q["info"]["voList"][0]["receiver"], "13800000000");
    EXPECT_EQ(q["info"]["voList"][0]["updateTime"], formatStatusTime(kT0 + 5));
}

TEST_F(StatusApiTest, IdLimits) {
    std::string ids;
    for (int i = 0; i < 101; ++i) ids += recipientId("m", i) + ";";
    auto many = call("/email/status", "apiUser=acme&emailId=" + ids);
    EXPECT_EQ(many.status, 400);
    EXPECT_EQ(body(many)["errorCode"], "status.too_many_ids") << many.body;
    auto longId = call("/email/status", "apiUser=acme&emailId=" + std::string(65, 'a'));
    EXPECT_EQ(longId.status, 400);
    EXPECT_EQ(body(longId)["errorCode"], "status.id_too_long");
    auto none = call("/email/status", "apiUser=acme&emailId=;;");
    EXPECT_EQ(body(none)["errorCode"], "status.ids_missing");
    EXPECT_EQ(call("/email/status", "apiUser=nobody&emailId=x").status, 401);
}

TEST_F(StatusApiTest, SendCloudQueryPagesAndRefusesWhatItDoesNotSupport) {
    enqueue("m1", 3, UserKind::Email);
    const std::string ids =
        recipientId("m1", 0) + ";" + recipientId("m1", 1) + ";" + recipientId("m1", 2);
    auto r =
        body(call("/apiv2/data/emailStatus", "apiUser=acme&emailIds=" + ids + "&start=1&limit=1"));
    EXPECT_EQ(r["info"]["total"], 3);
    EXPECT_EQ(r["info"]["voListSize"], 1);
    EXPECT_EQ(r["info"]["voList"][0]["emailId"], recipientId("m1", 1));
    EXPECT_EQ(r["info"]["voList"][0]["apiUser"], "acme");
    EXPECT_EQ(r["info"]["voList"][0]["recipients"], "u1@x.io");
    auto days = call("/apiv2/data/emailStatus", "apiUser=acme&emailIds=" + ids + "&days=3");
    EXPECT_EQ(days.status, 400);
    EXPECT_EQ(body(days)["errorCode"], "status.unsupported_param");
    auto big = call("/apiv2/data/emailStatus", "apiUser=acme&emailIds=" + ids + "&limit=101");
    EXPECT_EQ(big.status, 400);
    EXPECT_EQ(body(big)["errorCode"], "status.bad_limit");
}

}  // namespace
}  // namespace sc::api
