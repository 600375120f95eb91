#pragma once
// DomainsApi: the console's sending domains (Email API → Domains), the management API behind it:
//   GET    /console/api/domains                 the account's domains, each key's DNS record and
//                                               whether DNS already holds it ("published")
//   POST   /console/api/domains                 {"domain", "algorithm": "rsa"|"ed25519"} adds one
//   POST   /console/api/domains/<domain>/rotate {"algorithm"?} a new signing key; the old one
//                                               stays published for mail already signed
//   DELETE /console/api/domains/<domain>        removes the domain and its keys
// (docs/api.md §15).
// A session is required (and its CSRF token for changes); another account's domain reads as
// unknown. Key generation and DNS look-ups block, so handlers run on the WorkPool. The DKIM code
// lives in delivery/dkim, which the console may not include: it is reached through DomainAdmin,
// implemented where the server is wired (src/sendcloudd).

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "api/api_error.h"
#include "common/result.h"
#include "console/api_room.h"
#include "console/work_pool.h"
#include "http/router.h"

namespace sc::console {

struct DomainKeyView {
    std::string selector;
    std::string algorithm;  // "rsa" | "ed25519"
    bool active = false;    // signs new mail; the others are retired, still published
    int64_t createdAtMs = 0;
    std::string dnsName;   // "sc1._domainkey.acme.io"
    std::string dnsValue;  // "v=DKIM1; k=rsa; p=..."
};

struct DomainView {
    std::string domain;
    int64_t accountId = 0;
    int64_t createdAtMs = 0;
    std::vector<DomainKeyView> keys;  // the active key first
};

// What DNS says about one record.
enum class DnsCheck { Published, Missing, Different, Unknown };

class DomainAdmin {
public:
    virtual ~DomainAdmin() = default;
    virtual Result<std::vector<DomainView>, api::ApiError> list(int64_t accountId) = 0;
    virtual Result<std::optional<DomainView>, api::ApiError> find(std::string_view domain) = 0;
    virtual Result<DomainView, api::ApiError> add(int64_t accountId, std::string_view domain,
                                                  std::string_view algorithm) = 0;
    virtual Result<DomainView, api::ApiError> rotate(std::string_view domain,
                                                     std::string_view algorithm) = 0;
    virtual Result<Ok, api::ApiError> remove(std::string_view domain) = 0;
    // Published when a TXT record at `name` equals `value` (spaces ignored); Different when there
    // are TXT records but none matches; Unknown when DNS could not be asked.
    virtual DnsCheck check(const std::string& name, const std::string& value) = 0;
};

class DomainsApi {
public:
    DomainsApi(DomainAdmin& admin, const SessionGuard& guard, WorkPool& pool);

    void registerRoutes(http::Router& router);

private:
    void list(const SessionCall& call, http::Responder reply);
    void add(const SessionCall& call, http::Responder reply);
    void rotate(const SessionCall& call, http::Responder reply);
    void remove(const SessionCall& call, http::Responder reply);
    // Runs `work` on the pool, or answers 503 console.busy when the pool is full.
    void onPool(std::function<void()> work, const http::Responder& reply);
    // Only its owner may see or change a domain.
    Result<Ok, api::ApiError> owned(const std::string& domain, int64_t accountId);

    DomainAdmin& admin_;
    const SessionGuard& guard_;
    WorkPool& pool_;
};

}  // namespace sc::console
