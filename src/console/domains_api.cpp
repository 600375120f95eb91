#include "console/domains_api.h"

#include <nlohmann/json.hpp>

#include "console/console_errors.h"
#include "console/time_param.h"

namespace sc::console {

namespace {

using json = nlohmann::json;

std::string_view checkName(DnsCheck c) {
    switch (c) {
        case DnsCheck::Published:
            return "published";
        case DnsCheck::Missing:
            return "missing";
        case DnsCheck::Different:
            return "different";
        case DnsCheck::Unknown:
            break;
    }
    return "unknown";
}

// The domain as the console shows it; `dns` looks each record up (the list), or not (answers to
// a change, where the record cannot be published yet).
json viewJson(const DomainView& d, const std::function<DnsCheck(const DomainKeyView&)>& dns) {
    json keys = json::array();
    for (const auto& k : d.keys) {
        json key{{"selector", k.selector},
                 {"algorithm", k.algorithm},
                 {"active", k.active},
                 {"createdAt", formatTimeMs(k.createdAtMs)},
                 {"dns", {{"name", k.dnsName}, {"type", "TXT"}, {"value", k.dnsValue}}}};
        if (dns) key["dns"]["status"] = checkName(dns(k));
        keys.push_back(std::move(key));
    }
    return json{{"domain", d.domain}, {"createdAt", formatTimeMs(d.createdAtMs)}, {"keys", keys}};
}

// A string field of the body: "" when absent, nullopt when not a string.
std::optional<std::string> textField(const json& body, const char* name) {
    if (!body.contains(name)) return std::string();
    if (!body[name].is_string()) return std::nullopt;
    return body[name].get<std::string>();
}

}  // namespace

DomainsApi::DomainsApi(DomainAdmin& admin, const SessionGuard& guard, WorkPool& pool)
    : admin_(admin), guard_(guard), pool_(pool) {}

void DomainsApi::registerRoutes(http::Router& router) {
    using M = http::Method;
    SessionRoutes routes(router, guard_);
    routes.addAsync({M::Get, M::Post}, "domains", BodyRule::RequiredOnPost,
                    [this](const SessionCall& call, http::Responder reply) {
                        if (call.req.method == M::Get) return list(call, std::move(reply));
                        add(call, std::move(reply));
                    });
    routes.addAsync(
        {M::Delete}, "domains/{domain}", BodyRule::Ignored,
        [this](const SessionCall& call, http::Responder reply) { remove(call, std::move(reply)); });
    routes.addAsync(
        {M::Post}, "domains/{domain}/rotate", BodyRule::Optional,
        [this](const SessionCall& call, http::Responder reply) { rotate(call, std::move(reply)); });
}

void DomainsApi::onPool(std::function<void()> work, const http::Responder& reply) {
    if (!pool_.post(std::move(work))) {
        api::ApiError busy = err(503, "console.busy", "the server is busy; retry in a moment");
        busy.headers.push_back({"retry-after", "1"});
        reply(errorOut(busy));
    }
}

void DomainsApi::list(const SessionCall& call, http::Responder reply) {
    onPool(
        [this, accountId = call.session.accountId, reply] {
            auto all = admin_.list(accountId);
            if (!all) return reply(errorOut(all.error()));
            json list = json::array();
            for (const auto& d : all.value()) {
                list.push_back(viewJson(d, [this](const DomainKeyView& k) {
                    return admin_.check(k.dnsName, k.dnsValue);
                }));
            }
            reply(ok({{"domains", std::move(list)}}));
        },
        reply);
}

void DomainsApi::add(const SessionCall& call, http::Responder reply) {
    auto algorithm = textField(call.body, "algorithm");
    auto domain = textField(call.body, "domain");
    if (!algorithm || !domain) {
        return reply(errorOut(badRequest("domain and algorithm must be strings")));
    }
    if (domain->empty()) return reply(errorOut(badRequest("domain is required")));
    onPool(
        [this, accountId = call.session.accountId, domain = *domain,
         algorithm = algorithm->empty() ? std::string("rsa") : *algorithm, reply] {
            auto added = admin_.add(accountId, domain, algorithm);
            if (!added) return reply(errorOut(added.error()));
            reply(ok({{"domain", viewJson(added.value(), nullptr)}}));
        },
        reply);
}

Result<Ok, api::ApiError> DomainsApi::owned(const std::string& domain, int64_t accountId) {
    auto found = admin_.find(domain);
    if (!found) return fail(found.error());
    // Another account's domain reads as unknown.
    if (!found.value() || found.value()->accountId != accountId) {
        return fail(err(404, "console.not_found", "no such sending domain in this account"));
    }
    return Ok{};
}

void DomainsApi::rotate(const SessionCall& call, http::Responder reply) {
    auto algorithm = textField(call.body, "algorithm");
    if (!algorithm) return reply(errorOut(badRequest("domain and algorithm must be strings")));
    onPool(
        [this, accountId = call.session.accountId, domain = std::string(call.path.get("domain")),
         algorithm = *algorithm, reply] {
            if (auto r = owned(domain, accountId); !r) return reply(errorOut(r.error()));
            auto rotated = admin_.rotate(domain, algorithm);
            if (!rotated) return reply(errorOut(rotated.error()));
            reply(ok({{"domain", viewJson(rotated.value(), nullptr)}}));
        },
        reply);
}

void DomainsApi::remove(const SessionCall& call, http::Responder reply) {
    onPool(
        [this, accountId = call.session.accountId, domain = std::string(call.path.get("domain")),
         reply] {
            if (auto r = owned(domain, accountId); !r) return reply(errorOut(r.error()));
            auto removed = admin_.remove(domain);
            if (!removed) return reply(errorOut(removed.error()));
            reply(ok({{"removed", domain}}));
        },
        reply);
}

}  // namespace sc::console
