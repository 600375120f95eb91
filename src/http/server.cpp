// The only translation unit that includes Beast (it costs ~30 s to compile: keep it alone).
#include <utility>  // before Asio's coroutine headers: g++ 12 needs it (STYLE.md)

#include "http/server.h"

#include <boost/asio.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <vector>

namespace sc::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

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

namespace {

Method toMethod(bhttp::verb v) {
    switch (v) {
        case bhttp::verb::get:
            return Method::Get;
        case bhttp::verb::head:
            return Method::Head;
        case bhttp::verb::post:
            return Method::Post;
        case bhttp::verb::put:
            return Method::Put;
        case bhttp::verb::delete_:
            return Method::Delete;
        case bhttp::verb::patch:
            return Method::Patch;
        case bhttp::verb::options:
            return Method::Options;
        default:
            return Method::Other;
    }
}

// A read deadline that cancels the read instead of closing the socket (as tcp_stream's own
// expiry does), so that the server can still answer 408 before it closes. The timer's handler
// may run after the session ended: it reaches the socket only through `socket`, which the
// session clears on exit (both run on the connection's strand).
struct ReadDeadline {
    tcp::socket* socket = nullptr;
    bool expired = false;
};

// One connection's state that stop() may need to reach from another thread.
struct Connection {
    tcp::socket* socket = nullptr;
    net::strand<net::io_context::executor_type> strand;
    bool idle = true;  // guarded by the strand
    explicit Connection(net::strand<net::io_context::executor_type> s) : strand(std::move(s)) {}
};

}  // namespace

struct Server::Impl {
    ServerOptions options;
    const Router& router;
    AccessLog& accessLog;
    const Clock& clock;

    net::io_context ioc;
    tcp::acceptor acceptor{ioc};
    std::vector<std::thread> threads;
    std::atomic<bool> stopping{false};

    std::mutex connMu;
    std::condition_variable connCv;
    std::unordered_map<Connection*, std::shared_ptr<Connection>> connections;
    size_t busy = 0;  // connections with a request in flight; guarded by connMu

    Impl(ServerOptions o, const Router& r, AccessLog& a, const Clock& c)
        : options(std::move(o)), router(r), accessLog(a), clock(c), ioc(options.ioThreads) {}

    http::Response errorFor(int status, const char* code, const std::string& hint) const {
        http::Response r = router.errors()(status, code, hint);
        r.closeConnection = true;
        return r;
    }

    void setBusy(Connection& c, bool busyNow) {
        std::lock_guard lk(connMu);
        if (c.idle == !busyNow) return;
        c.idle = !busyNow;
        if (busyNow) {
            ++busy;
        } else {
            --busy;
        }
        connCv.notify_all();
    }

    net::awaitable<void> acceptLoop() {
        for (;;) {
            beast::error_code ec;
            auto strand = net::make_strand(ioc);
            tcp::socket socket(strand);
            co_await acceptor.async_accept(socket, net::redirect_error(net::use_awaitable, ec));
            if (ec) {
                if (ec == net::error::operation_aborted || stopping) co_return;
                // EMFILE and friends: log and keep serving the connections we have.
                spdlog::warn("accept failed: {}", ec.message());
                continue;
            }
            auto conn = std::make_shared<Connection>(strand);
            bool tooMany;
            {
                std::lock_guard lk(connMu);
                tooMany = connections.size() >= options.limits.maxConnections;
                if (!tooMany) connections.emplace(conn.get(), conn);
            }
            if (tooMany) {
                net::co_spawn(strand, refuse(std::move(socket)), net::detached);
                continue;
            }
            net::co_spawn(strand, session(std::move(socket), conn), net::detached);
        }
    }

    net::awaitable<void> refuse(tcp::socket socket) {
        beast::tcp_stream stream(std::move(socket));
        stream.expires_after(options.limits.writeTimeout);
        auto res = toBeast(errorFor(503, "server.too_many_connections",
                                    "the server has too many open connections; retry shortly"),
                           11, false);
        res.set(bhttp::field::retry_after, "1");
        beast::error_code ec;
        co_await bhttp::async_write(stream, res, net::redirect_error(net::use_awaitable, ec));
        stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    }

