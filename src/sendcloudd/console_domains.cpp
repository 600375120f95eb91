#include "sendcloudd/console_domains.h"

#include <algorithm>

#include "console/console_errors.h"
#include "delivery/dkim/domain_keys.h"
#include "delivery/smtp/mx_resolver.h"
#include "sendcloudd/email_delivery.h"

namespace sc::app {

namespace {

using delivery::dkim::DomainError;
using delivery::dkim::DomainKeys;

api::ApiError apiError(const DomainError& e) {
    switch (e.kind) {
        case DomainError::Kind::Invalid:
            return console::badRequest(e.message);
        case DomainError::Kind::NotFound:
            return console::err(404, "console.not_found", e.message);
        case DomainError::Kind::Conflict:
            return console::err(409, "console.domain_exists", e.message);
        case DomainError::Kind::Unavailable:
            break;
    }
    return api::storeUnavailable(api::StoreCaller::Console);
}

console::DomainView viewOf(const store::SendingDomain& d) {
    console::DomainView v;
    v.domain = d.domain;
    v.accountId = d.accountId;
    v.createdAtMs = d.createdAtMs;
    const auto records = DomainKeys::dnsRecords(d);
    for (const auto& r : records) {
        console::DomainKeyView k;
        k.selector = r.selector;
        k.active = !r.retired;
        k.dnsName = r.name;
        k.dnsValue = r.value;
        for (const auto& key : d.keys) {
            if (key.selector == r.selector) {
                k.algorithm = key.algorithm;
                k.createdAtMs = key.createdAtMs;
            }
        }
        v.keys.push_back(std::move(k));
    }
    return v;
}

std::string withoutSpaces(std::string s) {
    std::erase_if(s, [](char c) { return c == ' ' || c == '\t'; });
    return s;
}

class ServerDomainAdmin final : public console::DomainAdmin {
public:
    ServerDomainAdmin(Runtime& rt, const Settings& settings)
        : keys_(rt.backend->domains(), *rt.keys, rt.random, rt.clock),
          resolver_(dnsServers(settings), std::chrono::milliseconds(3000)) {}

    Result<std::vector<console::DomainView>, api::ApiError> list(int64_t accountId) override {
        auto all = keys_.list(accountId);
        if (!all) return fail(apiError(all.error()));
        std::vector<console::DomainView> out;
        for (const auto& d : all.value()) out.push_back(viewOf(d));
        return out;
    }
    Result<std::optional<console::DomainView>, api::ApiError> find(
        std::string_view domain) override {
        auto d = keys_.find(domain);
        if (!d) return fail(apiError(d.error()));
        if (!d.value()) return std::optional<console::DomainView>();
        return std::optional<console::DomainView>(viewOf(*d.value()));
    }
    Result<console::DomainView, api::ApiError> add(int64_t accountId, std::string_view domain,
                                                   std::string_view algorithm) override {
        auto alg = delivery::dkim::parseAlgorithm(algorithm);
        if (!alg) return fail(console::badRequest("algorithm must be rsa or ed25519"));
        auto d = keys_.add(domain, accountId, *alg, "");
        if (!d) return fail(apiError(d.error()));
        return viewOf(d.value());
    }
    Result<console::DomainView, api::ApiError> rotate(std::string_view domain,
                                                      std::string_view algorithm) override {
        std::optional<delivery::dkim::DkimAlgorithm> alg;
        if (!algorithm.empty()) {
            alg = delivery::dkim::parseAlgorithm(algorithm);
            if (!alg) return fail(console::badRequest("algorithm must be rsa or ed25519"));
        }
        auto d = keys_.rotate(domain, alg, "");
        if (!d) return fail(apiError(d.error()));
        return viewOf(d.value());
    }
    Result<Ok, api::ApiError> remove(std::string_view domain) override {
        auto r = keys_.remove(domain, "");
        if (!r) return fail(apiError(r.error()));
        return Ok{};
    }
    console::DnsCheck check(const std::string& name, const std::string& value) override {
        using S = delivery::smtp::TxtAnswer::Status;
        const auto answer = resolver_.lookupTxt(name);
        if (answer.status == S::TryAgain) return console::DnsCheck::Unknown;
        if (answer.status == S::NotFound) return console::DnsCheck::Missing;
        const std::string want = withoutSpaces(value);
        const bool found =
            std::any_of(answer.records.begin(), answer.records.end(),
                        [&](const std::string& r) { return withoutSpaces(r) == want; });
        return found ? console::DnsCheck::Published : console::DnsCheck::Different;
    }

private:
    DomainKeys keys_;
    delivery::smtp::MxResolver resolver_;
};

}  // namespace

std::unique_ptr<console::DomainAdmin> makeConsoleDomainAdmin(Runtime& rt,
                                                             const Settings& settings) {
    return std::make_unique<ServerDomainAdmin>(rt, settings);
}

}  // namespace sc::app
