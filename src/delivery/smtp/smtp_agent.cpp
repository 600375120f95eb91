#include "delivery/smtp/smtp_agent.h"

#include <utility>  // before Asio's coroutine headers (g++ 12 with Boost 1.74)

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <climits>
#include <deque>
#include <mutex>
#include <set>

#include <spdlog/spdlog.h>

#include "delivery/smtp/mx_resolver.h"
#include "delivery/smtp/smtp_session.h"

namespace sc::delivery::smtp {

namespace net = boost::asio;
using net::awaitable;
using net::use_awaitable;
using Kind = queue::DeliveryOutcome::Kind;

Result<HostPort, std::string> parseHostPort(const std::string& text, int defaultPort) {
    HostPort hp;
    std::string rest;
    if (!text.empty() && text[0] == '[') {
        auto close = text.find(']');
        if (close == std::string::npos) return fail("'" + text + "': missing ']'");
        hp.host = text.substr(1, close - 1);
        rest = text.substr(close + 1);
    } else {
        auto colon = text.rfind(':');
        hp.host = text.substr(0, colon);
        if (colon != std::string::npos) rest = text.substr(colon);
    }
    if (hp.host.empty()) return fail("'" + text + "': no host");
    hp.port = defaultPort;
    if (!rest.empty()) {
        if (rest[0] != ':' || rest.size() < 2) return fail("'" + text + "': expected HOST:PORT");
        char* end = nullptr;
        long p = std::strtol(rest.c_str() + 1, &end, 10);
        if (*end != '\0' || p < 1 || p > 65535) return fail("'" + text + "': bad port");
        hp.port = static_cast<int>(p);
    }
    return hp;
}

namespace {

struct Target {
    std::string hostName;  // for SNI, verify, the attempt log, the pool key
    std::vector<std::string> addresses;
    int port = 25;
    bool shaped = false;  // false for the relay: no site, only the per-host caps
    Site site;
};

// A coroutine function, not a capturing coroutine lambda: g++ 12 destroys such a lambda's
// captures twice when Asio runs it on another executor.
awaitable<MxRoute> runLookup(std::function<MxRoute()> lookup) {
    co_return lookup();
}

struct PooledSession {
    std::shared_ptr<SmtpSession> session;
    std::chrono::steady_clock::time_point idleSince;
};

using Waiters = std::deque<std::shared_ptr<net::steady_timer>>;

struct HostPool {
    int open = 0;
    std::string site;  // empty: not shaped
    std::vector<PooledSession> idle;
    Waiters waiters;  // for a connection to this host
};

// One site's shared budget (traffic_shaping.h).
struct SiteState {
    int open = 0;     // connections open over all the site's hosts
    Waiters waiters;  // for room under the site's connection cap
    // messages_per_minute bucket, in 1/60000 of a message so refills are exact integers: a
    // message costs kTokenCost, a millisecond adds messages_per_minute.
    int64_t tokens = -1;  // -1: not started (starts full)
    int64_t refilledMs = 0;
    int64_t blockedUntilMs = 0;  // a reply rule's throttle or suspension
    std::string blockedBy;       // "throttled" or "suspended"
};
constexpr int64_t kTokenCost = 60000;

}  // namespace

struct SmtpAgent::Impl : std::enable_shared_from_this<Impl> {
    Impl(net::io_context& io, Clock& c, std::shared_ptr<const MxResolver> r, MessageFactory m,
         SmtpAgentConfig cfg, TlsPolicy policy)
        : strand(net::make_strand(io)),
          clock(c),
          resolver(std::move(r)),
          messages(std::move(m)),
          config(std::move(cfg)),
          tls(policy),
          tlsContext(net::ssl::context::tls_client),
          dnsPool(2) {}

    net::strand<net::io_context::executor_type> strand;
    Clock& clock;
    std::shared_ptr<const MxResolver> resolver;
    MessageFactory messages;
    SmtpAgentConfig config;
    TlsPolicy tls;
    net::ssl::context tlsContext;
    net::thread_pool dnsPool;
    std::atomic<bool> stopping{false};

