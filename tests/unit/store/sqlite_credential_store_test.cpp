#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite/sqlite_store.h"
#include "unit/store/sqlite_test_support.h"

namespace sc::store {
namespace {

using test_support::cat;
using test_support::countRows;
using test_support::must;
using test_support::TempDir;

constexpr int64_t kCreatedAt = 1795827000123;
constexpr int64_t kMinute = 60 * 1000;
constexpr int64_t kGrace = 15 * kMinute;

// 32 bytes with NULs at the start, the middle and the end, as an HMAC may well have. `seed`
// changes only the last non-NUL bytes, so two hashes share a long prefix (and the bytes after
// the first NUL): only a byte-exact BLOB comparison tells them apart.
std::string binaryKeyHash(char seed = 0) {
    std::string h(32, '\0');
    for (size_t i = 0; i < h.size(); ++i) h[i] = static_cast<char>((i * 37) & 0xff);
    h[16] = '\0';
    h[31] = '\0';
    h[30] = static_cast<char>(h[30] + seed);
    return h;
}

NewApiUser newUser(int64_t accountId, std::string name, UserKind kind = UserKind::Email) {
    NewApiUser u;
    u.accountId = accountId;
    u.name = std::move(name);
    u.kind = kind;
    u.keyHash = binaryKeyHash();
    if (kind == UserKind::Sms) u.keyCipher = std::string("\0nonce\0\0cipher\xff", 15);
    u.keyFingerprint = "0a1b2c3d";
    u.createdAtMs = kCreatedAt;
    return u;
}

UserPolicy richPolicy() {
    UserPolicy p;
    p.purpose = "Order confirmations from the shop backend\n(owner: ops)";
    p.testMode = true;
    p.ipAllowlist = {"2001:db8::/32", "2001:db8:85a3::8a2e:370:7334/128", "::1/128",
                     "203.0.113.0/24", "198.51.100.7/32"};
    p.senderDomains = {"shop.example.com", "mail.example.org", "bücher.example"};
    p.rateLimitPerMinute = 600;
    p.dailyQuota = 250000;
    return p;
}

KeyRotation rotation(char seed, int64_t nowMs, int64_t oldKeyExpiresAtMs) {
    KeyRotation r;
    r.keyHash = binaryKeyHash(seed);
    r.keyFingerprint = std::string("f1ngerp") + static_cast<char>('0' + seed);
    r.nowMs = nowMs;
    r.oldKeyExpiresAtMs = oldKeyExpiresAtMs;
    return r;
}

void expectSamePolicy(const UserPolicy& a, const UserPolicy& b) {
    EXPECT_EQ(a.purpose, b.purpose);
    EXPECT_EQ(a.testMode, b.testMode);
    EXPECT_EQ(a.ipAllowlist, b.ipAllowlist);
    EXPECT_EQ(a.senderDomains, b.senderDomains);
    EXPECT_EQ(a.rateLimitPerMinute, b.rateLimitPerMinute);
    EXPECT_EQ(a.dailyQuota, b.dailyQuota);
}

void expectSameUser(const ApiUser& a, const ApiUser& b) {
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.accountId, b.accountId);
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.kind, b.kind);
    EXPECT_EQ(a.disabled, b.disabled);
    EXPECT_EQ(a.keyHash, b.keyHash);
    EXPECT_EQ(a.keyCipher, b.keyCipher);
    EXPECT_EQ(a.keyFingerprint, b.keyFingerprint);
    EXPECT_EQ(a.keyCreatedAtMs, b.keyCreatedAtMs);
    EXPECT_EQ(a.createdAtMs, b.createdAtMs);
    expectSamePolicy(a.policy, b.policy);
}

class SqliteCredentialStoreTest : public ::testing::Test {
protected:
    SqliteOptions options() const {
        SqliteOptions o;
        o.path = dir_.file("sendcloud.db");
        return o;
    }
    int64_t account(const std::string& email = "owner@example.com") {
        auto a = store_.createAccount(email, 1000);
        EXPECT_TRUE(a.ok());
        return a.ok() ? a->id : 0;
    }
    ApiUser user(const std::string& name, UserKind kind = UserKind::Email) {
        if (accountId_ == 0) accountId_ = account();
        return must(store_.createUser(newUser(accountId_, name, kind)));
    }
    std::optional<ApiUser> find(std::string_view name) { return must(store_.findUser(name)); }
    std::optional<RetiredKey> retired(int64_t userId, const std::string& hash) {
        return must(store_.findRetiredKey(userId, hash));
    }
    // Every row of a table, for "nothing changed" checks.
    std::vector<std::string> dump(const std::string& table) const {
        SQLite::Database raw(options().path, SQLite::OPEN_READONLY);
        SQLite::Statement q(raw,
                            cat("SELECT quote(t.rowid), * FROM ", table, " AS t ORDER BY t.rowid"));
        std::vector<std::string> rows;
        while (q.executeStep()) {
            std::string row;
            for (int i = 0; i < q.getColumnCount(); ++i) {
                row.append(q.getColumn(i).getString()).append("|");
            }
            rows.push_back(row);
        }
        return rows;
    }

