#include "delivery/smtp/mx_resolver.h"

#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <poll.h>
#include <sodium.h>

#include <algorithm>
#include <mutex>

namespace sc::delivery::smtp {

void orderByPreference(std::vector<MxHost>& hosts, const std::function<uint32_t(uint32_t)>& pick) {
    std::stable_sort(hosts.begin(), hosts.end(),
                     [](const MxHost& a, const MxHost& b) { return a.preference < b.preference; });
    for (std::size_t i = 0; i < hosts.size();) {
        std::size_t j = i;
        while (j < hosts.size() && hosts[j].preference == hosts[i].preference) ++j;
        // Fisher-Yates over [i, j).
        for (std::size_t k = j - 1; k > i; --k) {
            std::size_t r = i + pick(static_cast<uint32_t>(k - i + 1));
            std::swap(hosts[k], hosts[r]);
        }
        i = j;
    }
}

namespace {

void initLibrary() {
    static std::once_flag once;
    std::call_once(once, [] { ares_library_init(ARES_LIB_INIT_ALL); });
}

struct Answer {
    bool done = false;
    int status = ARES_ETIMEOUT;
    std::vector<unsigned char> bytes;
};

// One channel per call: c-ares channels are not thread-safe, and a look-up is rare next to the
// mail it routes.
class Channel {
public:
    Channel(const std::vector<std::string>& servers, std::chrono::milliseconds timeout) {
        initLibrary();
        ares_options opts{};
        opts.timeout = static_cast<int>(timeout.count() / 2 > 0 ? timeout.count() / 2 : 1);
        opts.tries = 2;
        opts.flags = ARES_FLAG_NOSEARCH;  // a recipient domain is absolute
        ok_ =
            ares_init_options(&channel_, &opts,
                              ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS) == ARES_SUCCESS;
        if (ok_ && !servers.empty()) {
            std::string csv;
            for (const auto& s : servers) csv += (csv.empty() ? "" : ",") + s;
            ok_ = ares_set_servers_ports_csv(channel_, csv.c_str()) == ARES_SUCCESS;
        }
    }
    ~Channel() {
        if (ok_) ares_destroy(channel_);
    }
    bool ok() const { return ok_; }

    Answer query(const std::string& name, int type) {
        Answer a;
        ares_query(
            channel_, name.c_str(), ns_c_in, type,
            [](void* arg, int status, int, unsigned char* buf, int len) {
                auto* ans = static_cast<Answer*>(arg);
                ans->done = true;
                ans->status = status;
                if (status == ARES_SUCCESS && buf) ans->bytes.assign(buf, buf + len);
            },
            &a);
        while (!a.done) {
            ares_socket_t socks[ARES_GETSOCK_MAXNUM];
            int mask = ares_getsock(channel_, socks, ARES_GETSOCK_MAXNUM);
            std::vector<pollfd> fds;
            for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
                short ev = 0;
                if (ARES_GETSOCK_READABLE(mask, i)) ev |= POLLIN;
                if (ARES_GETSOCK_WRITABLE(mask, i)) ev |= POLLOUT;
                if (ev) fds.push_back({socks[i], ev, 0});
            }
            if (fds.empty()) {
                ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
                if (!a.done) break;
                continue;
            }
            timeval tv{}, *tvp = ares_timeout(channel_, nullptr, &tv);
            int ms = tvp ? static_cast<int>(tvp->tv_sec * 1000 + tvp->tv_usec / 1000) : 1000;
            poll(fds.data(), fds.size(), ms);
            for (auto& p : fds) {
                ares_socket_t r =
                    (p.revents & (POLLIN | POLLERR | POLLHUP)) ? p.fd : ARES_SOCKET_BAD;
                ares_socket_t w = (p.revents & POLLOUT) ? p.fd : ARES_SOCKET_BAD;
                ares_process_fd(channel_, r, w);
            }
            if (fds.empty() || std::none_of(fds.begin(), fds.end(),
                                            [](const pollfd& p) { return p.revents != 0; }))
                ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // time-outs
        }
        if (!a.done) {
            // Runs the callback now (ECANCELLED), while `a` still exists.
            ares_cancel(channel_);
            a.status = ARES_ETIMEOUT;
        }
        return a;
    }

private:
    ares_channel channel_{};
    bool ok_ = false;
};

bool permanent(int status) {
    return status == ARES_ENOTFOUND;  // NXDOMAIN
}

// A and AAAA of `name` into `out`. When none was found: a transient status if a query failed
// for a reason other than "no such name" or "no such record", else ENOTFOUND when neither name
// exists, else ENODATA.
int addressesOf(Channel& ch, const std::string& name, std::vector<std::string>& out) {
    int transient = ARES_SUCCESS;
    bool nxdomain = true;
    for (int type : {ns_t_a, ns_t_aaaa}) {
        auto answer = ch.query(name, type);
        if (answer.status == ARES_ENOTFOUND) continue;
        nxdomain = false;
        if (answer.status == ARES_ENODATA) continue;
        if (answer.status != ARES_SUCCESS) {
            transient = answer.status;
            continue;
        }
        const auto* buf = answer.bytes.data();
        const int len = static_cast<int>(answer.bytes.size());
        if (type == ns_t_a) {
            ares_addrttl addrs[32];
            int n = 32;
            if (ares_parse_a_reply(buf, len, nullptr, addrs, &n) != ARES_SUCCESS) continue;
            for (int i = 0; i < n; ++i) {
                char text[INET_ADDRSTRLEN];
                inet_ntop(AF_INET, &addrs[i].ipaddr, text, sizeof text);
                out.emplace_back(text);
            }
        } else {
            ares_addr6ttl addrs[32];
            int n = 32;
            if (ares_parse_aaaa_reply(buf, len, nullptr, addrs, &n) != ARES_SUCCESS) continue;
            for (int i = 0; i < n; ++i) {
                char text[INET6_ADDRSTRLEN];
                inet_ntop(AF_INET6, &addrs[i].ip6addr, text, sizeof text);
                out.emplace_back(text);
            }
        }
    }
    if (!out.empty()) return ARES_SUCCESS;
    if (transient != ARES_SUCCESS) return transient;
    return nxdomain ? ARES_ENOTFOUND : ARES_ENODATA;
}

std::string statusText(int status) {
    return ares_strerror(status);
}

}  // namespace