    // All below: on `strand` only.
    std::map<std::string, HostPool> pools;            // key: host name + "/" + port
    std::map<std::string, int64_t> deadUntilMs;       // key: address + "/" + port
    std::map<std::string, int64_t> throttledUntilMs;  // key: destination domain
    std::map<std::string, SiteState> sites;           // key: site name

    mutable std::mutex openMutex;  // guards openCount (read by metrics from other threads)
    std::map<std::string, int> openCount;

    SessionOptions sessionOptions(const Target& t, bool relay) {
        SessionOptions o;
        o.ehloName = config.ehloName;
        o.tls = tls;
        o.tlsContext = &tlsContext;
        o.hostName = t.hostName;
        if (relay && !config.relayUser.empty())
            o.auth = RelayCredentials{config.relayUser, config.relayPassword};
        o.timeouts.connect = config.connectTimeout;
        o.timeouts.greeting = config.commandTimeout;
        o.timeouts.command = config.commandTimeout;
        o.timeouts.dataInit = config.commandTimeout;
        o.timeouts.dataDone = config.dataTimeout;
        return o;
    }

    void countOpen(const std::string& host, int delta) {
        std::lock_guard lock(openMutex);
        openCount[host] += delta;
    }

    static void wakeOne(Waiters& waiters) {
        if (waiters.empty()) return;
        waiters.front()->cancel();
        waiters.pop_front();
    }

    // A connection of `pool` was freed (closed, or returned idle): one waiter for the host and
    // one for the site look again.
    void wakeOne(HostPool& pool) {
        wakeOne(pool.waiters);
        if (!pool.site.empty()) wakeOne(sites[pool.site].waiters);
    }

    void opened(const std::string& host, HostPool& pool) {
        ++pool.open;
        countOpen(host, 1);
        if (!pool.site.empty()) ++sites[pool.site].open;
    }

    void closed(const std::string& host, HostPool& pool) {
        --pool.open;
        countOpen(host, -1);
        if (!pool.site.empty()) --sites[pool.site].open;
        wakeOne(pool);
    }

    void retire(const std::string& host, HostPool& pool, std::shared_ptr<SmtpSession> s) {
        net::co_spawn(
            strand, [s]() -> awaitable<void> { co_await s->quit(); }, net::detached);
        closed(host, pool);
    }

    // Makes room under a full site's cap by closing an idle connection to another of its hosts.
    bool closeIdleOfSite(const std::string& site, const std::string& exceptKey) {
        for (auto& [key, pool] : pools) {
            if (key == exceptKey || pool.site != site || pool.idle.empty()) continue;
            auto s = std::move(pool.idle.front().session);
            pool.idle.erase(pool.idle.begin());
            retire(key, pool, std::move(s));
            return true;
        }
        return false;
    }