    TempDir dir_;
    SqliteBackend backend_{options()};
    CredentialStore& store_ = backend_.credentials();
    int64_t accountId_ = 0;
};

TEST_F(SqliteCredentialStoreTest, CreateAccountIsFoundByEmailInAnyCaseAndById) {
    auto created = store_.createAccount("Ops@Example.com", 1234);
    ASSERT_TRUE(created.ok());
    EXPECT_GT(created->id, 0);
    EXPECT_EQ(created->email, "Ops@Example.com");
    EXPECT_EQ(created->createdAtMs, 1234);
    EXPECT_EQ(created->passwordHash, "");

    auto found = must(store_.findAccountByEmail("ops@example.COM"));
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->id, created->id);
    EXPECT_EQ(found->email, "Ops@Example.com");
    EXPECT_EQ(found->createdAtMs, 1234);
    EXPECT_EQ(found->passwordHash, "");

    auto byId = must(store_.findAccountById(created->id));
    ASSERT_TRUE(byId.has_value());
    EXPECT_EQ(byId->email, "Ops@Example.com");

    EXPECT_FALSE(must(store_.findAccountByEmail("nobody@example.com")).has_value());
    EXPECT_FALSE(must(store_.findAccountById(created->id + 1)).has_value());
}

TEST_F(SqliteCredentialStoreTest, CreateAccountConflictsOnEmailInAnyCase) {
    ASSERT_TRUE(store_.createAccount("ops@example.com", 1).ok());
    auto again = store_.createAccount("OPS@example.COM", 2);
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().kind, StoreError::Kind::Conflict);
    EXPECT_TRUE(store_.createAccount("other@example.com", 3).ok());
}

TEST_F(SqliteCredentialStoreTest, SetAccountPasswordIsReadBackAndReportsUnknownAccount) {
    const int64_t a = account("a@example.com");
    const int64_t b = account("b@example.com");
    const std::string hash = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$aGFzaGhhc2hoYXNo";
    ASSERT_TRUE(store_.setAccountPassword(a, hash).ok());

    EXPECT_EQ(must(store_.findAccountById(a))->passwordHash, hash);
    EXPECT_EQ(must(store_.findAccountByEmail("A@example.com"))->passwordHash, hash);
    EXPECT_EQ(must(store_.findAccountById(b))->passwordHash, "");

    // Clearing it is allowed (no console login), and so is setting the same value twice.
    ASSERT_TRUE(store_.setAccountPassword(a, "").ok());
    ASSERT_TRUE(store_.setAccountPassword(a, "").ok());
    EXPECT_EQ(must(store_.findAccountById(a))->passwordHash, "");

    auto missing = store_.setAccountPassword(b + 100, hash);
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().kind, StoreError::Kind::NotFound);
}

TEST_F(SqliteCredentialStoreTest, CreateUserConflictsOnNameAcrossAccounts) {
    const int64_t a = account("a@example.com");
    const int64_t b = account("b@example.com");
    ASSERT_TRUE(store_.createUser(newUser(a, "shop_trigger")).ok());
    auto again = store_.createUser(newUser(b, "shop_trigger", UserKind::Sms));
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().kind, StoreError::Kind::Conflict);
    EXPECT_EQ(find("shop_trigger")->accountId, a);
}

