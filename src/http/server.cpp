// The only translation unit that includes Asio and Beast's I/O (it costs ~30 s to compile: keep it
// alone; response_head.cpp takes only Beast's reason phrases, request_reader.cpp its parser).
#include <utility>  // before Asio's coroutine headers: g++ 12 needs it (docs/architecture.md, "Library pitfalls")

#include "common/thread_role.h"
#include "http/server.h"

#include "http/request_reader.h"
#include "http/response_head.h"
#include "http/tls_context.h"

#include "common/log_throttle.h"

#include <boost/asio.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <spdlog/spdlog.h>

#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <limits>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <type_traits>
#include <typeinfo>
#include <unordered_map>
#include <vector>

namespace sc::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
namespace ssl = net::ssl;

bool splitHostPort(const std::string& text, std::string& host, uint16_t& port) {
    std::string portText;
    if (!text.empty() && text[0] == '[') {
        auto close = text.find(']');
        if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
            return false;
        host = text.substr(1, close - 1);
        portText = text.substr(close + 2);
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string::npos) return false;
        host = text.substr(0, colon);
        portText = text.substr(colon + 1);
    }
    if (host.empty() || portText.empty() || portText.size() > 5) return false;
    unsigned long p = 0;
    for (char c : portText) {
        if (c < '0' || c > '9') return false;
        p = p * 10 + static_cast<unsigned long>(c - '0');
    }
    if (p > 65535) return false;
    port = static_cast<uint16_t>(p);
    return true;
}

size_t connectionCapForDescriptors(size_t configured, uint64_t descriptorLimit, uint64_t openNow) {
    if (descriptorLimit <= openNow) return 1;
    const uint64_t free = descriptorLimit - openNow;
    const uint64_t reserve = std::min<uint64_t>(64, free / 2);
    return static_cast<size_t>(
        std::max<uint64_t>(1, std::min<uint64_t>(configured, free - reserve)));
}

namespace {

// Descriptors open in this process now (/proc/self/fd), or 0 when unknown.
uint64_t openDescriptors() {
    uint64_t n = 0;
    std::error_code ec;
    for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
         it.increment(ec))
        ++n;
    return ec ? 0 : n;
}

// Every connection's I/O objects and coroutine are typed on its strand rather than on
// any_io_executor: type-erasing a strand executor allocates each time it is copied, and Asio
// copies the executor several times per operation (about eight allocations per request).
using Strand = net::strand<net::io_context::executor_type>;
using Socket = net::basic_stream_socket<tcp, Strand>;
using Timer = net::basic_waitable_timer<std::chrono::steady_clock,
                                        net::wait_traits<std::chrono::steady_clock>, Strand>;
template <class T = void>
using Task = net::awaitable<T, Strand>;
constexpr net::use_awaitable_t<Strand> onStrand;

// One timer per connection serves every phase (idle, header, body, write). Moving the deadline
// is a store: the timer wakes at most every `granularity` (the shortest configured timeout) and
// only then looks at the current deadline, so a request costs no timer operation — arming and
// cancelling a steady_timer per phase cost a timerfd update and a cancelled handler each. An
// expired deadline cancels the pending I/O instead of closing the socket, so that the server can
// still answer 408 before it closes. The timer's handler may run after the session ended: it
// reaches the socket and timer only through this state, which the session clears on exit (both
// run on the connection's strand).
class IoDeadline : public std::enable_shared_from_this<IoDeadline> {
public:
    using Clock = Timer::clock_type;  // the timer's own clock, not sc::Clock

    IoDeadline(Socket& socket, Timer& timer, Clock::duration granularity)
        : socket_(&socket), timer_(&timer), granularity_(granularity) {}

    void arm(Clock::duration timeout) {
        expired_ = false;
        const auto now = Clock::now();
        due_ = now + timeout;
        if (!waiting_) {
            waitUntil(std::min(due_, now + granularity_));
        } else if (due_ < waitingUntil_) {
            waitUntil(due_);  // only with a timeout shorter than the granularity
        }
    }
    void disarm() { due_ = Clock::time_point::max(); }
    bool expired() const { return expired_; }
    void detach() {
        socket_ = nullptr;
        timer_ = nullptr;
    }

private:
    void waitUntil(Clock::time_point t) {
        waiting_ = true;
        waitingUntil_ = t;
        timer_->expires_at(t);
        timer_->async_wait([self = shared_from_this()](beast::error_code e) { self->woke(e); });
    }

    void woke(beast::error_code e) {
        // Aborted: a newer wait replaced this one, or the session ended.
        if (e == net::error::operation_aborted || !timer_) return;
        waiting_ = false;
        if (due_ == Clock::time_point::max()) return;  // disarmed; the next arm() waits again
        const auto now = Clock::now();
        if (now < due_) {
            waitUntil(std::min(due_, now + granularity_));
            return;
        }
        expired_ = true;
        beast::error_code ignored;
        socket_->cancel(ignored);
    }