    // A session to `address` of target `t`: an idle pooled one, or a new one when the host has
    // fewer than connectionsPerHost open; otherwise waits for one to be released.
    awaitable<Result<std::shared_ptr<SmtpSession>, SessionFailure>> acquire(
        const Target& t, const std::string& address, bool relay, bool& reused) {
        const std::string key = t.hostName + "/" + std::to_string(t.port);
        while (true) {
            HostPool& pool = pools[key];
            if (t.shaped) pool.site = t.site.name;
            const auto now = std::chrono::steady_clock::now();
            while (!pool.idle.empty()) {
                PooledSession p = std::move(pool.idle.back());
                pool.idle.pop_back();
                if (p.session->usable() && p.session->remoteIp() == address &&
                    now - p.idleSince < config.idleTimeout) {
                    reused = true;
                    co_return p.session;
                }
                retire(key, pool, p.session);
            }
            const bool hostRoom = pool.open < config.connectionsPerHost;
            bool siteRoom = !t.shaped || sites[t.site.name].open < t.site.limits.connections;
            if (hostRoom && !siteRoom && closeIdleOfSite(t.site.name, key))
                siteRoom = sites[t.site.name].open < t.site.limits.connections;
            if (hostRoom && siteRoom) {
                opened(key, pool);
                reused = false;
                auto s = SmtpSession::create(strand, sessionOptions(t, relay));
                boost::system::error_code ec;
                auto ip = net::ip::make_address(address, ec);
                if (ec) {
                    closed(key, pools[key]);
                    SessionFailure f;
                    f.kind = SessionFailure::Kind::ConnectFailed;
                    f.detail = "not an IP address: " + address;
                    co_return fail(std::move(f));
                }
                auto opened = co_await s->open(
                    net::ip::tcp::endpoint(ip, static_cast<unsigned short>(t.port)));
                if (!opened) {
                    s->close();
                    closed(key, pools[key]);
                    co_return fail(std::move(opened).error());
                }
                co_return s;
            }
            auto timer = std::make_shared<net::steady_timer>(strand);
            timer->expires_at(std::chrono::steady_clock::time_point::max());
            (hostRoom ? sites[t.site.name].waiters : pool.waiters).push_back(timer);
            boost::system::error_code ec;
            co_await timer->async_wait(net::redirect_error(use_awaitable, ec));
        }
    }

    void release(const Target& t, std::shared_ptr<SmtpSession> s) {
        const std::string key = t.hostName + "/" + std::to_string(t.port);
        HostPool& pool = pools[key];
        const int perConnection = std::min(
            config.messagesPerConnection, t.shaped ? t.site.limits.messagesPerConnection : INT_MAX);
        if (s->usable() && s->transactions() < perConnection && !stopping) {
            pool.idle.push_back({std::move(s), std::chrono::steady_clock::now()});
            wakeOne(pool);
        } else {
            retire(key, pool, std::move(s));
        }
    }

    queue::DeliveryOutcome outcome(const queue::DeliveryJob& job, Kind kind) {
        queue::DeliveryOutcome o;
        o.recipientId = job.recipientId;
        o.kind = kind;
        o.atMs = clock.nowMillis();
        return o;
    }

    void fillFailure(queue::DeliveryOutcome& o, const SessionFailure& f) {
        o.replyCode = f.kind == SessionFailure::Kind::Reply ? f.reply.code : 0;
        o.enhancedCode = f.reply.enhancedCode;
        o.replyText = describe(f);
    }

    awaitable<MxRoute> route(const std::string& domain, bool& relay) {
        relay = false;
        std::optional<HostPort> fixed;
        if (config.relay) {
            fixed = config.relay;
            relay = true;
        } else if (auto it = config.routes.find(domain); it != config.routes.end()) {
            fixed = it->second;
        }
        auto self = shared_from_this();
        auto lookup = [self, domain, fixed]() -> MxRoute {
            if (fixed) {
                boost::system::error_code ec;
                net::ip::make_address(fixed->host, ec);
                if (!ec) {
                    MxRoute r;
                    r.status = MxRoute::Status::Ok;
                    r.hosts.push_back({fixed->host, 0, {fixed->host}});
                    return r;
                }
                if (!self->resolver) return MxRoute{MxRoute::Status::TryAgain, {}, "no resolver"};
                return self->resolver->resolveHost(fixed->host);
            }
            if (!self->resolver) return MxRoute{MxRoute::Status::TryAgain, {}, "no resolver"};
            return self->resolver->resolve(domain);
        };
        // The look-up blocks: it runs on the DNS pool and the answer comes back to the strand.
        co_return co_await net::co_spawn(dnsPool, runLookup(std::move(lookup)), use_awaitable);
    }

    int portFor(bool relay, const std::string& domain) const {
        if (relay) return config.relay->port;
        if (auto it = config.routes.find(domain); it != config.routes.end()) return it->second.port;
        return config.mxPort;
    }

    std::optional<std::chrono::milliseconds> throttledFor(const std::string& destination) {
        auto it = throttledUntilMs.find(destination);
        if (it == throttledUntilMs.end()) return std::nullopt;
        int64_t left = it->second - clock.nowMillis();
        if (left <= 0) {
            throttledUntilMs.erase(it);
            return std::nullopt;
        }
        return std::chrono::milliseconds(left);
    }