TEST_F(SqliteCredentialStoreTest, CreateUserForUnknownAccountIsNotFound) {
    auto r = store_.createUser(newUser(424242, "orphan"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, StoreError::Kind::NotFound);
    EXPECT_FALSE(find("orphan").has_value());
}

TEST_F(SqliteCredentialStoreTest, FindUserRoundTripsEveryField) {
    const int64_t acct = account();
    const NewApiUser in = newUser(acct, "sms_sender", UserKind::Sms);
    auto created = store_.createUser(in);
    ASSERT_TRUE(created.ok());

    auto u = find("sms_sender");
    ASSERT_TRUE(u.has_value());
    EXPECT_EQ(u->id, created->id);
    EXPECT_EQ(u->accountId, acct);
    EXPECT_EQ(u->name, "sms_sender");
    EXPECT_EQ(u->kind, UserKind::Sms);
    EXPECT_FALSE(u->disabled);
    EXPECT_EQ(u->keyHash, in.keyHash);
    EXPECT_EQ(u->keyHash.size(), 32u);
    EXPECT_EQ(u->keyCipher, in.keyCipher);
    EXPECT_EQ(u->keyCipher.size(), 15u);
    EXPECT_EQ(u->keyFingerprint, "0a1b2c3d");
    EXPECT_EQ(u->keyCreatedAtMs, in.createdAtMs);
    EXPECT_EQ(u->createdAtMs, in.createdAtMs);
    // No policy given: the least restrictive defaults.
    expectSamePolicy(u->policy, UserPolicy{});

    // What createUser answered is what findUser and findUserById read back.
    expectSameUser(*created, *u);
    auto byId = must(store_.findUserById(created->id));
    ASSERT_TRUE(byId.has_value());
    expectSameUser(*byId, *u);
    EXPECT_FALSE(must(store_.findUserById(created->id + 1)).has_value());

    // Stored as BLOBs (not TEXT, which would stop at the first NUL in some readers); an e-mail
    // user has no stored key at all.
    ASSERT_TRUE(store_.createUser(newUser(acct, "mail_sender")).ok());
    SQLite::Database raw(options().path, SQLite::OPEN_READONLY);
    SQLite::Statement q(raw,
                        "SELECT typeof(key_hash), typeof(key_cipher), length(key_hash) "
                        "FROM api_users ORDER BY name");
    ASSERT_TRUE(q.executeStep());  // mail_sender
    EXPECT_EQ(q.getColumn(0).getString(), "blob");
    EXPECT_EQ(q.getColumn(1).getString(), "null");
    EXPECT_EQ(q.getColumn(2).getInt(), 32);
    ASSERT_TRUE(q.executeStep());  // sms_sender
    EXPECT_EQ(q.getColumn(1).getString(), "blob");

    auto mail = find("mail_sender");
    ASSERT_TRUE(mail.has_value());
    EXPECT_EQ(mail->kind, UserKind::Email);
    EXPECT_TRUE(mail->keyCipher.empty());
}

TEST_F(SqliteCredentialStoreTest, FindUserUnknownIsEmpty) {
    EXPECT_FALSE(find("nobody").has_value());
    EXPECT_FALSE(find("").has_value());
}

TEST_F(SqliteCredentialStoreTest, PolicyRoundTripsThroughCreateUpdateAndFind) {
    const int64_t acct = account();
    NewApiUser in = newUser(acct, "shop_trigger");
    in.policy = richPolicy();
    const ApiUser created = must(store_.createUser(in));
    expectSamePolicy(created.policy, richPolicy());
    expectSamePolicy(find("shop_trigger")->policy, richPolicy());
    expectSamePolicy(must(store_.findUserById(created.id))->policy, richPolicy());
    auto listed = must(store_.listUsers(acct));
    ASSERT_EQ(listed.size(), 1u);
    expectSamePolicy(listed[0].policy, richPolicy());

    // Lists are stored as JSON arrays, which the operator can read and query in plain SQL.
    {
        SQLite::Database raw(options().path, SQLite::OPEN_READONLY);
        SQLite::Statement q(raw,
                            "SELECT json_array_length(ip_allowlist), sender_domains "
                            "FROM api_users WHERE name = 'shop_trigger'");
        ASSERT_TRUE(q.executeStep());
        EXPECT_EQ(q.getColumn(0).getInt(), 5);
        EXPECT_EQ(q.getColumn(1).getString(),
                  R"(["shop.example.com","mail.example.org","bücher.example"])");
    }

    // updateUser replaces the whole policy and the disabled flag, and answers what is stored.
    UserPolicy narrower;
    narrower.purpose = "";
    narrower.ipAllowlist = {"2001:db8:1::/48"};
    narrower.rateLimitPerMinute = 1;
    const ApiUser updated = must(store_.updateUser(created.id, narrower, true));
    EXPECT_TRUE(updated.disabled);
    expectSamePolicy(updated.policy, narrower);
    EXPECT_TRUE(updated.policy.senderDomains.empty());
    EXPECT_FALSE(updated.policy.testMode);
    EXPECT_EQ(updated.policy.dailyQuota, 0);
    // The key is not part of the policy.
    EXPECT_EQ(updated.keyHash, created.keyHash);
    EXPECT_EQ(updated.keyFingerprint, created.keyFingerprint);
    EXPECT_EQ(updated.keyCreatedAtMs, created.keyCreatedAtMs);
    expectSameUser(*find("shop_trigger"), updated);

    // Values that a newline-joined encoding could not keep apart survive exactly.
    UserPolicy odd;
    odd.ipAllowlist = {""};
    odd.senderDomains = {"a\nb", "\"quoted\"", "back\\slash", "tab\there"};
    const ApiUser oddUser = must(store_.updateUser(created.id, odd, false));
    expectSamePolicy(oddUser.policy, odd);
    expectSamePolicy(find("shop_trigger")->policy, odd);
    EXPECT_FALSE(find("shop_trigger")->disabled);
}

TEST_F(SqliteCredentialStoreTest, UpdateAndDeleteOfUnknownUserAreNotFound) {
    const ApiUser u = user("sender");
    auto upd = store_.updateUser(u.id + 1, richPolicy(), true);
    ASSERT_FALSE(upd.ok());
    EXPECT_EQ(upd.error().kind, StoreError::Kind::NotFound);
    auto del = store_.deleteUser(u.id + 1);
    ASSERT_FALSE(del.ok());
    EXPECT_EQ(del.error().kind, StoreError::Kind::NotFound);
    // The existing user is untouched.
    expectSameUser(*find("sender"), u);
}

TEST_F(SqliteCredentialStoreTest, DeleteUserRemovesItsRetiredKeysButNotItsMessages) {
    const ApiUser gone = user("gone_user");
    const ApiUser kept = user("kept_user");
    must(store_.rotateKey(gone.id, rotation(1, 2000, 2000 + kGrace)));
    must(store_.rotateKey(kept.id, rotation(1, 2000, 2000 + kGrace)));

    NewMessage m;
    m.messageId = "m1";
    m.kind = UserKind::Email;
    m.accountId = gone.accountId;
    m.apiUserId = gone.id;
    m.apiUserName = gone.name;
    m.createdAtMs = 3000;
    m.contentJson = "{}";
    m.recipients.push_back(test_support::recipient(test_support::recipientId("m1", 0),
                                                   "user@example.com", RecipientRole::To));
    ASSERT_TRUE(test_support::enqueueAndWait(backend_.messages(), m).ok());

    ASSERT_TRUE(store_.deleteUser(gone.id).ok());
    EXPECT_FALSE(find("gone_user").has_value());
    EXPECT_FALSE(must(store_.findUserById(gone.id)).has_value());
    EXPECT_TRUE(must(store_.retiredKeys(gone.id)).empty());
    EXPECT_EQ(countRows(options().path, "retired_keys"), 1);
    EXPECT_EQ(must(store_.retiredKeys(kept.id)).size(), 1u);
    EXPECT_EQ(backend_.messages().recipientsOf("m1").value().size(), 1u);

    // A second delete finds nothing; the name is free again, under a new id.
    auto again = store_.deleteUser(gone.id);
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().kind, StoreError::Kind::NotFound);
    const ApiUser reborn = user("gone_user");
    EXPECT_NE(reborn.id, gone.id);
}