    Socket* socket_;
    Timer* timer_;
    const Clock::duration granularity_;
    Clock::time_point due_ = Clock::time_point::max();
    Clock::time_point waitingUntil_{};
    bool waiting_ = false;
    bool expired_ = false;
};

// Where a handler's answer goes, one per connection, reused while no Responder outlives its
// request. A handler that answers during dispatch() (health checks, every refusal) just fills
// `response`; the session then carries on without suspending. An answer that comes later, from
// any thread (the send paths answer from the store's writer thread), resumes the session on its
// strand.
class PendingReply final : public ReplyChannel {
public:
    void startDispatch() {
        rearm();
        phase_.store(kDispatching, std::memory_order_relaxed);
    }
    bool answered() const { return phase_.load(std::memory_order_acquire) == kAnswered; }

    // Parks the session's completion handler until the answer arrives.
    template <class CompletionHandler>
    void suspend(CompletionHandler handler) {
        resume_ = std::make_unique<ResumeWith<CompletionHandler>>(std::move(handler));
        int expected = kDispatching;
        if (!phase_.compare_exchange_strong(expected, kWaiting, std::memory_order_acq_rel)) {
            resume();  // answered from another thread since dispatch() returned
        }
    }

    http::Response response;

protected:
    void deliver(Response r) override {
        response = std::move(r);
        if (phase_.exchange(kAnswered, std::memory_order_acq_rel) == kWaiting) resume();
    }

private:
    enum : int { kDispatching, kWaiting, kAnswered };

    struct Resume {
        virtual ~Resume() = default;
        virtual void post() = 0;
    };
    template <class H>
    struct ResumeWith final : Resume {
        explicit ResumeWith(H h) : handler(std::move(h)) {}
        // To the handler's own executor: the connection's strand.
        void post() override { net::post(std::move(handler)); }
        H handler;
    };

    // Exactly one caller gets here per suspension: suspend() when the answer came first, else
    // deliver().
    void resume() {
        auto parked = std::move(resume_);
        parked->post();
    }

    std::atomic<int> phase_{kDispatching};
    std::unique_ptr<Resume> resume_;
};

// The session's own reference to its PendingReply.
class ReplyRef {
public:
    explicit ReplyRef(PendingReply* p) : p_(p) { p_->retain(); }
    ReplyRef(const ReplyRef&) = delete;
    ReplyRef& operator=(const ReplyRef&) = delete;
    ~ReplyRef() { p_->release(); }
    void reset(PendingReply* p) {
        p->retain();
        p_->release();
        p_ = p;
    }
    PendingReply* operator->() const { return p_; }
    PendingReply& operator*() const { return *p_; }

private:
    PendingReply* p_;
};

// One connection's state that stop() may need to reach from another thread.
// A share of the server's budget for request bodies held in memory (ServerLimits::
// maxBufferedBodyBytes), given back when the request is done.
class BodyReservation {
public:
    explicit BodyReservation(std::atomic<size_t>& total) : total_(total) {}
    ~BodyReservation() { release(); }
    BodyReservation(const BodyReservation&) = delete;
    BodyReservation& operator=(const BodyReservation&) = delete;

    void release() {
        if (held_ > 0) total_.fetch_sub(held_, std::memory_order_relaxed);
        held_ = 0;
    }

    // False, taking nothing, when `bytes` more would pass `budget`.
    bool take(size_t bytes, size_t budget) {
        size_t current = total_.load(std::memory_order_relaxed);
        do {
            if (bytes > budget || current > budget - bytes) return false;
        } while (
            !total_.compare_exchange_weak(current, current + bytes, std::memory_order_relaxed));
        held_ = bytes;
        return true;
    }

private:
    std::atomic<size_t>& total_;
    size_t held_ = 0;
};

struct Connection {
    Socket* socket = nullptr;
    Strand strand;
    bool idle = true;    // read and written on the strand only
    std::string client;  // the address counted against maxConnectionsPerClient; empty: none
    explicit Connection(Strand s) : strand(std::move(s)) {}
};

// A session keeps no more than this much capacity from one request to the next (a 12 MiB body
// must not stay allocated for the life of a keep-alive connection).
constexpr size_t kKeptBodyCapacity = 64 * 1024;

}  // namespace

struct Server::Impl {
    ServerOptions options;
    const Router& router;
    AccessLog& accessLog;
    const Clock& clock;

    net::io_context ioc;
    tcp::acceptor acceptor{ioc};
    tcp::acceptor tlsAcceptor{ioc};
    // The context new TLS connections start with; each connection holds its own reference, so a
    // reload swaps this one without touching open connections.
    std::mutex tlsMu;
    std::shared_ptr<TlsContext> tlsContext;
    // A trusted proxy's unreadable X-Forwarded-For is logged once per process, not per request.
    std::atomic<bool> forwardedMalformedLogged{false};
    std::vector<std::thread> threads;
    std::atomic<bool> stopping{false};