    void throttle(const std::string& destination) {
        throttledUntilMs[destination] = clock.nowMillis() + config.throttleTime.count();
    }

    std::optional<std::chrono::milliseconds> siteBlockedFor(const std::string& site) {
        auto it = sites.find(site);
        if (it == sites.end()) return std::nullopt;
        const int64_t left = it->second.blockedUntilMs - clock.nowMillis();
        if (left <= 0) return std::nullopt;
        return std::chrono::milliseconds(left);
    }

    // Takes one message from the site's messages_per_minute bucket: 0 when taken, else the
    // milliseconds until the bucket holds one again.
    int64_t takeToken(const Target& t) {
        const int64_t perMinute = t.site.limits.messagesPerMinute;
        if (!t.shaped || perMinute <= 0) return 0;
        SiteState& s = sites[t.site.name];
        const int64_t now = clock.nowMillis();
        const int64_t capacity = perMinute * kTokenCost;
        if (s.tokens < 0)
            s.tokens = capacity;
        else if (now > s.refilledMs)
            s.tokens = std::min(capacity, s.tokens + (now - s.refilledMs) * perMinute);
        s.refilledMs = std::max(s.refilledMs, now);
        if (s.tokens >= kTokenCost) {
            s.tokens -= kTokenCost;
            return 0;
        }
        return (kTokenCost - s.tokens + perMinute - 1) / perMinute;
    }

    // A reply rule matching `f` throttles or suspends the target's site; the recipient is
    // Deferred until then whatever the reply's code. nullopt: no rule matched.
    std::optional<queue::DeliveryOutcome> applyReplyRule(const Target& t, const SessionFailure& f,
                                                         queue::DeliveryOutcome o) {
        if (!t.shaped || f.kind != SessionFailure::Kind::Reply) return std::nullopt;
        const ReplyRule* rule = config.shaping.matchReply(t.site.name, f.reply);
        if (!rule) return std::nullopt;
        SiteState& s = sites[t.site.name];
        const int64_t now = clock.nowMillis();
        const bool alreadyBlocked = s.blockedUntilMs > now;
        const int64_t until =
            now + std::chrono::duration_cast<std::chrono::milliseconds>(rule->duration).count();
        if (until > s.blockedUntilMs) {
            s.blockedUntilMs = until;
            s.blockedBy = rule->action == ReplyRule::Action::Suspend ? "suspended" : "throttled";
        }
        if (!alreadyBlocked) {
            // Once per throttle or suspension, not per recipient: the reply text comes from
            // the remote server, never from us, so it holds no secret.
            if (rule->action == ReplyRule::Action::Suspend)
                spdlog::warn(
                    "traffic shaping: site {} suspended for {} s: {} answered '{}' "
                    "(reply_rule at line {})",
                    t.site.name, rule->duration.count(), t.hostName, f.reply.summary(200),
                    rule->line);
            else
                spdlog::info("traffic shaping: site {} throttled for {} s: {} answered '{}'",
                             t.site.name, rule->duration.count(), t.hostName, f.reply.summary(200));
        }
        fillFailure(o, f);
        o.kind = Kind::Deferred;
        o.retryAfter = std::chrono::milliseconds(s.blockedUntilMs - now);
        return o;
    }

    // What one step of a recipient's delivery came to: a final outcome (delivered, bounced, or
    // a deferral that ends this turn), or one after which the next address or host is tried.
    struct StepResult {
        queue::DeliveryOutcome outcome;
        bool final;
    };