TEST_F(SqliteCredentialStoreTest, DeletedUserIdsAreNeverHandedOutAgain) {
    // Messages, auth events and usage keep the id of the user that made them: a new user must
    // not inherit them, even when the deleted user had the largest id.
    user("first_user");
    const ApiUser last = user("last_user");
    ASSERT_TRUE(store_.deleteUser(last.id).ok());
    EXPECT_GT(user("next_user").id, last.id);
}

TEST_F(SqliteCredentialStoreTest, ListUsersReturnsOnlyThatAccountsUsersByName) {
    const int64_t a = account("a@example.com");
    const int64_t b = account("b@example.com");
    ASSERT_TRUE(store_.createUser(newUser(a, "zeta")).ok());
    ASSERT_TRUE(store_.createUser(newUser(b, "beta")).ok());
    ASSERT_TRUE(store_.createUser(newUser(a, "alpha", UserKind::Sms)).ok());

    auto users = must(store_.listUsers(a));
    ASSERT_EQ(users.size(), 2u);
    EXPECT_EQ(users[0].name, "alpha");
    EXPECT_EQ(users[0].kind, UserKind::Sms);
    EXPECT_EQ(users[0].keyHash, binaryKeyHash());
    EXPECT_EQ(users[1].name, "zeta");
    EXPECT_EQ(must(store_.listUsers(b)).size(), 1u);
    EXPECT_TRUE(must(store_.listUsers(999)).empty());
}

