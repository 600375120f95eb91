#pragma once
// The management API in-process over the real SQLite backend in a temp dir: requests are plain
// http::Request values, answers are waited for on a future (a login answers from the pool).

#include <gtest/gtest.h>
#include <stdlib.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "auth/credential_issuer.h"
#include "auth/key_material.h"
#include "auth/server_secret.h"
#include "common/random.h"
#include "console/management_api.h"
#include "console/work_pool.h"
#include "fakes/fake_clock.h"
#include "store/sqlite/sqlite_store.h"

namespace sc::console::testing {

using nlohmann::json;

class TempDir {
public:
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "sc-console-XXXXXX").string();
        if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

struct Reply {
    int status = 0;
    std::vector<http::Header> headers;
    std::string body;
    json j;  // parsed body (null when not JSON)

    std::optional<std::string> header(std::string_view name) const {
        for (const auto& h : headers) {
            if (h.name == name) return h.value;
        }
        return std::nullopt;
    }
    std::string code() const { return j.value("errorCode", std::string()); }
    const json& info() const { return j.at("info"); }
};

// A logged-in browser: its cookie and CSRF token.
struct Browser {
    std::string token;
    std::string csrf;
    int64_t accountId = 0;
};

inline constexpr char kPasswordA[] = "correct horse battery A";
inline constexpr char kPasswordB[] = "correct horse battery B";
inline constexpr char kEmailA[] = "alice@example.com";
inline constexpr char kEmailB[] = "bob@example.com";

inline auth::ServerSecret testSecret() {
    std::array<uint8_t, auth::ServerSecret::kBytes> bytes{};
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 13 + 5);
    return auth::ServerSecret::fromBytes(bytes);
}

class ConsoleTest : public ::testing::Test {
protected:
    static constexpr std::chrono::minutes kGrace{15};

    explicit ConsoleTest(ManagementOptions options = defaultOptions())
        : backend_(sqliteOptions(dir_)),
          secret_(testSecret()),
          keys_(secret_),
          issuer_(backend_.credentials(), keys_, random_, clock_, kGrace),
          pool_(2),
          api_(std::make_unique<ManagementApi>(
              ManagementDeps{backend_.credentials(), backend_.sessions(), backend_.audit(), issuer_,
                             backend_.templates(), clock_, random_, pool_},
              options)) {
        accountA_ = makeAccount(kEmailA, kPasswordA);
        accountB_ = makeAccount(kEmailB, kPasswordB);
    }
    ~ConsoleTest() override { pool_.stop(); }

    static ManagementOptions defaultOptions() {
        ManagementOptions o;
        o.passwordLimits = PasswordLimits::minimum();
        return o;
    }
    static store::SqliteOptions sqliteOptions(const TempDir& dir) {
        store::SqliteOptions o;
        o.path = (dir.path() / "sendcloud.db").string();
        return o;
    }

    int64_t makeAccount(const std::string& email, const std::string& password) {
        auto acc = issuer_.createAccount(email);
        EXPECT_TRUE(acc.ok());
        auto hash = hashPassword(password, PasswordLimits::minimum());
        EXPECT_TRUE(hash.ok());
        EXPECT_TRUE(backend_.credentials().setAccountPassword(acc->id, *hash).ok());
        return acc->id;
    }

    Reply call(http::Method method, const std::string& target, const std::string& body = "",
               std::vector<http::Header> headers = {}, const std::string& ip = "192.0.2.10") {
        http::Request req;
        req.method = method;
        req.target = target;
        auto q = target.find('?');
        req.path = target.substr(0, q);
        req.query = q == std::string::npos ? "" : target.substr(q + 1);
        req.body = body;
        req.clientIp = ip;
        if (!body.empty()) headers.push_back({"content-type", "application/json"});
        req.headers = std::move(headers);
        auto promise = std::make_shared<std::promise<http::Response>>();
        auto future = promise->get_future();
        route(req,
              http::Responder([promise](http::Response r) { promise->set_value(std::move(r)); }));
        // A bound, not a wait: the answer normally comes at once or after one minimal hash.
        if (future.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
            ADD_FAILURE() << "no answer to " << target;
            return {};
        }
        http::Response r = future.get();
        Reply out{r.status, r.headers, r.body, json::parse(r.body, nullptr, false)};
        std::lock_guard lk(bodiesMu_);  // some tests call from several threads
        for (const auto& h : r.headers) allBodies_.push_back(h.value);
        allBodies_.push_back(r.body);  // last, so allBodies_.back() is this body
        return out;
    }

    // Where call() sends a request: the management API alone, unless a test routes further.
    virtual void route(const http::Request& req, http::Responder reply) {
        api_->handle(req, std::move(reply));
    }

    // A request as the browser `b` sends it: its cookie, and its CSRF token unless `csrf` says
    // otherwise.
    Reply as(const Browser& b, http::Method method, const std::string& target,
             const std::string& body = "", std::optional<std::string> csrf = std::nullopt) {
        std::vector<http::Header> h{{"cookie", "theme=dark; sc_session=" + b.token}};
        std::string token = csrf.value_or(b.csrf);
        if (!token.empty()) h.push_back({"x-csrf-token", token});
        return call(method, target, body, std::move(h));
    }

    Reply loginReply(const std::string& email, const std::string& password,
                     const std::string& ip = "192.0.2.10") {
        json body = {{"email", email}, {"password", password}};
        return call(http::Method::Post, "/console/api/login", body.dump(), {}, ip);
    }

    Browser login(const std::string& email, const std::string& password) {
        Reply r = loginReply(email, password);
        EXPECT_EQ(r.status, 200) << r.body;
        Browser b;
        auto cookie = r.header("set-cookie").value_or("");
        auto eq = cookie.find('=');
        auto semi = cookie.find(';');
        if (eq != std::string::npos && semi != std::string::npos) {
            b.token = cookie.substr(eq + 1, semi - eq - 1);
        }
        if (r.status == 200) {
            b.csrf = r.info().at("csrfToken").get<std::string>();
            b.accountId = r.info().at("account").at("id").get<int64_t>();
        }
        return b;
    }
    Browser loginA() { return login(kEmailA, kPasswordA); }
    Browser loginB() { return login(kEmailB, kPasswordB); }

    // Creates a user through the API; returns the response info.
    json createUser(const Browser& b, const std::string& kind, const std::string& name,
                    json extra = json::object()) {
        extra["name"] = name;
        Reply r = as(b, http::Method::Post, "/console/api/" + kind, extra.dump());
        EXPECT_EQ(r.status, 200) << r.body;
        return r.status == 200 ? r.info() : json();
    }

    // Every byte of every file in the data dir (the database, its WAL and SHM files).
    std::string dataDirBytes() const {
        std::string all;
        for (const auto& e : std::filesystem::directory_iterator(dir_.path())) {
            std::ifstream in(e.path(), std::ios::binary);
            all.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        }
        return all;
    }

    int64_t now() const { return clock_.nowMillis(); }

    TempDir dir_;
    sc::testing::FakeClock clock_;
    SystemRandom random_;
    store::SqliteBackend backend_;
    auth::ServerSecret secret_;
    auth::KeyMaterial keys_;
    auth::CredentialIssuer issuer_;
    WorkPool pool_;
    std::unique_ptr<ManagementApi> api_;
    int64_t accountA_ = 0, accountB_ = 0;
    std::mutex bodiesMu_;
    std::vector<std::string> allBodies_;  // every response body and header value so far
};

}  // namespace sc::console::testing