    // Traffic shaping before a shaped site's host is tried: nothing when it may be tried; a
    // non-final deferral when a reply rule blocks the site (another site's host may still take
    // the message); a final one when the site's messages per minute are spent. A site is charged
    // one token per recipient, however many of its hosts are tried.
    std::optional<StepResult> shapingGate(const queue::DeliveryJob& job, const Target& t,
                                          std::set<std::string>& charged) {
        if (!t.shaped) return std::nullopt;
        if (auto left = siteBlockedFor(t.site.name)) {
            auto o = outcome(job, Kind::Deferred);
            o.remoteHost = t.hostName;
            o.replyText = "site " + t.site.name + " is " + sites[t.site.name].blockedBy;
            o.retryAfter = left;
            return StepResult{std::move(o), false};
        }
        if (!charged.insert(t.site.name).second) return std::nullopt;
        if (int64_t wait = takeToken(t); wait > 0) {
            auto o = outcome(job, Kind::Deferred);
            o.remoteHost = t.hostName;
            o.replyText = "site " + t.site.name + ": messages_per_minute (" +
                          std::to_string(t.site.limits.messagesPerMinute) + ") reached";
            o.retryAfter = std::chrono::milliseconds(wait);
            return StepResult{std::move(o), true};
        }
        return std::nullopt;
    }

    // The outcome of a failed connection or transaction, as the reply rules and the classifier
    // read it; throttles the destination when the failure says so.
    queue::DeliveryOutcome failed(const queue::DeliveryJob& job, const SessionFailure& f,
                                  const Verdict& v, queue::DeliveryOutcome o) {
        fillFailure(o, f);
        o.kind = v.kind;
        if (v.throttleDestination) {
            throttle(job.destination);
            o.retryAfter = config.throttleTime;
        }
        return o;
    }

    // One recipient to one address of a host: skipped while the address is marked dead; a
    // pooled connection the server has meanwhile closed fails at RSET and gets one retry with a
    // fresh connection. `anyConnected` is set when the host answered at all.
    awaitable<StepResult> tryAddress(const queue::DeliveryJob& job, const Target& t,
                                     const std::string& address, bool relay,
                                     const OutgoingMessage& built, bool& anyConnected) {
        const std::string deadKey = address + "/" + std::to_string(t.port);
        if (auto d = deadUntilMs.find(deadKey); d != deadUntilMs.end()) {
            if (d->second > clock.nowMillis()) {
                auto o = outcome(job, Kind::Deferred);
                o.remoteHost = t.hostName;
                o.replyText = "connect: " + address + " is marked unreachable";
                co_return StepResult{std::move(o), false};
            }
            deadUntilMs.erase(d);
        }
        const Envelope env{built.envelopeFrom, job.address, built.needsSmtpUtf8, built.has8bit};
        for (int tryNo = 0;; ++tryNo) {
            bool reused = false;
            auto s = co_await acquire(t, address, relay, reused);
            auto o = outcome(job, Kind::Deferred);
            o.remoteHost = t.hostName;
            o.remoteIp = address;
            if (!s) {
                const auto& f = s.error();
                if (auto shaped = applyReplyRule(t, f, o)) co_return StepResult{*shaped, true};
                const auto v = classify(f);
                if (v.markHostDead)
                    deadUntilMs[deadKey] = clock.nowMillis() + config.deadHostTime.count();
                else
                    anyConnected = true;
                o = failed(job, f, v, std::move(o));
                co_return StepResult{std::move(o), v.throttleDestination || !v.tryNextHost};
            }
            anyConnected = true;
            auto session = std::move(s).value();
            o.tlsVersion = session->tlsVersion();
            o.tlsCipher = session->tlsCipher();
            auto sent = co_await session->send(env, built.bytes);
            release(t, session);
            if (sent) {
                o.kind = Kind::Delivered;
                o.replyCode = sent->code;
                o.enhancedCode = sent->enhancedCode;
                o.replyText = sent->summary();
                co_return StepResult{std::move(o), true};
            }
            const auto& f = sent.error();
            if (tryNo == 0 && reused && f.stage == Stage::Rset &&
                f.kind != SessionFailure::Kind::Reply)
                continue;
            if (auto shaped = applyReplyRule(t, f, o)) co_return StepResult{*shaped, true};
            co_return StepResult{failed(job, f, classify(f), std::move(o)), true};
        }
    }