TEST_F(SqliteCredentialStoreTest, SetUserDisabledTogglesAndReportsUnknownUser) {
    user("sender");

    ASSERT_TRUE(store_.setUserDisabled("sender", true).ok());
    EXPECT_TRUE(find("sender")->disabled);
    // Setting the state it already has still finds the user.
    ASSERT_TRUE(store_.setUserDisabled("sender", true).ok());
    ASSERT_TRUE(store_.setUserDisabled("sender", false).ok());
    EXPECT_FALSE(find("sender")->disabled);

    auto missing = store_.setUserDisabled("nobody", true);
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().kind, StoreError::Kind::NotFound);
}

TEST_F(SqliteCredentialStoreTest, RotateKeyRetiresTheCurrentKeyUntilTheGivenExpiry) {
    const ApiUser before = user("shop_trigger");
    const int64_t t1 = kCreatedAt + 10 * kMinute;
    const ApiUser after = must(store_.rotateKey(before.id, rotation(1, t1, t1 + kGrace)));

    EXPECT_EQ(after.keyHash, binaryKeyHash(1));
    EXPECT_EQ(after.keyFingerprint, "f1ngerp1");
    EXPECT_EQ(after.keyCreatedAtMs, t1);
    EXPECT_TRUE(after.keyCipher.empty());
    // Everything else stays as it was.
    EXPECT_EQ(after.createdAtMs, before.createdAtMs);
    EXPECT_EQ(after.name, before.name);
    expectSamePolicy(after.policy, before.policy);
    expectSameUser(*find("shop_trigger"), after);

    auto old = retired(before.id, binaryKeyHash());
    ASSERT_TRUE(old.has_value());
    EXPECT_EQ(old->userId, before.id);
    EXPECT_EQ(old->keyHash, before.keyHash);
    EXPECT_EQ(old->keyFingerprint, before.keyFingerprint);
    EXPECT_EQ(old->createdAtMs, before.keyCreatedAtMs);
    EXPECT_EQ(old->resetAtMs, t1);
    EXPECT_EQ(old->expiresAtMs, t1 + kGrace);

    // The current key is not a retired one; neither is another user's key, nor a hash that
    // differs from the retired one in its last byte.
    EXPECT_FALSE(retired(before.id, binaryKeyHash(1)).has_value());
    EXPECT_FALSE(retired(before.id + 1, binaryKeyHash()).has_value());
    std::string almost = binaryKeyHash();
    almost.back() = '\x01';
    EXPECT_FALSE(retired(before.id, almost).has_value());
    EXPECT_FALSE(retired(before.id, binaryKeyHash().substr(0, 16)).has_value());

    // Stored as a BLOB, like the current key.
    SQLite::Database raw(options().path, SQLite::OPEN_READONLY);
    EXPECT_EQ(raw.execAndGet("SELECT typeof(key_hash) FROM retired_keys").getString(), "blob");
    EXPECT_EQ(raw.execAndGet("SELECT typeof(key_cipher) FROM api_users").getString(), "null");
}

TEST_F(SqliteCredentialStoreTest, SecondRotationInsideTheGraceEndsTheFirstRetiredKeyAtOnce) {
    const ApiUser u = user("shop_trigger");
    const int64_t t1 = kCreatedAt + kMinute;
    const int64_t t2 = t1 + 5 * kMinute;  // inside the first grace period
    must(store_.rotateKey(u.id, rotation(1, t1, t1 + kGrace)));
    const ApiUser now = must(store_.rotateKey(u.id, rotation(2, t2, t2 + kGrace)));
    EXPECT_EQ(now.keyHash, binaryKeyHash(2));

    auto first = retired(u.id, binaryKeyHash());
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->resetAtMs, t1);
    EXPECT_EQ(first->expiresAtMs, t2);  // ended by the second reset
    auto second = retired(u.id, binaryKeyHash(1));
    ASSERT_TRUE(second.has_value());
    EXPECT_EQ(second->createdAtMs, t1);
    EXPECT_EQ(second->resetAtMs, t2);
    EXPECT_EQ(second->expiresAtMs, t2 + kGrace);

    // Newest reset first.
    auto keys = must(store_.retiredKeys(u.id));
    ASSERT_EQ(keys.size(), 2u);
    EXPECT_EQ(keys[0].keyHash, binaryKeyHash(1));
    EXPECT_EQ(keys[1].keyHash, binaryKeyHash());

    // At most two keys valid at any time after t2: the current one and one retired key.
    for (int64_t at : {t2, t2 + 1, t2 + kGrace - 1}) {
        int valid = 0;
        for (const RetiredKey& k : keys) valid += k.expiresAtMs > at ? 1 : 0;
        EXPECT_EQ(valid, 1) << at;
    }
}