    std::mutex connMu;
    std::condition_variable connCv;
    std::unordered_map<Connection*, std::shared_ptr<Connection>> connections;
    // Open connections per client address (only those the per-client cap applies to).
    std::unordered_map<std::string, size_t> perClient;
    std::atomic<size_t> busy{0};               // connections with a request in flight
    std::atomic<size_t> bufferedBodyBytes{0};  // reserved by requests whose body is read or held

    static constexpr std::chrono::milliseconds kFirstAcceptBackoff{50};
    static constexpr std::chrono::milliseconds kMaxAcceptBackoff{1000};
    LogThrottle acceptLogThrottle{clock, 1};  // both listeners' accept failures together
    std::atomic<uint64_t> acceptFailures{0};

    Impl(ServerOptions o, const Router& r, AccessLog& a, const Clock& c)
        : options(std::move(o)), router(r), accessLog(a), clock(c), ioc(options.ioThreads) {}

    http::Response errorFor(int status, const char* code, const std::string& hint) const {
        http::Response r = router.errors()(status, code, hint);
        r.closeConnection = true;
        return r;
    }

    // Twice per request, so no lock unless stop() may be waiting: it sets `stopping` before it
    // reads `busy` (both sequentially consistent), so a change it could miss is one made after
    // this thread saw `stopping`, which then notifies under the lock.
    void setBusy(Connection& c, bool busyNow) {
        if (c.idle == !busyNow) return;
        c.idle = !busyNow;
        if (busyNow) {
            ++busy;
        } else {
            --busy;
        }
        if (stopping) {
            std::lock_guard lk(connMu);
            connCv.notify_all();
        }
    }

    // One per listener. A TLS connection is counted from accept, before its handshake, so a
    // client that opens TLS connections and sends nothing meets the same caps.
    net::awaitable<void> acceptLoop(tcp::acceptor& listener, bool tls) {
        std::chrono::milliseconds acceptBackoff = kFirstAcceptBackoff;
        for (;;) {
            beast::error_code ec;
            auto strand = net::make_strand(ioc);
            Socket socket(strand);
            co_await listener.async_accept(socket, net::redirect_error(net::use_awaitable, ec));
            if (ec) {
                if (ec == net::error::operation_aborted || stopping) co_return;
                // Out of descriptors (EMFILE, ENFILE) or memory: the pending connection stays in
                // the backlog and accept would fail again at once. Retrying at once spun a core
                // and wrote ~183,000 log lines a second; wait instead (50 ms doubling to 1 s),
                // keep serving the connections we have, and log at most a line a second.
                ++acceptFailures;
                if (auto d = acceptLogThrottle.admit(); d.write) {
                    spdlog::warn(
                        "accept failed: {} (retrying in {} ms; {} more failures not logged)",
                        ec.message(), acceptBackoff.count(), d.omitted);
                }
                net::steady_timer pause(ioc, acceptBackoff);
                beast::error_code waitEc;
                co_await pause.async_wait(net::redirect_error(net::use_awaitable, waitEc));
                acceptBackoff = std::min(acceptBackoff * 2, kMaxAcceptBackoff);
                continue;
            }
            acceptBackoff = kFirstAcceptBackoff;
            auto conn = std::make_shared<Connection>(strand);
            conn->client = cappedClientOf(socket);
            bool tooMany;
            bool clientTooMany = false;
            {
                std::lock_guard lk(connMu);
                tooMany = connections.size() >= options.limits.maxConnections;
                if (!tooMany && !conn->client.empty()) {
                    size_t& open = perClient[conn->client];
                    clientTooMany = open >= options.limits.maxConnectionsPerClient;
                    if (!clientTooMany) ++open;
                }
                if (!tooMany && !clientTooMany) connections.emplace(conn.get(), conn);
            }
            if (tls && (tooMany || clientTooMany)) {
                // A 503 would need a handshake first, the very work an overloaded server should
                // not take on: the connection is closed unanswered.
                beast::error_code ignored;
                socket.close(ignored);
                continue;
            }
            if (tooMany) {
                net::co_spawn(strand,
                              refuse(std::move(socket), "server.too_many_connections",
                                     "the server has too many open connections; retry shortly"),
                              net::detached);
                continue;
            }
            if (clientTooMany) {
                net::co_spawn(strand,
                              refuse(std::move(socket), "server.too_many_client_connections",
                                     "this client address has too many open connections; close "
                                     "some, or retry shortly"),
                              net::detached);
                continue;
            }
            if (tls) {
                std::shared_ptr<TlsContext> context;
                {
                    std::lock_guard lk(tlsMu);
                    context = tlsContext;
                }
                net::co_spawn(strand, session<true>(std::move(socket), conn, std::move(context)),
                              net::detached);
            } else {
                net::co_spawn(strand, session<false>(std::move(socket), conn, nullptr),
                              net::detached);
            }
        }
    }

