#include "sendcloudd/domain_commands.h"

#include <iostream>
#include <string>

#include "delivery/dkim/domain_keys.h"
#include "sendcloudd/runtime.h"

namespace sc::app {

using delivery::dkim::DkimAlgorithm;
using delivery::dkim::DomainKeys;

struct DomainCommands {
    CLI::App *add = nullptr, *dns = nullptr, *rotate = nullptr, *list = nullptr, *remove = nullptr;
    std::string domain, account, algorithm, selector;
};

namespace {

std::string isoTime(int64_t ms) {
    std::time_t s = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&s, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

int failWith(const delivery::dkim::DomainError& e) {
    std::cerr << "sendcloudd: " << e.message << "\n";
    return 1;
}

void printDns(const store::SendingDomain& d) {
    for (const auto& r : DomainKeys::dnsRecords(d)) {
        if (r.retired) {
            std::cout << "# retired selector " << r.selector
                      << ": no longer signs; keep it published for a few days so mail already "
                         "signed with it still verifies, then `sendcloudd domain remove "
                      << d.domain << " --selector " << r.selector << "` and delete the record\n";
        } else {
            std::cout << "# DKIM: the active key (selector " << r.selector << ")\n";
        }
        std::cout << r.name << " " << r.type << " " << delivery::dkim::zoneFileStrings(r.value)
                  << "\n";
    }
    std::cout << "# SPF: the envelope sender (return path) of mail from " << d.domain
              << " is the from address itself, so receivers check " << d.domain
              << "'s SPF record: it must allow this server's public addresses, e.g.\n"
              << "#   " << d.domain
              << " TXT \"v=spf1 ip4:203.0.113.7 ~all\"   (add to an existing record; one per "
                 "domain)\n"
              << "# DMARC: once SPF and DKIM pass, publish a policy, e.g.\n"
              << "#   _dmarc." << d.domain << " TXT \"v=DMARC1; p=none; rua=mailto:dmarc@"
              << d.domain << "\"\n";
}

// False after printing why; `out` stays empty when no --algorithm was given.
bool algorithmOf(const std::string& text, std::optional<DkimAlgorithm>& out) {
    out.reset();
    if (text.empty()) return true;
    auto a = delivery::dkim::parseAlgorithm(text);
    if (!a) {
        std::cerr << "sendcloudd: --algorithm is rsa or ed25519\n";
        return false;
    }
    out = *a;
    return true;
}

}  // namespace

std::shared_ptr<DomainCommands> addDomainCommands(CLI::App& app) {
    auto c = std::make_shared<DomainCommands>();
    auto* group = app.add_subcommand("domain", "sending domains and their DKIM keys");
    group->require_subcommand(1);
    group->fallthrough();
    c->add = group->add_subcommand("add", "register a sending domain and create its DKIM key");
    c->add->add_option("--account", c->account, "owning account's e-mail")->required();
    c->dns = group->add_subcommand("dns", "print the DNS records to publish");
    c->rotate = group->add_subcommand(
        "rotate", "new DKIM key under a new selector; the old one stays published, not signing");
    c->remove = group->add_subcommand(
        "remove", "remove the domain and its keys, or (--selector) one retired key");
    c->list = group->add_subcommand("list", "list sending domains and their selectors");
    c->list->add_option("--account", c->account, "only this account's domains");
    for (auto* sub : {c->add, c->rotate}) {
        sub->add_option("--algorithm", c->algorithm, "rsa (RSA-2048, default) or ed25519");
    }
    c->add->add_option("--selector", c->selector, "DKIM selector (default sc1)");
    c->rotate->add_option("--selector", c->selector, "new selector (default: the next number)");
    c->remove->add_option("--selector", c->selector, "remove only this retired key");
    for (auto* sub : {c->add, c->dns, c->rotate, c->remove}) {
        sub->add_option("DOMAIN", c->domain, "the domain of the from addresses")->required();
    }
    for (auto* sub : {c->add, c->dns, c->rotate, c->list, c->remove}) sub->fallthrough();
    return c;
}

std::optional<int> runDomainCommand(const DomainCommands& c, const Settings& settings) {
    bool any = false;
    for (auto* sub : {c.add, c.dns, c.rotate, c.list, c.remove}) any |= sub->parsed();
    if (!any) return std::nullopt;
    auto rt = openRuntime(settings);
    if (!rt) return 1;
    DomainKeys domains(rt->backend->domains(), *rt->keys, rt->random, rt->clock);

    if (c.add->parsed()) {
        std::optional<DkimAlgorithm> alg;
        if (!algorithmOf(c.algorithm, alg)) return 2;
        auto accountId = accountIdOf(*rt, c.account);
        if (!accountId) return 1;
        auto added =
            domains.add(c.domain, *accountId, alg.value_or(DkimAlgorithm::Rsa), c.selector);
        if (!added) return failWith(added.error());
        std::cout << "domain " << added->domain << " added for " << c.account
                  << "; publish these records:\n";
        printDns(*added);
        return 0;
    }
    if (c.rotate->parsed()) {
        std::optional<DkimAlgorithm> alg;
        if (!algorithmOf(c.algorithm, alg)) return 2;
        auto rotated = domains.rotate(c.domain, alg, c.selector);
        if (!rotated) return failWith(rotated.error());
        std::cout << "domain " << rotated->domain << ": new selector "
                  << rotated->activeKey()->selector
                  << " signs from now on (a running server within " << DomainKeys::kCacheMs / 1000
                  << " s); publish its record first if you can:\n";
        printDns(*rotated);
        return 0;
    }
    if (c.dns->parsed()) {
        auto found = domains.find(c.domain);
        if (!found) return failWith(found.error());
        if (!found.value()) {
            std::cerr << "sendcloudd: no domain " << c.domain << "\n";
            return 1;
        }
        printDns(**found);
        return 0;
    }
    if (c.remove->parsed()) {
        auto removed = domains.remove(c.domain, c.selector);
        if (!removed) return failWith(removed.error());
        std::cout << (c.selector.empty() ? "domain " + c.domain + " removed; its mail goes unsigned"
                                         : "retired selector " + c.selector + " of " + c.domain +
                                               " removed; delete its DNS record")
                  << "\n";
        return 0;
    }
    int64_t accountId = 0;
    if (!c.account.empty()) {
        auto id = accountIdOf(*rt, c.account);
        if (!id) return 1;
        accountId = *id;
    }
    auto all = domains.list(accountId);
    if (!all) return failWith(all.error());
    std::cout << "domain\taccount\tselector\talgorithm\tstate\tcreated\n";
    for (const auto& d : *all) {
        for (const auto& k : d.keys) {
            std::cout << d.domain << "\t" << d.accountEmail << "\t" << k.selector << "\t"
                      << k.algorithm << "\t"
                      << (k.retiredAtMs ? "retired " + isoTime(*k.retiredAtMs) : "signing") << "\t"
                      << isoTime(k.createdAtMs) << "\n";
        }
    }
    return 0;
}

}  // namespace sc::app