TEST_F(SqliteCredentialStoreTest, RotationAfterTheGraceLeavesExpiredKeysAsTheyWere) {
    const ApiUser u = user("shop_trigger");
    const int64_t t1 = kCreatedAt + kMinute;
    const int64_t t2 = t1 + kGrace + kMinute;
    must(store_.rotateKey(u.id, rotation(1, t1, t1 + kGrace)));
    must(store_.rotateKey(u.id, rotation(2, t2, t2 + kGrace)));
    EXPECT_EQ(retired(u.id, binaryKeyHash())->expiresAtMs, t1 + kGrace);
    EXPECT_EQ(retired(u.id, binaryKeyHash(1))->expiresAtMs, t2 + kGrace);
}

TEST_F(SqliteCredentialStoreTest, EmergencyAndSmsRotationsEndTheOldKeyAtOnce) {
    const ApiUser sms = user("sms_sender", UserKind::Sms);
    const int64_t t1 = kCreatedAt + kMinute;
    KeyRotation r = rotation(1, t1, t1);
    r.keyCipher = std::string("\0new-nonce\0new-cipher", 21);
    const ApiUser after = must(store_.rotateKey(sms.id, r));
    EXPECT_EQ(after.keyCipher, r.keyCipher);
    EXPECT_EQ(find("sms_sender")->keyCipher, r.keyCipher);
    auto old = retired(sms.id, binaryKeyHash());
    ASSERT_TRUE(old.has_value());
    EXPECT_EQ(old->resetAtMs, t1);
    EXPECT_EQ(old->expiresAtMs, t1);

    // An emergency reset during a grace period ends both older keys now.
    const ApiUser mail = user("mail_sender");
    must(store_.rotateKey(mail.id, rotation(1, t1, t1 + kGrace)));
    must(store_.rotateKey(mail.id, rotation(2, t1 + kMinute, t1 + kMinute)));
    for (const RetiredKey& k : must(store_.retiredKeys(mail.id))) {
        EXPECT_EQ(k.expiresAtMs, t1 + kMinute);
    }
}

TEST_F(SqliteCredentialStoreTest, RotatingBackToAnOldKeyFindsItsNewestRetirement) {
    // Cannot happen with random keys; if it did, the latest reset is the one that counts.
    const ApiUser u = user("shop_trigger");
    const int64_t t1 = kCreatedAt + kMinute;
    must(store_.rotateKey(u.id, rotation(1, t1, t1 + kGrace)));  // retires key 0
    KeyRotation back = rotation(0, t1 + kGrace * 2, t1 + kGrace * 3);
    back.keyFingerprint = u.keyFingerprint;
    must(store_.rotateKey(u.id, back));  // retires key 1; key 0 is current again
    const int64_t t3 = t1 + kGrace * 4;
    must(store_.rotateKey(u.id, rotation(1, t3, t3 + kGrace)));  // retires key 0 again

    auto k = retired(u.id, binaryKeyHash());
    ASSERT_TRUE(k.has_value());
    EXPECT_EQ(k->resetAtMs, t3);
    EXPECT_EQ(k->expiresAtMs, t3 + kGrace);
    EXPECT_EQ(must(store_.retiredKeys(u.id)).size(), 3u);
}

