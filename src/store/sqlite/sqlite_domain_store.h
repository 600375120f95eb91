#pragma once
// DomainStore on SQLite (tables sending_domains and dkim_keys). Like the other stores, each call
// borrows a pooled connection and reads the file afresh, so an operator command's change is
// seen by a running server at its next read.

#include "store/domain_store.h"
#include "store/sqlite/connection.h"

namespace sc::store::sqlite {

class SqliteDomainStore final : public DomainStore {
public:
    explicit SqliteDomainStore(ConnectionPool& pool);

    Result<SendingDomain, StoreError> addDomain(const SendingDomain& d) override;
    Result<std::optional<SendingDomain>, StoreError> findDomain(std::string_view domain) override;
    Result<std::vector<SendingDomain>, StoreError> listDomains(int64_t accountId) override;
    Result<SendingDomain, StoreError> rotateKey(std::string_view domain, const DkimKeyRecord& key,
                                                int64_t atMs) override;
    Result<Ok, StoreError> removeDomain(std::string_view domain) override;
    Result<Ok, StoreError> removeRetiredKey(std::string_view domain,
                                            std::string_view selector) override;

private:
    ConnectionPool& pool_;
};

}  // namespace sc::store::sqlite
