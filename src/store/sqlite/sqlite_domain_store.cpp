#include "store/sqlite/sqlite_domain_store.h"

#include <string>
#include <utility>

namespace sc::store::sqlite {

namespace {

constexpr const char* kInsertDomain =
    "INSERT INTO sending_domains (account_id, domain, created_at_ms) VALUES (?, ?, ?) "
    "RETURNING id";
constexpr const char* kInsertKey =
    "INSERT INTO dkim_keys (domain_id, selector, algorithm, public_key, private_key_sealed, "
    "created_at_ms) VALUES (?, ?, ?, ?, ?, ?)";
constexpr const char* kSelectDomains =
    "SELECT d.id, d.account_id, a.email, d.domain, d.created_at_ms FROM sending_domains d "
    "JOIN accounts a ON a.id = d.account_id ";
// The active key first, then retired ones, newest first.
constexpr const char* kSelectKeys =
    "SELECT id, selector, algorithm, public_key, private_key_sealed, created_at_ms, "
    "retired_at_ms FROM dkim_keys WHERE domain_id = ? "
    "ORDER BY retired_at_ms IS NOT NULL, created_at_ms DESC, id DESC";
constexpr const char* kDomainId = "SELECT id FROM sending_domains WHERE domain = ?";
constexpr const char* kRetireActive =
    "UPDATE dkim_keys SET retired_at_ms = ? WHERE domain_id = ? AND retired_at_ms IS NULL";
constexpr const char* kDeleteDomain = "DELETE FROM sending_domains WHERE domain = ?";
constexpr const char* kDeleteRetiredKey =
    "DELETE FROM dkim_keys WHERE selector = ? AND retired_at_ms IS NOT NULL AND domain_id = "
    "(SELECT id FROM sending_domains WHERE domain = ?)";

StoreError notFound(const char* what) {
    return storeError(StoreError::Kind::NotFound, what);
}

void insertKey(Connection& c, int64_t domainId, const DkimKeyRecord& k) {
    ScopedStatement s(c, kInsertKey);
    bindInt(*s, 1, domainId);
    bindText(*s, 2, k.selector);
    bindText(*s, 3, k.algorithm);
    bindText(*s, 4, k.publicKey);
    bindBlob(*s, 5, k.sealedPrivateKey);
    bindInt(*s, 6, k.createdAtMs);
    s->exec();
}

void readKeys(Connection& c, SendingDomain& d) {
    ScopedStatement s(c, kSelectKeys);
    bindInt(*s, 1, d.id);
    while (s->executeStep()) {
        DkimKeyRecord k;
        k.id = s->getColumn(0).getInt64();
        k.selector = columnBytes(*s, 1);
        k.algorithm = columnBytes(*s, 2);
        k.publicKey = columnBytes(*s, 3);
        k.sealedPrivateKey = columnBytes(*s, 4);
        k.createdAtMs = s->getColumn(5).getInt64();
        if (!s->getColumn(6).isNull()) k.retiredAtMs = s->getColumn(6).getInt64();
        d.keys.push_back(std::move(k));
    }
}

std::vector<SendingDomain> readDomains(Connection& c, const std::string& where,
                                       std::string_view textArg, int64_t intArg) {
    std::vector<SendingDomain> out;
    {
        ScopedStatement s(c, std::string(kSelectDomains) + where);
        if (!textArg.empty()) bindText(*s, 1, textArg);
        if (intArg != 0) bindInt(*s, 1, intArg);
        while (s->executeStep()) {
            SendingDomain d;
            d.id = s->getColumn(0).getInt64();
            d.accountId = s->getColumn(1).getInt64();
            d.accountEmail = columnBytes(*s, 2);
            d.domain = columnBytes(*s, 3);
            d.createdAtMs = s->getColumn(4).getInt64();
            out.push_back(std::move(d));
        }
    }
    for (auto& d : out) readKeys(c, d);
    return out;
}

std::optional<SendingDomain> readDomain(Connection& c, std::string_view domain) {
    auto all = readDomains(c, "WHERE d.domain = ?", domain, 0);
    if (all.empty()) return std::nullopt;
    return std::move(all.front());
}

}  // namespace

SqliteDomainStore::SqliteDomainStore(ConnectionPool& pool) : pool_(pool) {}

Result<SendingDomain, StoreError> SqliteDomainStore::addDomain(const SendingDomain& d) {
    try {
        auto conn = pool_.acquire();
        return inWriteTransactionIfOk(*conn, [&]() -> Result<SendingDomain, StoreError> {
            int64_t id = 0;
            {
                ScopedStatement s(*conn, kInsertDomain);
                bindInt(*s, 1, d.accountId);
                bindText(*s, 2, d.domain);
                bindInt(*s, 3, d.createdAtMs);
                while (s->executeStep()) id = s->getColumn(0).getInt64();
            }
            for (const auto& k : d.keys) insertKey(*conn, id, k);
            auto row = readDomain(*conn, d.domain);
            if (!row) return fail(storeError(StoreError::Kind::Internal, "insert answered no row"));
            return std::move(*row);
        });
    } catch (const SQLite::Exception& e) {
        if (isForeignKeyViolation(e)) return fail(notFound("no such account"));
        return fail(toStoreError(e));
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

Result<std::optional<SendingDomain>, StoreError> SqliteDomainStore::findDomain(
    std::string_view domain) {
    try {
        auto conn = pool_.acquire();
        return readDomain(*conn, domain);
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

Result<std::vector<SendingDomain>, StoreError> SqliteDomainStore::listDomains(int64_t accountId) {
    try {
        auto conn = pool_.acquire();
        return accountId == 0
                   ? readDomains(*conn, "ORDER BY d.domain", {}, 0)
                   : readDomains(*conn, "WHERE d.account_id = ? ORDER BY d.domain", {}, accountId);
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

Result<SendingDomain, StoreError> SqliteDomainStore::rotateKey(std::string_view domain,
                                                               const DkimKeyRecord& key,
                                                               int64_t atMs) {
    try {
        auto conn = pool_.acquire();
        return inWriteTransactionIfOk(*conn, [&]() -> Result<SendingDomain, StoreError> {
            int64_t id = 0;
            {
                ScopedStatement s(*conn, kDomainId);
                bindText(*s, 1, domain);
                if (!s->executeStep()) return fail(notFound("no such domain"));
                id = s->getColumn(0).getInt64();
            }
            {
                ScopedStatement s(*conn, kRetireActive);
                bindInt(*s, 1, atMs);
                bindInt(*s, 2, id);
                s->exec();
            }
            insertKey(*conn, id, key);
            auto row = readDomain(*conn, domain);
            if (!row) return fail(notFound("no such domain"));
            return std::move(*row);
        });
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

Result<Ok, StoreError> SqliteDomainStore::removeDomain(std::string_view domain) {
    try {
        auto conn = pool_.acquire();
        return inWriteTransactionIfOk(*conn, [&]() -> Result<Ok, StoreError> {
            ScopedStatement s(*conn, kDeleteDomain);
            bindText(*s, 1, domain);
            if (s->exec() == 0) return fail(notFound("no such domain"));
            return Ok{};
        });
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

Result<Ok, StoreError> SqliteDomainStore::removeRetiredKey(std::string_view domain,
                                                           std::string_view selector) {
    try {
        auto conn = pool_.acquire();
        return inWriteTransactionIfOk(*conn, [&]() -> Result<Ok, StoreError> {
            ScopedStatement s(*conn, kDeleteRetiredKey);
            bindText(*s, 1, selector);
            bindText(*s, 2, domain);
            if (s->exec() == 0) return fail(notFound("no retired key with that selector"));
            return Ok{};
        });
    } catch (const std::exception& e) {
        return fail(toStoreError(e));
    }
}

}  // namespace sc::store::sqlite