TEST_F(SqliteCredentialStoreTest, FindUserAndRetiredKeyAnswersAsFindUserAndFindRetiredKey) {
    const ApiUser rotated = user("shop_trigger", UserKind::Sms);
    const int64_t t1 = kCreatedAt + kMinute;
    must(store_.rotateKey(rotated.id, rotation(1, t1, t1 + kGrace)));  // retires key 0
    // Created with key 0 as its current key, and no retired key of its own.
    const ApiUser other = user("newsletter");

    // The user with the retired key it asked for: every column, as the two reads give them.
    auto both = must(store_.findUserAndRetiredKey("shop_trigger", binaryKeyHash()));
    ASSERT_TRUE(both.user.has_value());
    expectSameUser(*both.user, *find("shop_trigger"));
    ASSERT_TRUE(both.retiredKey.has_value());
    const auto alone = retired(rotated.id, binaryKeyHash());
    ASSERT_TRUE(alone.has_value());
    EXPECT_EQ(both.retiredKey->userId, rotated.id);
    EXPECT_EQ(both.retiredKey->keyHash, alone->keyHash);
    EXPECT_EQ(both.retiredKey->keyFingerprint, alone->keyFingerprint);
    EXPECT_EQ(both.retiredKey->createdAtMs, alone->createdAtMs);
    EXPECT_EQ(both.retiredKey->resetAtMs, t1);
    EXPECT_EQ(both.retiredKey->expiresAtMs, t1 + kGrace);

    // The user, with no retired key for its current key nor for a hash one byte off.
    auto current = must(store_.findUserAndRetiredKey("shop_trigger", binaryKeyHash(1)));
    ASSERT_TRUE(current.user.has_value());
    EXPECT_EQ(current.user->keyHash, binaryKeyHash(1));
    EXPECT_FALSE(current.retiredKey.has_value());
    std::string almost = binaryKeyHash();
    almost.back() = '\x01';
    EXPECT_FALSE(must(store_.findUserAndRetiredKey("shop_trigger", almost)).retiredKey);

    // Another user's retired key with the same hash is not this user's.
    auto notMine = must(store_.findUserAndRetiredKey("newsletter", binaryKeyHash()));
    ASSERT_TRUE(notMine.user.has_value());
    expectSameUser(*notMine.user, other);
    EXPECT_FALSE(notMine.retiredKey.has_value());

    // An unknown user has neither, whatever retired keys carry the hash.
    auto unknown = must(store_.findUserAndRetiredKey("nobody", binaryKeyHash()));
    EXPECT_FALSE(unknown.user.has_value());
    EXPECT_FALSE(unknown.retiredKey.has_value());
}

TEST_F(SqliteCredentialStoreTest, FindUserAndRetiredKeyTakesTheNewestRetirement) {
    const ApiUser u = user("shop_trigger");
    const int64_t t1 = kCreatedAt + kMinute;
    must(store_.rotateKey(u.id, rotation(1, t1, t1 + kGrace)));  // retires key 0
    KeyRotation back = rotation(0, t1 + kGrace * 2, t1 + kGrace * 3);
    must(store_.rotateKey(u.id, back));  // retires key 1; key 0 is current again
    const int64_t t3 = t1 + kGrace * 4;
    must(store_.rotateKey(u.id, rotation(1, t3, t3 + kGrace)));  // retires key 0 again

    auto found = must(store_.findUserAndRetiredKey("shop_trigger", binaryKeyHash()));
    ASSERT_TRUE(found.retiredKey.has_value());
    EXPECT_EQ(found.retiredKey->resetAtMs, t3);
    EXPECT_EQ(found.retiredKey->expiresAtMs, t3 + kGrace);
}

TEST_F(SqliteCredentialStoreTest, FindUserAndRetiredKeyBreaksATieInOneMillisecondByInsertion) {
    const ApiUser u = user("shop_trigger");
    const int64_t t = kCreatedAt + kMinute;
    must(store_.rotateKey(u.id, rotation(1, t, t + kGrace)));      // retires key 0
    must(store_.rotateKey(u.id, rotation(0, t, t + kGrace)));      // ends it at t; key 0 current
    must(store_.rotateKey(u.id, rotation(1, t, t + 2 * kGrace)));  // retires key 0 again

    auto found = must(store_.findUserAndRetiredKey("shop_trigger", binaryKeyHash()));
    ASSERT_TRUE(found.retiredKey.has_value());
    EXPECT_EQ(found.retiredKey->expiresAtMs, t + 2 * kGrace);
    EXPECT_EQ(found.retiredKey->expiresAtMs, retired(u.id, binaryKeyHash())->expiresAtMs);
}

TEST_F(SqliteCredentialStoreTest, RotateKeyForUnknownUserIsNotFoundAndChangesNothing) {
    const ApiUser u = user("shop_trigger");
    must(store_.rotateKey(u.id, rotation(1, kCreatedAt + 1, kCreatedAt + 1 + kGrace)));
    const auto usersBefore = dump("api_users");
    const auto keysBefore = dump("retired_keys");

    auto r = store_.rotateKey(u.id + 1, rotation(2, kCreatedAt + 2, kCreatedAt + 2 + kGrace));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, StoreError::Kind::NotFound);
    EXPECT_EQ(dump("api_users"), usersBefore);
    EXPECT_EQ(dump("retired_keys"), keysBefore);
    EXPECT_TRUE(must(store_.retiredKeys(u.id + 1)).empty());
}

