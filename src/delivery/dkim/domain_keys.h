#pragma once
// Sending domains and their DKIM keys, for the operator commands, the management API and the
// signer (docs/delivery.md, "DKIM"): keys are generated here, sealed with the server secret's
// box key (auth::KeyMaterial, as SMS keys are) before the store sees them, and opened only into
// the signer's short-lived cache. What DNS must hold is computed from the public halves.

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "auth/key_material.h"
#include "common/clock.h"
#include "common/random.h"
#include "common/result.h"
#include "delivery/dkim/dkim_keys.h"
#include "delivery/dkim/dkim_signer.h"
#include "store/domain_store.h"

namespace sc::delivery::dkim {

struct DomainError {
    enum class Kind { Invalid, NotFound, Conflict, Unavailable };
    Kind kind = Kind::Invalid;
    std::string message;  // for a person; never holds key material
};

struct DnsRecord {
    std::string name;   // "sc1._domainkey.acme.io"
    std::string type;   // "TXT"
    std::string value;  // the whole value, strings joined ("v=DKIM1; k=rsa; p=...")
    std::string selector;
    bool retired = false;  // published for messages already signed, no longer signing
};

// "acme.io" lower-cased when it is a domain name (LDH labels, a dot, at most 253 octets).
std::optional<std::string> normaliseDomain(std::string_view text);

// The next selector after `selector`: its trailing number plus one ("sc1" -> "sc2"), or "2"
// appended.
std::string nextSelector(std::string_view selector);

class DomainKeys {
public:
    // How long a running server signs with what it read before it reads the store again, so an
    // operator's rotate or remove takes effect within this time.
    static constexpr int64_t kCacheMs = 30'000;

    DomainKeys(store::DomainStore& store, const auth::KeyMaterial& keys, Random& random,
               const Clock& clock);

    Result<store::SendingDomain, DomainError> add(std::string_view domain, int64_t accountId,
                                                  DkimAlgorithm algorithm,
                                                  std::string_view selector);
    // A new active key (same algorithm unless given; selector: nextSelector() of the active one
    // unless given); the old one is retired, still published.
    Result<store::SendingDomain, DomainError> rotate(std::string_view domain,
                                                     std::optional<DkimAlgorithm> algorithm,
                                                     std::string_view selector);
    // The whole domain, or (selector given) one retired key.
    Result<Ok, DomainError> remove(std::string_view domain, std::string_view selector);
    Result<std::optional<store::SendingDomain>, DomainError> find(std::string_view domain);
    Result<std::vector<store::SendingDomain>, DomainError> list(int64_t accountId);

    // The TXT records of every key of `d`, the active one first.
    static std::vector<DnsRecord> dnsRecords(const store::SendingDomain& d);

    // The signer's KeySource: the active key of a From domain, opened, cached for kCacheMs.
    // Thread-safe. A store failure answers nullopt (the message goes unsigned rather than
    // stuck) and is retried at the next message.
    std::optional<SigningKey> activeKey(std::string_view fromDomain);
    KeySource keySource() {
        return [this](std::string_view d) { return activeKey(d); };
    }

private:
    Result<store::DkimKeyRecord, DomainError> makeKey(DkimAlgorithm algorithm,
                                                      std::string_view selector);

    store::DomainStore& store_;
    const auth::KeyMaterial& keys_;
    Random& random_;
    const Clock& clock_;

    struct Cached {
        std::optional<SigningKey> key;
        int64_t fetchedAtMs = 0;
    };
    std::mutex mutex_;
    std::unordered_map<std::string, Cached> cache_;
};

}  // namespace sc::delivery::dkim
