#include <utility>  // before Asio's coroutine headers: g++ 12 needs it

#include "delivery/sms/kannel_connector.h"

#include <spdlog/spdlog.h>
#include <boost/asio.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <deque>
#include <nlohmann/json.hpp>

namespace sc::delivery::sms {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::awaitable;
using boost::system::error_code;
using Outcome = queue::DeliveryOutcome;

namespace {

std::string urlEncode(std::string_view s) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (const unsigned char c : s) {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    return out;
}

struct Url {
    std::string host;
    std::string port = "80";
    std::string target = "/";
};

// http://host[:port][/path]: what smsbox listens on (plain HTTP on loopback or a LAN).
std::optional<Url> parseUrl(std::string_view url) {
    constexpr std::string_view kScheme = "http://";
    if (!url.starts_with(kScheme)) return std::nullopt;
    url.remove_prefix(kScheme.size());
    Url u;
    const size_t slash = url.find('/');
    std::string_view authority = url.substr(0, slash);
    if (slash != std::string_view::npos) u.target = std::string(url.substr(slash));
    if (const size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
        u.port = std::string(authority.substr(colon + 1));
        authority = authority.substr(0, colon);
    }
    u.host = std::string(authority);
    if (u.host.empty()) return std::nullopt;
    return u;
}

constexpr auto kTimeout = std::chrono::seconds(30);

}  // namespace

std::string kannelDlrStat(int type) {
    switch (type) {
        case 1:
            return "DELIVRD";
        case 2:
            return "UNDELIV";
        case 4:
        case 8:
            return "ACCEPTD";
        case 16:
            return "REJECTD";
        default:
            return "UNKNOWN";
    }
}

struct KannelConnector::State : std::enable_shared_from_this<State> {
    State(asio::io_context& io, const Clock& clock, SmsRouteConfig route, std::string password,
          std::string token)
        : strand(asio::make_strand(io)),
          clock(clock),
          route(std::move(route)),
          password(std::move(password)),
          token(std::move(token)) {}

    asio::strand<asio::io_context::executor_type> strand;
    const Clock& clock;
    SmsRouteConfig route;
    std::string password;
    std::string token;
    std::optional<KannelConnector::JsonPost> post;  // set: the http connector
    RouteCounters counters;
    std::deque<SmsSubmission> queued;
    int inFlight = 0;
    bool stopping = false;

    std::string target(const Url& url, const SmsSubmission& s) const {
        std::string t = url.target;
        t += t.find('?') == std::string::npos ? '?' : '&';
        t += "username=" + urlEncode(route.username);
        t += "&password=" + urlEncode(password);
        if (!route.sourceAddr.empty()) t += "&from=" + urlEncode(route.sourceAddr);
        t += "&to=" + urlEncode(s.job.address);
        t += "&text=" + urlEncode(s.text);
        t += "&charset=UTF-8";
        // Kannel's coding: 0 GSM-7, 2 UCS-2 (it converts the UTF-8 text itself).
        t += s.encoded.dataCoding == kDataCodingUcs2 ? "&coding=2" : "&coding=0";
        t += "&dlr-mask=31";
        if (!route.dlrBaseUrl.empty()) {
            const std::string dlr = route.dlrBaseUrl + "/sms/dlr/kannel/" + route.name +
                                    "?token=" + token + "&id=" + urlEncode(s.job.recipientId) +
                                    "&type=%d";
            t += "&dlr-url=" + urlEncode(dlr);
        }
        return t;
    }

    // A submission the route will not send because it is stopping: back to the queue.
    void reportStopping(SmsSubmission& sub) const {
        Outcome o;
        o.recipientId = sub.job.recipientId;
        o.kind = Outcome::Kind::Deferred;
        o.atMs = clock.nowMillis();
        o.replyText = "route stopping";
        sub.report(std::move(o));
    }

    void pump(std::shared_ptr<State> self) {
        while (!queued.empty() && inFlight < route.window) {
            ++inFlight;
            counters.windowInUse.store(inFlight, std::memory_order_relaxed);
            asio::co_spawn(strand, send(self, std::move(queued.front())), asio::detached);
            queued.pop_front();
        }
    }