TEST_F(SqliteCredentialStoreTest, ReadErrorsAreReturnedNotMistakenForNotFound) {
    user("sender");
    {
        // Another process breaks the schema under a running server.
        SQLite::Database raw(options().path, SQLite::OPEN_READWRITE);
        raw.exec("DROP TABLE retired_keys");
        raw.exec("DROP TABLE api_users");
    }
    auto found = store_.findUser("sender");
    ASSERT_FALSE(found.ok());
    EXPECT_EQ(found.error().kind, StoreError::Kind::Internal);
    EXPECT_NE(found.error().message.find("api_users"), std::string::npos) << found.error().message;
    EXPECT_FALSE(store_.findUserById(1).ok());
    EXPECT_FALSE(store_.listUsers(accountId_).ok());
    EXPECT_FALSE(store_.findRetiredKey(1, binaryKeyHash()).ok());
    EXPECT_FALSE(store_.findUserAndRetiredKey("sender", binaryKeyHash()).ok());
    EXPECT_FALSE(store_.findUserAndRetiredKey("nobody", binaryKeyHash()).ok());
    EXPECT_FALSE(store_.retiredKeys(1).ok());
    EXPECT_TRUE(must(store_.findAccountById(accountId_)).has_value());
}

TEST_F(SqliteCredentialStoreTest, ConcurrentLookupsWhileUsersAreCreatedAndKeysRotated) {
    const ApiUser hot = user("hot_user");

    constexpr int kReaders = 8;
    constexpr int kLookups = 300;
    std::vector<std::thread> threads;
    std::vector<int> found(kReaders, 0);
    for (int t = 0; t < kReaders; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kLookups; ++i) {
                auto u = store_.findUser("hot_user");
                if (u.ok() && u->has_value() && (*u)->keyHash.size() == 32) ++found[t];
            }
        });
    }
    for (int i = 0; i < 50; ++i) {
        user(cat("user", std::to_string(i)));
        const int64_t at = kCreatedAt + i;
        must(store_.rotateKey(hot.id, rotation(static_cast<char>(i % 5 + 1), at, at + kGrace)));
    }
    for (auto& th : threads) th.join();
    for (int t = 0; t < kReaders; ++t) EXPECT_EQ(found[t], kLookups);
    EXPECT_EQ(must(store_.listUsers(accountId_)).size(), 51u);

    // Every rotation ended the one before it: only the newest retired key is still valid.
    auto keys = must(store_.retiredKeys(hot.id));
    ASSERT_EQ(keys.size(), 50u);
    EXPECT_EQ(keys[0].expiresAtMs, kCreatedAt + 49 + kGrace);
    for (size_t i = 1; i < keys.size(); ++i) EXPECT_LE(keys[i].expiresAtMs, kCreatedAt + 49);
}

TEST_F(SqliteCredentialStoreTest, WaitsForAnotherProcessesWriteLockInsteadOfFailing) {
    const int64_t acct = account();
    // An operator command in another process, in the middle of its own write.
    SQLite::Database other(options().path, SQLite::OPEN_READWRITE);
    other.exec("BEGIN IMMEDIATE");
    other.exec("UPDATE accounts SET created_at_ms = 7");

    auto pending =
        std::async(std::launch::async, [&] { return store_.createUser(newUser(acct, "late")); });
    // Not a synchronisation sleep: a bounded check that the write does not complete while the
    // lock is held (it cannot, whatever the timing), which also gives it time to start waiting.
    EXPECT_EQ(pending.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
    other.exec("COMMIT");

    auto r = pending.get();
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_TRUE(find("late").has_value());
    EXPECT_EQ(must(store_.findAccountByEmail("owner@example.com"))->createdAtMs, 7);
}

TEST_F(SqliteCredentialStoreTest, AWriteLockHeldBeyondTheBusyTimeoutIsUnavailable) {
    SqliteOptions o = options();
    o.busyTimeoutMs = 20;
    SqliteBackend impatient(o);
    const ApiUser u = user("sender");

    SQLite::Database other(options().path, SQLite::OPEN_READWRITE);
    other.exec("BEGIN IMMEDIATE");
    auto r = impatient.credentials().rotateKey(u.id, rotation(1, 5, 5 + kGrace));
    other.exec("ROLLBACK");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, StoreError::Kind::Unavailable);
    // Nothing half done.
    EXPECT_EQ(find("sender")->keyHash, binaryKeyHash());
    EXPECT_TRUE(must(store_.retiredKeys(u.id)).empty());
}

}  // namespace
}  // namespace sc::store