    // The address a new connection counts against for maxConnectionsPerClient; empty when the
    // cap is off or does not apply (a loopback client, unless capLoopbackClients).
    std::string cappedClientOf(const Socket& socket) const {
        if (options.limits.maxConnectionsPerClient == 0) return {};
        beast::error_code ec;
        const auto ep = socket.remote_endpoint(ec);
        if (ec) return {};
        auto address = ep.address();
        // A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d: the same client either way.
        if (address.is_v6() && address.to_v6().is_v4_mapped()) {
            address = net::ip::make_address_v4(net::ip::v4_mapped, address.to_v6());
        }
        if (address.is_loopback() && !options.limits.capLoopbackClients) return {};
        return address.to_string();
    }

    net::awaitable<void> refuse(Socket socket, const char* code, const char* hint) {
        beast::tcp_stream stream(tcp::socket(std::move(socket)));
        stream.expires_after(options.limits.writeTimeout);
        auto res = toBeast(errorFor(503, code, hint), 11, false);
        res.set(bhttp::field::retry_after, "1");
        beast::error_code ec;
        co_await bhttp::async_write(stream, res, net::redirect_error(net::use_awaitable, ec));
        stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    }

    // A response appendResponseHead() leaves to Beast; to HEAD, only its head.
    template <class Stream>
    Task<> writeBeast(Stream& socket, const http::Response& r, unsigned version, bool keepAlive,
                      bool headOnly, beast::error_code& ec) {
        auto res = toBeast(r, version, keepAlive);
        if (headOnly) {
            bhttp::response_serializer<bhttp::string_body> serializer(res);
            co_await bhttp::async_write_header(socket, serializer,
                                               net::redirect_error(onStrand, ec));
        } else {
            co_await bhttp::async_write(socket, res, net::redirect_error(onStrand, ec));
        }
    }

