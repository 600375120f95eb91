#include "console/domains_api.h"

#include <nlohmann/json.hpp>

#include "console/console_errors.h"
#include "console/str_cat.h"
#include "console/time_param.h"

namespace sc::console {

namespace {

using json = nlohmann::json;
constexpr std::string_view kPath = "/console/api/domains";

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

http::Response withUser(http::Response r, int64_t accountId) {
    r.logUser = strCat("account:", accountId);
    return r;
}

}  // namespace

DomainsApi::DomainsApi(DomainAdmin& admin, const SessionGuard& guard, WorkPool& pool)
    : admin_(admin), guard_(guard), pool_(pool) {}

void DomainsApi::registerRoutes(http::Router& router) {
    router.addPrefix(std::string(kPath), [this](const http::Request& req, http::Responder reply) {
        handle(req, std::move(reply));
    });
}

void DomainsApi::handle(const http::Request& req, http::Responder reply) {
    using M = http::Method;
    // /console/api/domains or /console/api/domains/<domain>[/rotate]; anything else that merely
    // starts with the prefix is not ours.
    std::string_view rest = std::string_view(req.path).substr(kPath.size());
    std::string domain;
    bool rotate = false;
    if (!rest.empty()) {
        if (rest.front() != '/' || rest.size() == 1) {
            reply(errorOut(err(404, "request.not_found", "no such endpoint")));
            return;
        }
        rest.remove_prefix(1);
        const auto slash = rest.find('/');
        domain = std::string(rest.substr(0, slash));
        if (slash != std::string_view::npos) {
            if (rest.substr(slash + 1) != "rotate") {
                reply(errorOut(err(404, "request.not_found", "no such endpoint")));
                return;
            }
            rotate = true;
        }
    }
    const bool collection = domain.empty();
    const bool allowed = collection ? (req.method == M::Get || req.method == M::Post)
                         : rotate   ? req.method == M::Post
                                    : req.method == M::Delete;
    if (!allowed) {
        const std::string methods = collection ? "GET, POST" : rotate ? "POST" : "DELETE";
        api::ApiError e =
            err(405, "request.method_not_allowed",
                strCat(http::methodName(req.method), " is not allowed here; use ", methods));
        e.headers.push_back({"allow", methods});
        reply(errorOut(e));
        return;
    }
    auto session = guard_.authenticate(req);
    if (!session) {
        reply(errorOut(session.error()));
        return;
    }
    json body = json::object();
    if (req.method == M::Post) {
        auto b = jsonBody(req, /*required=*/collection);
        if (!b) {
            reply(errorOut(b.error()));
            return;
        }
        body = std::move(b).value();
    }
    const int64_t accountId = session->accountId;
    auto text = [&](const char* name) -> std::optional<std::string> {
        if (!body.contains(name)) return std::string();
        if (!body[name].is_string()) return std::nullopt;
        return body[name].get<std::string>();
    };
    auto algorithm = text("algorithm");
    auto newDomain = text("domain");
    if (!algorithm || !newDomain) {
        reply(errorOut(badRequest("domain and algorithm must be strings")));
        return;
    }
    auto work = [this, accountId, collection, rotate, domain, method = req.method,
                 algorithm = *algorithm, newDomain = *newDomain, reply]() {
        if (collection && method == M::Get) {
            auto all = admin_.list(accountId);
            if (!all) return reply(errorOut(all.error()));
            json list = json::array();
            for (const auto& d : all.value()) {
                list.push_back(viewJson(d, [this](const DomainKeyView& k) {
                    return admin_.check(k.dnsName, k.dnsValue);
                }));
            }
            return reply(withUser(ok({{"domains", std::move(list)}}), accountId));
        }
        if (collection) {
            if (newDomain.empty()) return reply(errorOut(badRequest("domain is required")));
            auto added = admin_.add(accountId, newDomain, algorithm.empty() ? "rsa" : algorithm);
            if (!added) return reply(errorOut(added.error()));
            return reply(withUser(ok({{"domain", viewJson(added.value(), nullptr)}}), accountId));
        }
        // One domain: only its owner may see or change it; another account's reads as unknown.
        auto found = admin_.find(domain);
        if (!found) return reply(errorOut(found.error()));
        if (!found.value() || found.value()->accountId != accountId) {
            return reply(
                errorOut(err(404, "console.not_found", "no such sending domain in this account")));
        }
        if (rotate) {
            auto rotated = admin_.rotate(domain, algorithm);
            if (!rotated) return reply(errorOut(rotated.error()));
            return reply(withUser(ok({{"domain", viewJson(rotated.value(), nullptr)}}), accountId));
        }
        auto removed = admin_.remove(domain);
        if (!removed) return reply(errorOut(removed.error()));
        return reply(withUser(ok({{"removed", domain}}), accountId));
    };
    if (!pool_.post(work)) {
        api::ApiError busy = err(503, "console.busy", "the server is busy; retry in a moment");
        busy.headers.push_back({"retry-after", "1"});
        reply(errorOut(busy));
    }
}

}  // namespace sc::console