    // One recipient over the hosts of `route`, in order. Returns the outcome.
    awaitable<queue::DeliveryOutcome> deliverOne(const queue::DeliveryJob& job,
                                                 const std::vector<Target>& targets, bool relay) {
        // Built (and DKIM-signed) only once a host is about to be tried: a recipient deferred
        // by shaping costs nothing.
        std::optional<OutgoingMessage> built;
        std::optional<queue::DeliveryOutcome> last;
        std::optional<queue::DeliveryOutcome> blocked;  // a site throttled by a reply rule
        std::set<std::string> charged;                  // sites a token was taken from
        bool anyConnected = false;
        for (const auto& t : targets) {
            if (auto gate = shapingGate(job, t, charged)) {
                if (gate->final) co_return std::move(gate->outcome);
                if (!blocked) blocked = std::move(gate->outcome);
                continue;
            }
            if (!built) {
                auto b = messages(job);
                if (!b) {
                    auto o = outcome(job, Kind::Bounced);
                    o.replyText = "the message could not be built: " + b.error();
                    co_return o;
                }
                built = std::move(b).value();
            }
            for (const auto& address : t.addresses) {
                auto step = co_await tryAddress(job, t, address, relay, *built, anyConnected);
                if (step.final) co_return std::move(step.outcome);
                last = std::move(step.outcome);
            }
        }
        if (!last && blocked) co_return *blocked;
        if (!anyConnected && !job.destination.empty()) {
            // No host of the destination could be reached: back off the whole destination
            // rather than burn every recipient's attempt on the same dead hosts.
            throttle(job.destination);
            if (last) last->retryAfter = config.throttleTime;
        }
        if (last) co_return *last;
        auto o = outcome(job, Kind::Deferred);
        o.replyText = "no host to try";
        co_return o;
    }

    // The hosts of a route with their port and, for MX hosts (never the relay or a route),
    // the shaping site they belong to.
    std::vector<Target> targetsOf(const MxRoute& r, bool relay, const std::string& destination) {
        std::vector<Target> targets;
        const int port = portFor(relay, destination);
        for (const auto& h : r.hosts) {
            Target t{h.name, h.addresses, port, !relay, {}};
            if (t.shaped) t.site = config.shaping.siteFor(h.name);
            targets.push_back(std::move(t));
        }
        return targets;
    }

