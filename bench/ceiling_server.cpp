// The ceiling: the least a Boost.Beast HTTP/1.1 server can do per request on this machine. It
// answers every request 200 with a small fixed JSON body, with keep-alive, on the same I/O model
// as sendcloudd (an io_context run by one thread per core, a strand and a C++20 coroutine per
// connection), so that the gap between the two is what sendcloudd does per request, not the
// transport. Usage: sc_bench_ceiling [--listen 127.0.0.1:0] [--threads N]; prints
// "listening on HOST:PORT" once bound.
#include <utility>  // before Asio's coroutine headers: g++ 12 needs it (docs/architecture.md, "Library pitfalls")

#include <boost/asio.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

namespace {

// About the size of sendcloudd's /healthz answer.
constexpr std::string_view kBody =
    R"({"result":true,"statusCode":200,"message":"request was successful","info":{"status":"ok"}})";

net::awaitable<void> session(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    beast::error_code ec;
    for (;;) {
        bhttp::request<bhttp::string_body> req;
        co_await bhttp::async_read(stream, buffer, req,
                                   net::redirect_error(net::use_awaitable, ec));
        if (ec) break;
        bhttp::response<bhttp::string_body> res{bhttp::status::ok, req.version()};
        res.set(bhttp::field::server, "ceiling");
        res.set(bhttp::field::content_type, "application/json; charset=utf-8");
        res.body() = kBody;
        res.keep_alive(req.keep_alive());
        res.prepare_payload();
        co_await bhttp::async_write(stream, res, net::redirect_error(net::use_awaitable, ec));
        if (ec || !res.keep_alive()) break;
    }
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

net::awaitable<void> acceptLoop(tcp::acceptor& acceptor, net::io_context& ioc) {
    for (;;) {
        beast::error_code ec;
        tcp::socket socket(net::make_strand(ioc));
        co_await acceptor.async_accept(socket, net::redirect_error(net::use_awaitable, ec));
        if (ec) {
            if (ec == net::error::operation_aborted) co_return;
            continue;
        }
        auto ex = socket.get_executor();
        net::co_spawn(ex, session(std::move(socket)), net::detached);
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::string host = "127.0.0.1";
    unsigned short port = 0;
    int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string flag = argv[i];
        std::string value = argv[i + 1];
        if (flag == "--listen") {
            auto colon = value.rfind(':');
            host = value.substr(0, colon);
            port = static_cast<unsigned short>(std::atoi(value.c_str() + colon + 1));
        } else if (flag == "--threads") {
            threads = std::max(1, std::atoi(value.c_str()));
        } else {
            std::cerr << "usage: sc_bench_ceiling [--listen HOST:PORT] [--threads N]\n";
            return 2;
        }
    }

    net::io_context ioc(threads);
    tcp::acceptor acceptor(ioc);
    tcp::endpoint ep(net::ip::make_address(host), port);
    acceptor.open(ep.protocol());
    acceptor.set_option(net::socket_base::reuse_address(true));
    acceptor.bind(ep);
    acceptor.listen(net::socket_base::max_listen_connections);
    std::printf("listening on %s:%u\n", host.c_str(), acceptor.local_endpoint().port());
    std::fflush(stdout);

    net::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](beast::error_code, int) { ioc.stop(); });
    net::co_spawn(ioc, acceptLoop(acceptor, ioc), net::detached);

    std::vector<std::thread> pool;
    for (int i = 1; i < threads; ++i) pool.emplace_back([&ioc] { ioc.run(); });
    ioc.run();
    for (auto& t : pool) t.join();
    return 0;
}
