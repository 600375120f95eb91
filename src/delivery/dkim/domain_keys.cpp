#include "delivery/dkim/domain_keys.h"

#include <sodium.h>

#include <algorithm>

namespace sc::delivery::dkim {

namespace {

DomainError err(DomainError::Kind kind, std::string message) {
    return DomainError{kind, std::move(message)};
}

DomainError fromStore(const store::StoreError& e, const std::string& domain) {
    using K = store::StoreError::Kind;
    switch (e.kind) {
        case K::NotFound:
            return err(DomainError::Kind::NotFound, e.message + " (" + domain + ")");
        case K::Conflict:
        case K::Duplicate:
            return err(DomainError::Kind::Conflict,
                       domain + " is registered already, or has that selector already");
        default:
            return err(DomainError::Kind::Unavailable, e.message);
    }
}

}  // namespace

std::optional<std::string> normaliseDomain(std::string_view text) {
    if (text.empty() || text.size() > 253) return std::nullopt;
    std::string out;
    size_t label = 0;
    bool dot = false;
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c == '.') {
            if (label == 0 || out.back() == '-') return std::nullopt;
            label = 0;
            dot = true;
        } else {
            bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
            if (!ok || (c == '-' && label == 0) || ++label > 63) return std::nullopt;
        }
        out += c;
    }
    if (!dot || label == 0 || out.back() == '-') return std::nullopt;
    return out;
}

std::string nextSelector(std::string_view selector) {
    size_t digits = selector.size();
    while (digits > 0 && selector[digits - 1] >= '0' && selector[digits - 1] <= '9') --digits;
    if (digits == selector.size() || selector.size() - digits > 9) {
        return std::string(selector) + "2";
    }
    long n = std::stol(std::string(selector.substr(digits)));
    return std::string(selector.substr(0, digits)) + std::to_string(n + 1);
}

DomainKeys::DomainKeys(store::DomainStore& store, const auth::KeyMaterial& keys, Random& random,
                       const Clock& clock)
    : store_(store), keys_(keys), random_(random), clock_(clock) {}

Result<store::DkimKeyRecord, DomainError> DomainKeys::makeKey(DkimAlgorithm algorithm,
                                                              std::string_view selector) {
    if (!isValidSelector(selector)) {
        return fail(
            err(DomainError::Kind::Invalid, "the selector '" + std::string(selector.substr(0, 80)) +
                                                "' is not a DNS label (letters, digits and '-')"));
    }
    auto generated = generateKey(algorithm);
    if (!generated) return fail(err(DomainError::Kind::Unavailable, generated.error()));
    store::DkimKeyRecord k;
    k.selector = std::string(selector);
    k.algorithm = std::string(algorithmName(algorithm));
    k.publicKey = generated->publicKeyBase64;
    k.sealedPrivateKey = keys_.seal(generated->privatePem, random_);
    k.createdAtMs = clock_.nowMillis();
    sodium_memzero(generated->privatePem.data(), generated->privatePem.size());
    return k;
}

Result<store::SendingDomain, DomainError> DomainKeys::add(std::string_view domain,
                                                          int64_t accountId,
                                                          DkimAlgorithm algorithm,
                                                          std::string_view selector) {
    auto name = normaliseDomain(domain);
    if (!name) {
        return fail(err(DomainError::Kind::Invalid, "'" + std::string(domain.substr(0, 100)) +
                                                        "' is not a domain name (e.g. acme.io)"));
    }
    auto key = makeKey(algorithm, selector.empty() ? "sc1" : selector);
    if (!key) return fail(key.error());
    store::SendingDomain d;
    d.accountId = accountId;
    d.domain = *name;
    d.createdAtMs = clock_.nowMillis();
    d.keys.push_back(std::move(key).value());
    auto added = store_.addDomain(d);
    if (!added) return fail(fromStore(added.error(), *name));
    return std::move(added).value();
}