MxResolver::MxResolver(std::vector<std::string> servers, std::chrono::milliseconds timeout)
    : servers_(std::move(servers)), timeout_(timeout) {}

MxRoute MxResolver::resolveHost(const std::string& host) const {
    MxRoute route;
    Channel ch(servers_, timeout_);
    if (!ch.ok()) {
        route.detail = "cannot set up the DNS resolver";
        return route;
    }
    MxHost h{host, 0, {}};
    int st = addressesOf(ch, host, h.addresses);
    if (st == ARES_SUCCESS) {
        route.status = MxRoute::Status::Ok;
        route.hosts.push_back(std::move(h));
        return route;
    }
    route.status =
        (permanent(st) || st == ARES_ENODATA) ? MxRoute::Status::Bounce : MxRoute::Status::TryAgain;
    route.detail = "host " + host + ": " + statusText(st);
    return route;
}

MxRoute MxResolver::resolve(const std::string& domain) const {
    MxRoute route;
    Channel ch(servers_, timeout_);
    if (!ch.ok()) {
        route.detail = "cannot set up the DNS resolver";
        return route;
    }
    auto mx = ch.query(domain, ns_t_mx);
    if (mx.status == ARES_ENOTFOUND) {
        route.status = MxRoute::Status::Bounce;
        route.detail = "domain " + domain + " does not exist (NXDOMAIN)";
        return route;
    }
    if (mx.status == ARES_ENODATA) {
        // No MX: the domain's own address is an implicit MX (RFC 5321 §5.1).
        auto r = resolveHost(domain);
        if (r.status == MxRoute::Status::Bounce)
            r.detail = "domain " + domain + " has neither MX nor address records";
        return r;
    }
    if (mx.status != ARES_SUCCESS) {
        route.detail = "MX look-up for " + domain + " failed: " + statusText(mx.status);
        return route;
    }
    ares_mx_reply* records = nullptr;
    if (ares_parse_mx_reply(mx.bytes.data(), static_cast<int>(mx.bytes.size()), &records) !=
        ARES_SUCCESS) {
        route.detail = "malformed MX answer for " + domain;
        return route;
    }
    std::vector<MxHost> hosts;
    bool nullMx = false;
    for (auto* r = records; r; r = r->next) {
        std::string name = r->host ? r->host : "";
        if (name.empty() || name == ".") {
            nullMx = true;
            continue;
        }
        hosts.push_back({name, r->priority, {}});
    }
    ares_free_data(records);
    if (nullMx && hosts.empty()) {
        route.status = MxRoute::Status::Bounce;
        route.detail = "domain " + domain + " accepts no mail (null MX, RFC 7505)";
        return route;
    }
    orderByPreference(hosts, [](uint32_t n) { return randombytes_uniform(n); });
    bool transient = false;
    std::string lastError;
    for (auto& h : hosts) {
        int st = addressesOf(ch, h.name, h.addresses);
        if (st != ARES_SUCCESS) {
            if (!permanent(st) && st != ARES_ENODATA) transient = true;
            lastError = "MX host " + h.name + ": " + statusText(st);
        }
    }
    std::erase_if(hosts, [](const MxHost& h) { return h.addresses.empty(); });
    if (hosts.empty()) {
        route.status = transient ? MxRoute::Status::TryAgain : MxRoute::Status::Bounce;
        route.detail = lastError;
        return route;
    }
    route.status = MxRoute::Status::Ok;
    route.hosts = std::move(hosts);
    return route;
}

TxtAnswer MxResolver::lookupTxt(const std::string& name) const {
    TxtAnswer out;
    Channel ch(servers_, timeout_);
    if (!ch.ok()) {
        out.detail = "cannot set up the DNS resolver";
        return out;
    }
    auto answer = ch.query(name, ns_t_txt);
    if (answer.status == ARES_ENOTFOUND || answer.status == ARES_ENODATA) {
        out.status = TxtAnswer::Status::NotFound;
        out.detail = "no TXT record at " + name;
        return out;
    }
    if (answer.status != ARES_SUCCESS) {
        out.detail = "TXT look-up for " + name + " failed: " + statusText(answer.status);
        return out;
    }
    ares_txt_ext* chunks = nullptr;
    if (ares_parse_txt_reply_ext(answer.bytes.data(), static_cast<int>(answer.bytes.size()),
                                 &chunks) != ARES_SUCCESS) {
        out.detail = "malformed TXT answer for " + name;
        return out;
    }
    for (auto* c = chunks; c; c = c->next) {
        // record_start marks the first string of each record; the rest continue it.
        if (c->record_start || out.records.empty()) out.records.emplace_back();
        out.records.back().append(reinterpret_cast<const char*>(c->txt), c->length);
    }
    ares_free_data(chunks);
    out.status = out.records.empty() ? TxtAnswer::Status::NotFound : TxtAnswer::Status::Found;
    return out;
}

}  // namespace sc::delivery::smtp
