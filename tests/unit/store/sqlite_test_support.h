#pragma once
// Shared by the SQLite store tests (and the queue's, which run on a real store): a temporary
// directory per test, unwrapping of store results that must have succeeded, and waiting for a
// condition that another thread makes true.

#include <SQLiteCpp/SQLiteCpp.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "store/sqlite/sqlite_store.h"

namespace sc::store::test_support {

// Polls a condition another thread will make true, with a deadline, so that a broken build fails
// the test instead of hanging it.
template <class Pred>
bool eventually(Pred pred) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return pred();
}

// A fresh directory per test, removed afterwards.
class TempDir {
public:
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "sc-store-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    std::string file(const std::string& name) const { return (path_ / name).string(); }

private:
    std::filesystem::path path_;
};

// Concatenation for test names and SQL: "literal" + std::string&& trips a false -Wrestrict in
// g++ 12 at -O2 (GCC bug 105329), which -Werror turns into a build failure.
template <class... Parts>
std::string cat(const Parts&... parts) {
    std::string out;
    (out.append(std::string_view(parts)), ...);
    return out;
}

// A recipient id of the shape api/ids.cpp gives it (the message's id, the recipient's index,
// '$', ...): the store finds a message's recipients by that prefix.
inline std::string recipientId(std::string_view messageId, int index) {
    return cat(messageId, std::to_string(index), "$r");
}

// A recipient, optionally with its own content. `Recipient{id, address, role}` leaves
// contentJson out, which -Wextra (missing-field-initializers) rejects.
inline Recipient recipient(std::string id, std::string address, RecipientRole role,
                           std::string contentJson = {}) {
    Recipient r;
    r.id = std::move(id);
    r.address = std::move(address);
    r.role = role;
    r.contentJson = std::move(contentJson);
    return r;
}

// When the test messages were accepted.
inline constexpr int64_t kCreatedAt = 1795827000000;

// An email message of `recipients` recipients (To, Cc, Bcc, To, ...) from one API user.
inline NewMessage makeMessage(const std::string& id, int recipients = 3, bool testMode = false) {
    NewMessage m;
    m.messageId = id;
    m.kind = UserKind::Email;
    m.accountId = 1;
    m.apiUserId = 2;
    m.apiUserName = "shop_trigger";
    m.createdAtMs = kCreatedAt;
    m.testMode = testMode;
    m.contentJson = R"({"from":"shop@example.com","subject":"Hi"})";
    static const RecipientRole kRoles[] = {RecipientRole::To, RecipientRole::Cc,
                                           RecipientRole::Bcc};
    for (int i = 0; i < recipients; ++i) {
        m.recipients.push_back(recipient(
            recipientId(id, i), cat("user", std::to_string(i), "@example.com"), kRoles[i % 3]));
    }
    return m;
}

// The value of a result that must be a success. A failure throws, and gtest reports the
// exception, with the store's message, as the test's failure.
template <class T>
T must(Result<T, StoreError> r) {
    if (!r.ok()) throw std::runtime_error(std::string("store error: ").append(r.error().message));
    return std::move(r).value();
}

// Enqueues and waits for the answer (a deadline, so that a broken store fails the test instead
// of hanging it).
inline Result<Ok, StoreError> enqueueAndWait(MessageStore& store, NewMessage m) {
    std::promise<Result<Ok, StoreError>> done;
    auto f = done.get_future();
    store.enqueue(std::move(m), [&](Result<Ok, StoreError> r) { done.set_value(std::move(r)); });
    if (f.wait_for(std::chrono::seconds(120)) != std::future_status::ready) {
        StoreError e;
        e.kind = StoreError::Kind::Internal;
        e.message = "no answer";
        return fail(std::move(e));
    }
    return f.get();
}

inline int64_t countRows(const std::string& path, const std::string& table) {
    SQLite::Database raw(path, SQLite::OPEN_READONLY);
    return raw.execAndGet(cat("SELECT count(*) FROM ", table)).getInt64();
}

}  // namespace sc::store::test_support