Result<store::SendingDomain, DomainError> DomainKeys::rotate(std::string_view domain,
                                                             std::optional<DkimAlgorithm> algorithm,
                                                             std::string_view selector) {
    auto name = normaliseDomain(domain).value_or(std::string(domain));
    auto found = store_.findDomain(name);
    if (!found) return fail(fromStore(found.error(), name));
    if (!found.value()) return fail(err(DomainError::Kind::NotFound, "no domain " + name));
    const store::DkimKeyRecord* active = found.value()->activeKey();
    std::string sel(selector);
    if (sel.empty()) {
        sel = nextSelector(active ? active->selector : "sc0");
        // Skip selectors still held by retired keys.
        auto taken = [&](const std::string& s) {
            return std::any_of(found.value()->keys.begin(), found.value()->keys.end(),
                               [&](const auto& k) { return k.selector == s; });
        };
        while (taken(sel)) sel = nextSelector(sel);
    }
    DkimAlgorithm alg =
        algorithm.value_or(active ? parseAlgorithm(active->algorithm).value_or(DkimAlgorithm::Rsa)
                                  : DkimAlgorithm::Rsa);
    auto key = makeKey(alg, sel);
    if (!key) return fail(key.error());
    auto rotated = store_.rotateKey(name, *key, clock_.nowMillis());
    if (!rotated) return fail(fromStore(rotated.error(), name));
    std::lock_guard lock(mutex_);
    cache_.erase(name);
    return std::move(rotated).value();
}

Result<Ok, DomainError> DomainKeys::remove(std::string_view domain, std::string_view selector) {
    auto name = normaliseDomain(domain).value_or(std::string(domain));
    auto r = selector.empty() ? store_.removeDomain(name) : store_.removeRetiredKey(name, selector);
    if (!r) return fail(fromStore(r.error(), name));
    std::lock_guard lock(mutex_);
    cache_.erase(name);
    return Ok{};
}

Result<std::optional<store::SendingDomain>, DomainError> DomainKeys::find(std::string_view domain) {
    auto name = normaliseDomain(domain).value_or(std::string(domain));
    auto r = store_.findDomain(name);
    if (!r) return fail(fromStore(r.error(), name));
    return std::move(r).value();
}

Result<std::vector<store::SendingDomain>, DomainError> DomainKeys::list(int64_t accountId) {
    auto r = store_.listDomains(accountId);
    if (!r) return fail(fromStore(r.error(), "domains"));
    return std::move(r).value();
}

std::vector<DnsRecord> DomainKeys::dnsRecords(const store::SendingDomain& d) {
    std::vector<DnsRecord> out;
    for (const auto& k : d.keys) {
        auto alg = parseAlgorithm(k.algorithm).value_or(DkimAlgorithm::Rsa);
        out.push_back(DnsRecord{dnsRecordName(k.selector, d.domain), "TXT",
                                dnsTxtValue(alg, k.publicKey), k.selector,
                                k.retiredAtMs.has_value()});
    }
    return out;
}

std::optional<SigningKey> DomainKeys::activeKey(std::string_view fromDomain) {
    std::string name(fromDomain);
    for (char& c : name) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    const int64_t now = clock_.nowMillis();
    {
        std::lock_guard lock(mutex_);
        auto it = cache_.find(name);
        if (it != cache_.end() && now - it->second.fetchedAtMs < kCacheMs &&
            now >= it->second.fetchedAtMs) {
            return it->second.key;
        }
    }
    auto found = store_.findDomain(name);
    if (!found) return std::nullopt;  // not cached: the next message asks again
    Cached entry{std::nullopt, now};
    if (found.value()) {
        if (const auto* k = found.value()->activeKey()) {
            if (auto pem = keys_.open(k->sealedPrivateKey)) {
                entry.key = SigningKey{name, k->selector,
                                       parseAlgorithm(k->algorithm).value_or(DkimAlgorithm::Rsa),
                                       std::move(*pem)};
            }
        }
    }
    std::lock_guard lock(mutex_);
    // Bounded: one entry per From domain seen, and From domains are the accounts' own.
    if (cache_.size() > 10'000) cache_.clear();
    cache_[name] = entry;
    return entry.key;
}

}  // namespace sc::delivery::dkim