    static bhttp::response<bhttp::string_body> toBeast(http::Response r, unsigned version,
                                                       bool keepAlive) {
        bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(r.status), version};
        res.set(bhttp::field::server, "sendcloudd");
        res.set(bhttp::field::content_type, r.contentType);
        res.set(bhttp::field::cache_control, "no-store");
        for (const auto& h : r.headers) res.set(h.name, h.value);
        res.body() = std::move(r.body);
        res.keep_alive(keepAlive && !r.closeConnection);
        res.prepare_payload();
        return res;
    }

    // Bridges a Router dispatch (callback, any thread) back onto this coroutine's strand.
    net::awaitable<http::Response> dispatch(const http::Request& req) {
        co_return co_await net::async_initiate<const net::use_awaitable_t<>&, void(http::Response)>(
            [this, &req](auto handler) {
                auto shared = std::make_shared<decltype(handler)>(std::move(handler));
                router.dispatch(req, Responder([shared](http::Response r) {
                                    auto ex = net::get_associated_executor(*shared);
                                    net::post(ex, [shared, r = std::move(r)]() mutable {
                                        (*shared)(std::move(r));
                                    });
                                }));
            },
            net::use_awaitable);
    }

    net::awaitable<void> writeResponse(beast::tcp_stream& stream, const http::Response& r,
                                       unsigned version, bool keepAlive, beast::error_code& ec) {
        auto res = toBeast(r, version, keepAlive);
        stream.expires_after(options.limits.writeTimeout);
        co_await bhttp::async_write(stream, res, net::redirect_error(net::use_awaitable, ec));
    }

    void log(const std::string& method, const std::string& target, int status,
             std::chrono::steady_clock::time_point started, const std::string& ip,
             const std::string& user) {
        auto latency =
            std::chrono::duration_cast<std::chrono::microseconds>(clock.monotonicNow() - started);
        accessLog.record(method, target, status, latency, ip, user);
    }

    net::awaitable<void> session(tcp::socket socket, std::shared_ptr<Connection> conn) {
        beast::tcp_stream stream(std::move(socket));
        conn->socket = &stream.socket();
        beast::error_code ec;
        std::string clientIp;
        {
            auto ep = stream.socket().remote_endpoint(ec);
            if (!ec) clientIp = ep.address().to_string();
        }
        beast::flat_buffer buffer;
        const auto& lim = options.limits;
        size_t served = 0;
        auto deadline = std::make_shared<ReadDeadline>();
        deadline->socket = &stream.socket();
        net::steady_timer timer(stream.get_executor());
        auto arm = [&](std::chrono::milliseconds d) {
            deadline->expired = false;
            timer.expires_after(d);
            timer.async_wait([deadline](beast::error_code e) {
                if (e || !deadline->socket) return;
                deadline->expired = true;
                beast::error_code ignored;
                deadline->socket->cancel(ignored);
            });
        };

        for (;;) {
            if (stopping) break;
            bhttp::request_parser<bhttp::empty_body> headerParser;
            headerParser.header_limit(static_cast<std::uint32_t>(lim.maxHeaderBytes));
            // The body limit is checked below, after the header, so that a declared length over
            // it gets a 413 (Beast would fail the header read itself).
            headerParser.body_limit(std::numeric_limits<std::uint64_t>::max());
            // Between requests the idle timeout applies; once a byte arrives the header timeout
            // does (a slow-loris sender cannot hold a connection by trickling one header).
            stream.expires_never();
            arm(buffer.size() == 0 && served > 0 ? lim.idleTimeout : lim.headerTimeout);
            co_await bhttp::async_read_header(stream, buffer, headerParser,
                                              net::redirect_error(net::use_awaitable, ec));
            timer.cancel();
            if (ec == net::error::operation_aborted && deadline->expired) {
                ec = beast::error::timeout;
            }
            auto started = clock.monotonicNow();
            if (ec) {
                if (ec == bhttp::error::header_limit) {
                    auto r = errorFor(431, "request.header_too_large",
                                      "request headers may hold at most " +
                                          std::to_string(lim.maxHeaderBytes) + " bytes");
                    co_await writeResponse(stream, r, 11, false, ec);
                    log("-", "-", 431, started, clientIp, "");
                } else if (ec == beast::error::timeout && buffer.size() > 0) {
                    auto r = errorFor(408, "request.timeout",
                                      "the request header did not arrive in time");
                    co_await writeResponse(stream, r, 11, false, ec);
                    log("-", "-", 408, started, clientIp, "");
                } else if (ec != bhttp::error::end_of_stream && ec != beast::error::timeout &&
                           ec != net::error::operation_aborted &&
                           ec != net::error::connection_reset && buffer.size() > 0) {
                    spdlog::debug("malformed request: {}", ec.message());
                    auto r =
                        errorFor(400, "request.malformed", "the request is not valid HTTP/1.1");
                    co_await writeResponse(stream, r, 11, false, ec);
                    log("-", "-", 400, started, clientIp, "");
                }
                break;
            }
            setBusy(*conn, true);
            auto& head = headerParser.get();
            const unsigned version = head.version();
            const std::string method(head.method_string());
            const std::string target(head.target());

            if (auto len = headerParser.content_length(); len && *len > lim.maxBodyBytes) {
                auto r = errorFor(413, "request.too_large",
                                  "the request body may hold at most " +
                                      std::to_string(lim.maxBodyBytes) + " bytes");
                co_await writeResponse(stream, r, version, false, ec);
                log(method, target, 413, started, clientIp, "");
                break;
            }
            // Beast does not answer Expect: 100-continue; curl would stall a second before
            // sending any large body.
            if (auto it = head.find(bhttp::field::expect);
                it != head.end() && beast::iequals(it->value(), "100-continue")) {
                bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, version};
                co_await bhttp::async_write(stream, cont,
                                            net::redirect_error(net::use_awaitable, ec));
                if (ec) break;
            }

            bhttp::request_parser<bhttp::string_body> parser(std::move(headerParser));
            parser.body_limit(lim.maxBodyBytes);
            arm(lim.bodyTimeout);
            co_await bhttp::async_read(stream, buffer, parser,
                                       net::redirect_error(net::use_awaitable, ec));
            timer.cancel();
            if (ec == net::error::operation_aborted && deadline->expired) {
                ec = beast::error::timeout;
            }
            if (ec) {
                if (ec == bhttp::error::body_limit) {
                    auto r = errorFor(413, "request.too_large",
                                      "the request body may hold at most " +
                                          std::to_string(lim.maxBodyBytes) + " bytes");
                    co_await writeResponse(stream, r, version, false, ec);
                    log(method, target, 413, started, clientIp, "");
                } else if (ec == beast::error::timeout) {
                    auto r =
                        errorFor(408, "request.timeout", "the request body did not arrive in time");
                    co_await writeResponse(stream, r, version, false, ec);
                    log(method, target, 408, started, clientIp, "");
                }
                break;
            }

            auto msg = parser.release();
            http::Request req;
            req.method = toMethod(msg.method());
            req.target = target;
            auto q = req.target.find('?');
            req.path = req.target.substr(0, q);
            if (q != std::string::npos) req.query = req.target.substr(q + 1);
            req.headers.reserve(std::distance(msg.begin(), msg.end()));
            for (const auto& f : msg) {
                std::string name(f.name_string());
                for (auto& ch : name)
                    ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
                req.headers.push_back({std::move(name), std::string(f.value())});
            }
            req.body = std::move(msg.body());
            req.clientIp = clientIp;
            const bool clientKeepAlive = msg.keep_alive();

            // Nothing may time out the connection while the handler (and its group commit) runs.
            stream.expires_never();
            http::Response response = co_await dispatch(req);
            ++served;
            bool keepAlive =
                clientKeepAlive && !stopping &&
                (lim.maxRequestsPerConnection == 0 || served < lim.maxRequestsPerConnection);
            co_await writeResponse(stream, response, version, keepAlive, ec);
            log(method, target, response.status, started, clientIp, response.logUser);
            setBusy(*conn, false);
            if (ec || !keepAlive || response.closeConnection) break;
        }
        setBusy(*conn, false);
        deadline->socket = nullptr;
        timer.cancel();
        stream.socket().shutdown(tcp::socket::shutdown_send, ec);
        stream.socket().close(ec);
        {
            std::lock_guard lk(connMu);
            conn->socket = nullptr;
            connections.erase(conn.get());
            connCv.notify_all();
        }
    }
};