    // Beast's message for the responses appendResponseHead() leaves to Beast.
    static bhttp::response<bhttp::string_body> toBeast(const http::Response& r, unsigned version,
                                                       bool keepAlive) {
        bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(r.status), version};
        res.set(bhttp::field::server, "sendcloudd");
        res.set(bhttp::field::content_type, r.contentType);
        res.set(bhttp::field::cache_control, "no-store");
        for (const auto& h : r.headers) res.set(h.name, h.value);
        res.body() = r.body;
        res.keep_alive(keepAlive && !r.closeConnection);
        res.prepare_payload();
        return res;
    }

    // The head (written into `head`, the session's scratch string) and body of `r` as one
    // gather write, or nothing when appendResponseHead() leaves the response to Beast.
    // `headOnly` (the answer to HEAD) leaves the body out, Content-Length included.
    static std::optional<std::array<net::const_buffer, 2>> responseBuffers(std::string& head,
                                                                           const http::Response& r,
                                                                           unsigned version,
                                                                           bool keepAlive,
                                                                           bool headOnly) {
        head.clear();
        if (!appendResponseHead(head, r, version, keepAlive)) return std::nullopt;
        return std::array<net::const_buffer, 2>{
            net::buffer(head), net::buffer(r.body.data(), headOnly ? 0 : r.body.size())};
    }

    // Writes the response under the write timeout.
    template <class Stream>
    Task<> writeResponse(Stream& socket, IoDeadline& deadline, std::string& head,
                         const http::Response& r, unsigned version, bool keepAlive,
                         beast::error_code& ec, bool headOnly = false) {
        keepAlive = keepAlive && !r.closeConnection;
        deadline.arm(options.limits.writeTimeout);
        if (auto buffers = responseBuffers(head, r, version, keepAlive, headOnly)) {
            co_await net::async_write(socket, *buffers, net::redirect_error(onStrand, ec));
        } else {
            co_await writeBeast(socket, r, version, keepAlive, headOnly, ec);
        }
        deadline.disarm();
        if (ec == net::error::operation_aborted && deadline.expired()) ec = beast::error::timeout;
    }

    // A request the server itself refuses before any handler sees it; the connection closes.
    struct Refusal {
        int status;
        const char* code;
        std::string hint;
        bool retryAfter = false;  // "come back in a second" (503: the server is busy)
    };
    // What a request line and headers that could not be read deserve, if anything: a client that
    // closed or went quiet between requests gets no answer at all.
    std::optional<Refusal> headerReadRefusal(const beast::error_code& ec, bool bytesArrived) const {
        if (ec == bhttp::error::header_limit) {
            return Refusal{431, "request.header_too_large",
                           "request headers may hold at most " +
                               std::to_string(options.limits.maxHeaderBytes) + " bytes"};
        }
        if (!bytesArrived) return std::nullopt;
        if (ec == beast::error::timeout) {
            return Refusal{408, "request.timeout", "the request header did not arrive in time"};
        }
        if (ec != bhttp::error::end_of_stream && ec != net::error::operation_aborted &&
            ec != net::error::connection_reset) {
            spdlog::debug("malformed request: {}", ec.message());
            return Refusal{400, "request.malformed", "the request is not valid HTTP/1.1"};
        }
        return std::nullopt;
    }
    Refusal bodyTooLarge() const {
        return Refusal{413, "request.too_large",
                       "the request body may hold at most " +
                           std::to_string(options.limits.maxBodyBytes) + " bytes"};
    }
    std::optional<Refusal> bodyReadRefusal(const beast::error_code& ec) const {
        if (ec == bhttp::error::body_limit) return bodyTooLarge();
        if (ec == beast::error::timeout) {
            return Refusal{408, "request.timeout", "the request body did not arrive in time"};
        }
        return std::nullopt;
    }

    // Answers a refused request and logs it: one place for the build, write and log that every
    // refusal shares.
    template <class Stream>
    Task<> refuseRequest(Stream& stream, IoDeadline& deadline, std::string& head, Refusal why,
                         unsigned version, bool headOnly, std::string_view method,
                         std::string_view target, std::string_view ip,
                         std::chrono::steady_clock::time_point started, beast::error_code& ec) {
        auto r = errorFor(why.status, why.code, why.hint);
        if (why.retryAfter) r.headers.push_back({"retry-after", "1"});
        co_await writeResponse(stream, deadline, head, r, version, false, ec, headOnly);
        log(method, target, why.status, started, ip, "");
    }

    // Reserves the body's bytes from the budget of all bodies held in memory before anyone has
    // authenticated; false when the budget is spent (the request is refused before its body is
    // read). A chunked body may grow to the body limit.
    bool reserveBody(const RequestReader& parser, BodyReservation& reservation) const {
        const auto& lim = options.limits;
        if (lim.maxBufferedBodyBytes == 0) return true;
        const auto declared = parser.content_length();
        const size_t want = declared           ? static_cast<size_t>(*declared)
                            : parser.chunked() ? lim.maxBodyBytes
                                               : 0;
        return want == 0 || reservation.take(want, lim.maxBufferedBodyBytes);
    }

    // The body: what came with the header (all of a small request's) is parsed at once; only a
    // body still on its way is read, under the body timeout.
    template <class Stream>
    Task<> readBody(Stream& stream, beast::flat_buffer& buffer, RequestReader& parser,
                    IoDeadline& deadline, beast::error_code& ec) {
        parser.eager(true);
        while (!parser.is_done() && buffer.size() > 0) {
            const size_t used = parser.put(buffer.data(), ec);
            buffer.consume(used);
            if (ec == bhttp::error::need_more) ec = {};
            if (ec || used == 0) break;
        }
        if (!ec && !parser.is_done()) {
            deadline.arm(options.limits.bodyTimeout);
            co_await bhttp::async_read(stream, buffer, parser, net::redirect_error(onStrand, ec));
            deadline.disarm();
            if (ec == net::error::operation_aborted && deadline.expired()) {
                ec = beast::error::timeout;
            }
        }
    }

    void log(std::string_view method, std::string_view target, int status,
             std::chrono::steady_clock::time_point started, std::string_view ip,
             std::string_view user) {
        if (!accessLog.enabled()) return;
        auto latency =
            std::chrono::duration_cast<std::chrono::microseconds>(clock.monotonicNow() - started);
        accessLog.record(method, target, status, latency, ip, user);
    }

    // A request from a trusted proxy: the client and the scheme its X-Forwarded-* headers name.
    void applyForwarded(http::Request& req, const std::string& peerIp, bool tls) {
        std::vector<std::string_view> forwardedFor, forwardedProto;
        for (const auto& h : req.headers) {
            if (h.name == "x-forwarded-for") {
                forwardedFor.push_back(h.value);
            } else if (h.name == "x-forwarded-proto") {
                forwardedProto.push_back(h.value);
            }
        }
        auto r = resolveForwarded(options.trustedProxies, peerIp, forwardedFor, forwardedProto);
        if (r.malformed && !forwardedMalformedLogged.exchange(true)) {
            spdlog::warn(
                "the trusted proxy {} sent an X-Forwarded-For that is not a list of IP addresses; "
                "such requests are accounted to the proxy itself (logged once)",
                peerIp);
        }
        req.clientIp = std::move(r.clientIp);
        req.secure = tls || r.secure;
    }

    // With TLS, the handshake first: a client that opens TLS and sends nothing holds its slot no
    // longer than one that opens plain HTTP and sends nothing (the header timeout).
    template <class Stream>
    Task<bool> tlsHandshake(Stream& stream, IoDeadline& deadline, const std::string& peerIp) {
        beast::error_code ec;
        deadline.arm(options.limits.headerTimeout);
        co_await stream.async_handshake(ssl::stream_base::server,
                                        net::redirect_error(onStrand, ec));
        deadline.disarm();
        if (ec) {
            spdlog::debug("TLS handshake with {} failed: {}", peerIp,
                          deadline.expired() ? "timed out" : ec.message());
        }
        co_return !ec;
    }

    // close_notify, so that the client can tell our close from a cut connection (OpenSSL 3
    // reports an EOF without it as an error). Asio then waits for the client's own close_notify
    // or its FIN, which most send at once; a second at most.
    template <class Stream>
    Task<> tlsShutdown(Stream& stream, IoDeadline& deadline) {
        beast::error_code ec;
        deadline.arm(std::min<std::chrono::steady_clock::duration>(options.limits.writeTimeout,
                                                                   std::chrono::seconds(1)));
        co_await stream.async_shutdown(net::redirect_error(onStrand, ec));
        deadline.disarm();
    }

    // True when the peer is one of the trusted proxies, whose forwarding headers are read.
    bool isTrustedProxy(const std::string& peerIp) const {
        if (options.trustedProxies.empty()) return false;
        auto ip = common::IpAddress::parse(peerIp);
        return ip && options.trustedProxies.contains(*ip);
    }

    // One session for both listeners: with `Tls` it first completes the handshake and then
    // reads and writes through an ssl::stream over the same socket; the request loop is the
    // same code. Over 80 lines because the request loop is the hot path: each step that waits
    // on the network stays in this one coroutine frame (a nested coroutine per request costs a
    // frame and a resumption); the rarer steps (refusals, a body still on its way, TLS) are
    // helpers.
    template <bool Tls>
    Task<> session(Socket socket, std::shared_ptr<Connection> conn,
                   std::shared_ptr<TlsContext> tlsContext) {
        conn->socket = &socket;
        beast::error_code ec;
        const auto& lim = options.limits;
        // The request is reused from one to the next (see RequestReader).
        http::Request req;
        if (auto ep = socket.remote_endpoint(ec); !ec) req.clientIp = ep.address().to_string();
        req.secure = Tls;
        // Only a trusted proxy's forwarding headers are read, each request anew.
        const std::string peerIp = req.clientIp;
        const bool peerTrusted = isTrustedProxy(peerIp);
        std::string otherMethod;
        std::string head;
        beast::flat_buffer buffer;
        size_t served = 0;
        Timer timer(socket.get_executor());
        const auto granularity = std::max<IoDeadline::Clock::duration>(
            std::min({lim.headerTimeout, lim.bodyTimeout, lim.idleTimeout, lim.writeTimeout}),
            std::chrono::milliseconds(1));
        auto deadline = std::make_shared<IoDeadline>(socket, timer, granularity);
        ReplyRef reply(new PendingReply);
        // Declared last: it runs first, while the objects above are still alive. `conn` is kept
        // alive by this frame's shared_ptr until after it.
        SessionEnd end{*this, *conn, socket, timer, *deadline};
        // Declared after `end`, so destroyed before it closes the socket under it.
        using Stream = std::conditional_t<Tls, ssl::stream<Socket&>, Socket&>;
        auto makeStream = [&]() -> Stream {
            if constexpr (Tls) {
                return Stream(socket, *tlsContext);
            } else {
                return socket;
            }
        };
        Stream stream = makeStream();
        if constexpr (Tls) {
            if (!co_await tlsHandshake(stream, *deadline, peerIp)) co_return;
        }

        for (;;) {
            if (stopping) break;
            RequestReader parser(req, otherMethod);
            parser.header_limit(static_cast<std::uint32_t>(lim.maxHeaderBytes));
            // The body limit is checked below, after the header, so that a declared length over
            // it gets a 413 (Beast would fail the header read itself).
            parser.body_limit(std::numeric_limits<std::uint64_t>::max());
            if (req.body.capacity() > kKeptBodyCapacity) std::string().swap(req.body);
            req.body.clear();
            // Between requests the idle timeout applies; once a byte arrives the header timeout
            // does (a slow-loris sender cannot hold a connection by trickling one header).
            deadline->arm(buffer.size() == 0 && served > 0 ? lim.idleTimeout : lim.headerTimeout);
            co_await bhttp::async_read_header(stream, buffer, parser,
                                              net::redirect_error(onStrand, ec));
            deadline->disarm();
            if (ec == net::error::operation_aborted && deadline->expired()) {
                ec = beast::error::timeout;
            }
            // Only the access log wants the latency.
            const auto started = accessLog.enabled() ? clock.monotonicNow()
                                                     : std::chrono::steady_clock::time_point();
            if (ec) {
                if (auto why = headerReadRefusal(ec, buffer.size() > 0)) {
                    co_await refuseRequest(stream, *deadline, head, std::move(*why), 11, false, "-",
                                           "-", peerIp, started, ec);
                }
                break;
            }
            setBusy(*conn, true);
            if (peerTrusted) applyForwarded(req, peerIp, Tls);
            const unsigned version = parser.version();
            const std::string_view method = parser.methodText();
            const bool headOnly = req.method == http::Method::Head;

            // A body is held whole in memory until its request is answered, and before anyone
            // has authenticated: all of them together stay within the budget, or the request is
            // refused before its body is read (the connection closes: the body is not drained).
            BodyReservation bodyReservation(bufferedBodyBytes);
            std::optional<Refusal> refused;
            if (auto len = parser.content_length(); len && *len > lim.maxBodyBytes) {
                refused = bodyTooLarge();
            } else if (!reserveBody(parser, bodyReservation)) {
                refused = Refusal{503, "server.busy",
                                  "the server holds too many request bodies at once; retry "
                                  "shortly",
                                  true};
            }
            if (refused) {
                co_await refuseRequest(stream, *deadline, head, std::move(*refused), version,
                                       headOnly, method, req.target, req.clientIp, started, ec);
                break;
            }
            // Beast does not answer Expect: 100-continue; curl would stall a second before
            // sending any large body.
            if (parser.expectsContinue()) {
                bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, version};
                deadline->arm(lim.writeTimeout);
                co_await bhttp::async_write(stream, cont, net::redirect_error(onStrand, ec));
                deadline->disarm();
                if (ec) break;
            }
            parser.body_limit(lim.maxBodyBytes);
            if (!parser.is_done()) co_await readBody(stream, buffer, parser, *deadline, ec);
            if (ec) {
                if (auto why = bodyReadRefusal(ec)) {
                    co_await refuseRequest(stream, *deadline, head, std::move(*why), version, false,
                                           method, req.target, req.clientIp, started, ec);
                }
                break;
            }
            const bool clientKeepAlive = parser.clientKeepAlive();

            // A Responder kept past its request (a handler's bug or its business) keeps its
            // channel; this request gets a fresh one.
            if (!reply->soleOwner()) reply.reset(new PendingReply);
            reply->startDispatch();
            dispatchGuarded(req, *reply);
            if (!reply->answered()) {
                co_await net::async_initiate<const net::use_awaitable_t<Strand>&, void()>(
                    [&reply](auto handler) { reply->suspend(std::move(handler)); }, onStrand);
            }
            // Answered: the body is done with. Its share of the budget comes back before the
            // answer is written, so a client that has the answer can count on it.
            if (req.body.capacity() > kKeptBodyCapacity) std::string().swap(req.body);
            bodyReservation.release();
            http::Response& response = reply->response;
            if (response.dropConnection) break;
            if (req.secure && !options.hstsPathPrefix.empty() &&
                req.path.starts_with(options.hstsPathPrefix)) {
                response.headers.push_back({"strict-transport-security", "max-age=31536000"});
            }
            ++served;
            const bool keepAlive =
                clientKeepAlive && !response.closeConnection && !stopping &&
                (lim.maxRequestsPerConnection == 0 || served < lim.maxRequestsPerConnection);
            // writeResponse() spelled out: this is the path every request takes, and a nested
            // coroutine costs a frame and a resumption. A HEAD answer is the GET answer's head
            // alone: a body after it would be read as the start of the next response.
            deadline->arm(lim.writeTimeout);
            if (auto buffers = responseBuffers(head, response, version, keepAlive, headOnly)) {
                co_await net::async_write(stream, *buffers, net::redirect_error(onStrand, ec));
            } else {
                co_await writeBeast(stream, response, version, keepAlive, headOnly, ec);
            }
            deadline->disarm();
            log(method, req.target, response.status, started, req.clientIp, response.logUser);
            setBusy(*conn, false);
            if (ec || !keepAlive) break;
        }
        if constexpr (Tls) co_await tlsShutdown(stream, *deadline);
    }

    // The end of a session, whichever way it ends: a return, or an exception that unwinds the
    // coroutine (co_spawn(detached) swallows it). Unscoped, an escaping exception once leaked the
    // connection's slot and busy count until the server answered 503 to everyone.
    struct SessionEnd {
        Impl& im;
        Connection& conn;
        Socket& socket;
        Timer& timer;
        IoDeadline& deadline;
        ~SessionEnd() {
            im.setBusy(conn, false);
            deadline.detach();
            beast::error_code ec;
            timer.cancel(ec);
            socket.shutdown(Socket::shutdown_send, ec);
            socket.close(ec);
            std::lock_guard lk(im.connMu);
            conn.socket = nullptr;
            if (!conn.client.empty()) {
                auto it = im.perClient.find(conn.client);
                if (it != im.perClient.end() && --it->second == 0) im.perClient.erase(it);
            }
            im.connections.erase(&conn);
            im.connCv.notify_all();
        }
    };

    // A handler that throws is a bug; the client still gets an answer (its Responder, dropped by
    // the unwinding, answers 500) and the connection goes on. Only the exception's type is
    // logged: its message may quote the request.
    void dispatchGuarded(const http::Request& req, PendingReply& reply) {
        try {
            router.dispatch(req, Responder(reply));
        } catch (const std::exception& e) {
            spdlog::error("a request handler threw {}; answered 500", typeid(e).name());
        } catch (...) {
            spdlog::error("a request handler threw a non-standard exception; answered 500");
        }
    }
};

