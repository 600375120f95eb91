#pragma once
// DomainStore: an account's sending domains and their DKIM keys (docs/delivery.md, "DKIM").
// A domain belongs to one account. Each key has a selector; exactly one key of a domain signs
// (the active one); a rotate retires the active key, which stays published in DNS (and here)
// but no longer signs, until the operator removes it. Private keys are stored sealed (the caller
// seals them: src/delivery/dkim/domain_keys.h); the store never sees them in the clear.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "store/records.h"

namespace sc::store {

struct DkimKeyRecord {
    int64_t id = 0;
    std::string selector;
    std::string algorithm;         // "rsa" | "ed25519"
    std::string publicKey;         // the p= value (base64)
    std::string sealedPrivateKey;  // nonce || secretbox(PKCS#8 PEM)
    int64_t createdAtMs = 0;
    std::optional<int64_t> retiredAtMs;  // set: published, no longer signing
};

struct SendingDomain {
    int64_t id = 0;
    int64_t accountId = 0;
    std::string accountEmail;  // filled by reads
    std::string domain;        // lower case
    int64_t createdAtMs = 0;
    std::vector<DkimKeyRecord> keys;  // the active key first, then retired ones, newest first

    const DkimKeyRecord* activeKey() const {
        for (const auto& k : keys) {
            if (!k.retiredAtMs) return &k;
        }
        return nullptr;
    }
};

class DomainStore {
public:
    virtual ~DomainStore() = default;

    // `d` with its first key. Conflict when the domain is registered already (to any account);
    // NotFound when the account does not exist.
    virtual Result<SendingDomain, StoreError> addDomain(const SendingDomain& d) = 0;
    virtual Result<std::optional<SendingDomain>, StoreError> findDomain(
        std::string_view domain) = 0;
    // Ordered by domain; accountId 0: every account's.
    virtual Result<std::vector<SendingDomain>, StoreError> listDomains(int64_t accountId) = 0;
    // Retires the active key at `atMs` and adds `key` as the active one, in one transaction.
    // Conflict when the domain already has that selector; NotFound when no such domain.
    virtual Result<SendingDomain, StoreError> rotateKey(std::string_view domain,
                                                        const DkimKeyRecord& key, int64_t atMs) = 0;
    // The domain and all its keys. NotFound when there is none.
    virtual Result<Ok, StoreError> removeDomain(std::string_view domain) = 0;
    // One retired key (it is no longer needed in DNS). NotFound when the domain has no retired
    // key with that selector (the active key is removed only with its domain).
    virtual Result<Ok, StoreError> removeRetiredKey(std::string_view domain,
                                                    std::string_view selector) = 0;
};

}  // namespace sc::store