Server::Server(ServerOptions options, const Router& router, AccessLog& accessLog,
               const Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(options), router, accessLog, clock)) {}

Server::~Server() {
    if (!impl_->threads.empty()) stop(std::chrono::milliseconds(0));
}

uint16_t Server::start() {
    auto& im = *impl_;
    beast::error_code ec;
    auto address = net::ip::make_address(im.options.host, ec);
    if (ec)
        throw std::runtime_error("cannot listen on '" + im.options.host + "': not an IP address");
    tcp::endpoint ep(address, im.options.port);
    im.acceptor.open(ep.protocol(), ec);
    if (!ec) im.acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) im.acceptor.bind(ep, ec);
    if (!ec) im.acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
        throw std::runtime_error("cannot listen on " + im.options.host + ":" +
                                 std::to_string(im.options.port) + ": " + ec.message());
    }
    uint16_t port = im.acceptor.local_endpoint().port();
    net::co_spawn(im.acceptor.get_executor(), im.acceptLoop(), net::detached);
    int n = std::max(1, im.options.ioThreads);
    for (int i = 0; i < n; ++i) im.threads.emplace_back([&im] { im.ioc.run(); });
    return port;
}

void Server::stop(std::chrono::milliseconds drain) {
    auto& im = *impl_;
    if (im.threads.empty()) return;
    im.stopping = true;
    net::post(im.acceptor.get_executor(), [&im] {
        beast::error_code ec;
        im.acceptor.close(ec);
    });
    // Idle connections are closed at once; busy ones finish their request and then close
    // because `stopping` turns keep-alive off.
    {
        std::lock_guard lk(im.connMu);
        for (auto& [raw, conn] : im.connections) {
            net::post(conn->strand, [&im, c = conn] {
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