Server::Server(ServerOptions options, const Router& router, AccessLog& accessLog,
               const Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(options), router, accessLog, clock)) {}

Server::~Server() {
    if (!impl_->threads.empty()) stop(std::chrono::milliseconds(0));
}

namespace {

void listenOn(tcp::acceptor& acceptor, const std::string& host, uint16_t port) {
    beast::error_code ec;
    auto address = net::ip::make_address(host, ec);
    if (ec) throw std::runtime_error("cannot listen on '" + host + "': not an IP address");
    tcp::endpoint ep(address, port);
    acceptor.open(ep.protocol(), ec);
    if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(ep, ec);
    if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
        throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(port) + ": " +
                                 ec.message());
    }
}

}  // namespace

uint16_t Server::start() {
    auto& im = *impl_;
    // The certificate first: a bad one stops the start before anything listens.
    if (im.options.tls) {
        auto context = loadTlsContext(im.options.tls->certFile, im.options.tls->keyFile);
        if (!context) throw std::runtime_error(context.error());
        im.tlsContext = std::move(context).value();
    }
    listenOn(im.acceptor, im.options.host, im.options.port);
    if (im.options.tls) listenOn(im.tlsAcceptor, im.options.tls->host, im.options.tls->port);
    // Raise the soft descriptor limit to the hard one (as nginx's worker_rlimit_nofile does),
    // then keep the connection cap inside it.
    if (rlimit rl{}; ::getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        if (rl.rlim_cur < rl.rlim_max) {
            rlimit raised = rl;
            raised.rlim_cur = rl.rlim_max;
            if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) rl = raised;
        }
        const size_t cap = connectionCapForDescriptors(im.options.limits.maxConnections,
                                                       rl.rlim_cur, openDescriptors());
        if (cap < im.options.limits.maxConnections) {
            spdlog::warn(
                "max_connections lowered from {} to {}: the descriptor limit is {} (raise it "
                "with `ulimit -n` or LimitNOFILE= to allow more)",
                im.options.limits.maxConnections, cap, static_cast<uint64_t>(rl.rlim_cur));
            im.options.limits.maxConnections = cap;
        }
    }
    uint16_t port = im.acceptor.local_endpoint().port();
    net::co_spawn(im.acceptor.get_executor(), im.acceptLoop(im.acceptor, false), net::detached);
    if (im.options.tls) {
        net::co_spawn(im.tlsAcceptor.get_executor(), im.acceptLoop(im.tlsAcceptor, true),
                      net::detached);
    }
    int n = std::max(1, im.options.ioThreads);
    for (int i = 0; i < n; ++i)
        im.threads.emplace_back([&im] {
            enterThreadRole("sc-http", ThreadPriority::Normal);
            im.ioc.run();
        });
    return port;
}