    awaitable<void> run(std::vector<queue::DeliveryJob> jobs, Report report) {
        if (jobs.empty()) co_return;
        // Sandbox (test mode) never connects anywhere.
        std::vector<queue::DeliveryJob> live;
        for (auto& j : jobs) {
            if (j.message && j.message->testMode)
                report(outcome(j, Kind::Sandbox));
            else
                live.push_back(std::move(j));
        }
        if (live.empty()) co_return;
        const std::string destination = live.front().destination;

        auto deferAll = [&](const std::string& why, std::optional<std::chrono::milliseconds> after,
                            std::size_t from) {
            for (std::size_t i = from; i < live.size(); ++i) {
                auto o = outcome(live[i], Kind::Deferred);
                o.replyText = why;
                o.retryAfter = after;
                report(std::move(o));
            }
        };
        if (stopping) {
            deferAll("delivery is stopping", std::nullopt, 0);
            co_return;
        }
        if (auto left = throttledFor(destination)) {
            deferAll("destination " + destination + " is throttled", left, 0);
            co_return;
        }

        bool relay = false;
        MxRoute r = co_await route(destination, relay);
        if (r.status != MxRoute::Status::Ok) {
            for (auto& j : live) {
                auto o = outcome(
                    j, r.status == MxRoute::Status::Bounce ? Kind::Bounced : Kind::Deferred);
                o.replyText = r.detail;
                report(std::move(o));
            }
            co_return;
        }
        const std::vector<Target> targets = targetsOf(r, relay, destination);

        // Workers share the batch; each holds at most one connection at a time, so the pool
        // cap holds per host whatever the batch size.
        auto next = std::make_shared<std::size_t>(0);
        const std::size_t workers = std::min<std::size_t>(
            live.size(), static_cast<std::size_t>(std::max(1, config.connectionsPerHost)));
        auto remaining = std::make_shared<std::size_t>(workers);
        auto done = std::make_shared<net::steady_timer>(strand);
        done->expires_at(std::chrono::steady_clock::time_point::max());
        auto self = shared_from_this();
        for (std::size_t w = 0; w < workers; ++w) {
            net::co_spawn(
                strand,
                [self, &live, next, targets, relay, report, remaining, done,
                 destination]() -> awaitable<void> {
                    while (*next < live.size()) {
                        const auto& job = live[(*next)++];
                        if (auto left = self->throttledFor(destination)) {
                            auto o = self->outcome(job, Kind::Deferred);
                            o.replyText = "destination " + destination + " is throttled";
                            o.retryAfter = left;
                            report(std::move(o));
                            continue;
                        }
                        report(co_await self->deliverOne(job, targets, relay));
                    }
                    if (--*remaining == 0) done->cancel();
                },
                net::detached);
        }
        boost::system::error_code ec;
        co_await done->async_wait(net::redirect_error(use_awaitable, ec));
    }
};

Result<std::unique_ptr<SmtpAgent>, std::string> SmtpAgent::create(
    net::io_context& io, Clock& clock, std::shared_ptr<const MxResolver> resolver,
    MessageFactory messages, SmtpAgentConfig config) {
    auto policy = parseTlsPolicy(config.tlsPolicy);
    if (!policy) return fail("--smtp-tls: " + policy.error());
    if (!config.relay && !resolver && config.routes.empty())
        return fail(std::string("the SMTP agent needs a resolver, a relay or routes"));
    auto impl = std::make_shared<Impl>(io, clock, std::move(resolver), std::move(messages),
                                       std::move(config), *policy);
    boost::system::error_code ec;
    impl->tlsContext.set_default_verify_paths(ec);
    if (!impl->config.caFile.empty()) {
        impl->tlsContext.load_verify_file(impl->config.caFile, ec);
        if (ec) return fail("--smtp-ca-file " + impl->config.caFile + ": " + ec.message());
    }
    impl->tlsContext.set_options(net::ssl::context::no_sslv2 | net::ssl::context::no_sslv3);
    return std::unique_ptr<SmtpAgent>(new SmtpAgent(std::move(impl)));
}

SmtpAgent::SmtpAgent(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

SmtpAgent::~SmtpAgent() {
    stop();
    impl_->dnsPool.join();
}

void SmtpAgent::deliver(std::vector<queue::DeliveryJob> jobs, Report report) {
    auto impl = impl_;
    net::co_spawn(
        impl->strand,
        [impl, jobs = std::move(jobs), report = std::move(report)]() mutable -> awaitable<void> {
            co_await impl->run(std::move(jobs), std::move(report));
        },
        net::detached);
}

void SmtpAgent::stop() {
    if (impl_->stopping.exchange(true)) return;
    auto impl = impl_;
    net::post(impl->strand, [impl] {
        for (auto& [key, pool] : impl->pools) {
            auto idle = std::move(pool.idle);
            pool.idle.clear();
            for (auto& p : idle) impl->retire(key, pool, p.session);
        }
    });
}

int SmtpAgent::openConnections(const std::string& host) const {
    std::lock_guard lock(impl_->openMutex);
    int n = 0;
    for (const auto& [key, count] : impl_->openCount)
        if (key.compare(0, host.size() + 1, host + "/") == 0) n += count;
    return n;
}

std::map<std::string, int> SmtpAgent::openConnectionsByHost() const {
    std::map<std::string, int> byHost;
    std::lock_guard lock(impl_->openMutex);
    for (const auto& [key, count] : impl_->openCount) {
        if (count <= 0) continue;
        byHost[key.substr(0, key.rfind('/'))] += count;
    }
    return byHost;
}

}  // namespace sc::delivery::smtp