    // What the gateway's answer means for the message: submitted on 2xx; deferred (retried)
    // when the gateway is down, busy or says so; failed otherwise.
    void classify(Outcome& o, bool urlValid, const error_code& ec, int status, std::string body,
                  const std::string& recipientId, std::chrono::steady_clock::time_point started) {
        if (!urlValid) {
            o.kind = Outcome::Kind::Failed;
            o.replyText = "the route's url is not http://host[:port]/path";
        } else if (ec) {
            // Kannel down or unreachable: the queue retries later.
            o.kind = Outcome::Kind::Deferred;
            o.replyText = "sendsms: " + ec.message();
            o.retryAfter = std::chrono::seconds(10);
        } else if (status >= 200 && status < 300) {
            o.kind = Outcome::Kind::Submitted;
            o.replyText = std::move(body);
            // Kannel gives no id of its own: the DLR comes back with ours.
            o.smscMessageIds = {recipientId};
            counters.submitted.fetch_add(1, std::memory_order_relaxed);
            counters.observeSubmitLatency(std::chrono::duration_cast<std::chrono::microseconds>(
                clock.monotonicNow() - started));
        } else if (status >= 500 || status == 429 || status == 408) {
            o.kind = Outcome::Kind::Deferred;
            o.replyText = std::move(body);
            o.retryAfter = std::chrono::seconds(10);
        } else {
            o.kind = Outcome::Kind::Failed;
            o.replyText = std::move(body);
        }
    }

    awaitable<void> send(std::shared_ptr<State> self, SmsSubmission s) {
        Outcome o;
        o.recipientId = s.job.recipientId;
        const auto url = parseUrl(route.url);
        o.remoteHost = url ? url->host : route.url;
        const auto started = clock.monotonicNow();
        error_code ec;
        int status = 0;
        std::string body;
        if (url) {
            beast::tcp_stream stream(strand);
            asio::ip::tcp::resolver resolver(strand);
            auto endpoints = co_await resolver.async_resolve(
                url->host, url->port, asio::redirect_error(asio::use_awaitable, ec));
            if (!ec) {
                stream.expires_after(kTimeout);
                auto ep = co_await stream.async_connect(
                    endpoints, asio::redirect_error(asio::use_awaitable, ec));
                if (!ec) o.remoteIp = ep.address().to_string();
            }
            if (!ec && post) {
                http::request<http::string_body> req(http::verb::post, url->target, 11);
                req.set(http::field::host, url->host);
                req.set(http::field::connection, "close");
                req.set(http::field::content_type, "application/json");
                if (!post->headerName.empty()) req.set(post->headerName, post->headerValue);
                nlohmann::json body = {{"id", s.job.recipientId},
                                       {"to", s.job.address},
                                       {"from", route.sourceAddr},
                                       {"text", s.text}};
                req.body() = body.dump();
                req.prepare_payload();
                co_await http::async_write(stream, req,
                                           asio::redirect_error(asio::use_awaitable, ec));
            } else if (!ec) {
                http::request<http::empty_body> req(http::verb::get, target(*url, s), 11);
                req.set(http::field::host, url->host);
                req.set(http::field::connection, "close");
                co_await http::async_write(stream, req,
                                           asio::redirect_error(asio::use_awaitable, ec));
            }
            if (!ec) {
                beast::flat_buffer buffer;
                http::response_parser<http::string_body> parser;
                parser.body_limit(64 * 1024);
                co_await http::async_read(stream, buffer, parser,
                                          asio::redirect_error(asio::use_awaitable, ec));
                if (!ec) {
                    status = static_cast<int>(parser.get().result_int());
                    body = parser.get().body().substr(0, 512);
                }
            }
            error_code ignored;
            stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
        }
        o.atMs = clock.nowMillis();
        o.replyCode = status;
        classify(o, url.has_value(), ec, status, std::move(body), s.job.recipientId, started);
        s.report(std::move(o));
        --inFlight;
        counters.windowInUse.store(inFlight, std::memory_order_relaxed);
        pump(self);
    }
};

KannelConnector::KannelConnector(asio::io_context& io, const Clock& clock, SmsRouteConfig route,
                                 std::string password, std::string dlrToken)
    : state_(std::make_shared<State>(io, clock, std::move(route), std::move(password),
                                     std::move(dlrToken))) {}

KannelConnector::KannelConnector(asio::io_context& io, const Clock& clock, SmsRouteConfig route,
                                 JsonPost post)
    : state_(std::make_shared<State>(io, clock, std::move(route), std::string(), std::string())) {
    state_->post = std::move(post);
}

KannelConnector::~KannelConnector() {
    stop();
}

void KannelConnector::submit(SmsSubmission sub) {
    auto s = state_;
    asio::post(s->strand, [s, sub = std::move(sub)]() mutable {
        if (s->stopping) {
            s->reportStopping(sub);
            return;
        }
        s->queued.push_back(std::move(sub));
        s->pump(s);
    });
}

void KannelConnector::stop() {
    auto s = state_;
    asio::post(s->strand, [s] {
        s->stopping = true;
        for (auto& sub : s->queued) {
            s->reportStopping(sub);
        }
        s->queued.clear();
    });
}

const RouteCounters& KannelConnector::counters() const {
    return state_->counters;
}

}  // namespace sc::delivery::sms