size_t Server::maxConnections() const {
    return impl_->options.limits.maxConnections;
}

uint64_t Server::acceptFailures() const {
    return impl_->acceptFailures.load();
}

uint16_t Server::tlsPort() const {
    beast::error_code ec;
    if (!impl_->tlsAcceptor.is_open()) return 0;
    auto ep = impl_->tlsAcceptor.local_endpoint(ec);
    return ec ? 0 : ep.port();
}

Status<std::string> Server::reloadTls() {
    auto& im = *impl_;
    if (!im.options.tls) return fail(std::string("no TLS listener is configured"));
    auto context = loadTlsContext(im.options.tls->certFile, im.options.tls->keyFile);
    if (!context) return fail(context.error());
    std::lock_guard lk(im.tlsMu);
    im.tlsContext = std::move(context).value();
    return Ok{};
}

void Server::stop(std::chrono::milliseconds drain) {
    auto& im = *impl_;
    if (im.threads.empty()) return;
    im.stopping = true;
    net::post(im.acceptor.get_executor(), [&im] {
        beast::error_code ec;
        im.acceptor.close(ec);
        im.tlsAcceptor.close(ec);
    });
    // Idle connections are closed at once; busy ones finish their request and then close
    // because `stopping` turns keep-alive off.
    {
        std::lock_guard lk(im.connMu);
        for (auto& [raw, conn] : im.connections) {
            net::post(conn->strand, [&im, c = conn] {
                // On the strand, as every change to `idle`; the lock orders the read of
                // `socket` with the session's exit.
                std::lock_guard lk2(im.connMu);
                if (c->idle && c->socket) {
                    beast::error_code ec;
                    c->socket->cancel(ec);
                }
            });
        }
    }
    {
        std::unique_lock lk(im.connMu);
        im.connCv.wait_for(lk, drain, [&im] { return im.busy == 0; });
    }
    im.ioc.stop();
    for (auto& t : im.threads) t.join();
    im.threads.clear();
}

}  // namespace sc::http
