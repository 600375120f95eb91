#include <utility>  // before Asio's coroutine headers: g++ 12 needs it

#include "delivery/sms/smpp_connector.h"

#include <spdlog/spdlog.h>
#include <boost/asio.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cstring>
#include <deque>
#include <map>

#include "delivery/sms/smpp_pdu.h"

namespace sc::delivery::sms {

namespace asio = boost::asio;
using asio::awaitable;
using asio::ip::tcp;
using boost::system::error_code;
using Outcome = queue::DeliveryOutcome;

namespace {
constexpr auto kUseAwaitable = asio::use_awaitable;
// Temporary errors of one message retried here (the route paused in between) before the
// message goes back to the queue as Deferred: bounded so that a lease never runs out under us.
constexpr int kMaxTemporaryRetries = 5;
constexpr size_t kMaxQueued = 100000;

std::chrono::microseconds micros(std::chrono::steady_clock::duration d) {
    return std::chrono::duration_cast<std::chrono::microseconds>(d);
}
}  // namespace

struct SmppConnector::State : std::enable_shared_from_this<State> {
    struct Message {
        SmsSubmission s;
        std::vector<std::string> ids;
        size_t accepted = 0;
        int temporaryErrors = 0;
        bool done = false;
    };
    struct Part {
        std::shared_ptr<Message> msg;
        size_t index = 0;
    };
    struct InFlight {
        Part part;
        std::chrono::steady_clock::time_point sentAt;
    };

    State(asio::io_context& io, const Clock& clock, SmsRouteConfig route, std::string password,
          queue::ReceiptSink& sink, SmppTimings timings)
        : strand(asio::make_strand(io)),
          clock(clock),
          route(std::move(route)),
          password(std::move(password)),
          sink(sink),
          timings(timings),
          wake(strand),
          backoffTimer(strand) {}

    asio::strand<asio::io_context::executor_type> strand;
    const Clock& clock;
    SmsRouteConfig route;
    std::string password;
    queue::ReceiptSink& sink;
    SmppTimings timings;
    RouteCounters counters;

    std::optional<tcp::socket> socket;
    asio::steady_timer wake;  // the writer's condition variable: cancel() wakes it
    asio::steady_timer backoffTimer;
    bool bound = false;
    bool stopping = false;
    bool unbindSent = false;
    // Bumped by each bound session: a writer or keep-alive of an earlier session sees the
    // difference and ends instead of sharing the new socket.
    uint64_t generation = 0;
    bool lastConnectFailed = false;
    std::string remoteIp;
    uint32_t nextSequence = 1;
    std::deque<Part> queued;
    std::map<uint32_t, InFlight> inFlight;
    std::string outbox;
    std::chrono::steady_clock::time_point pausedUntil{};
    std::chrono::steady_clock::time_point lastReadAt{};
    std::chrono::steady_clock::time_point lastEnquireAt{};
    // Token bucket, in parts, on the injected clock's monotonic time.
    double tokens = 0;
    std::chrono::steady_clock::time_point tokensAt{};
    // What the SMSC sent and readPdu has not taken yet: [readBegin, readEnd). Emptied for each
    // session's socket.
    static constexpr size_t kReadBufferSize = 2 * smpp::kMaxPduLength;
    std::unique_ptr<char[]> readBuffer = std::make_unique<char[]>(kReadBufferSize);
    size_t readBegin = 0;
    size_t readEnd = 0;

    uint32_t sequence() {
        const uint32_t s = nextSequence;
        nextSequence = nextSequence >= 0x7FFFFFFF ? 1 : nextSequence + 1;
        return s;
    }

    void send(std::string pdu) {
        outbox += pdu;
        wake.cancel();
    }

    Outcome outcome(const Message& m, Outcome::Kind kind) const {
        Outcome o;
        o.recipientId = m.s.job.recipientId;
        o.kind = kind;
        o.atMs = clock.nowMillis();
        o.remoteHost = route.host;
        o.remoteIp = remoteIp;
        return o;
    }

    void finish(Message& m, Outcome o) {
        if (m.done) return;
        m.done = true;
        m.s.report(std::move(o));
    }

    void defer(Message& m, std::string why, std::chrono::milliseconds retryAfter) {
        Outcome o = outcome(m, Outcome::Kind::Deferred);
        o.replyText = std::move(why);
        o.retryAfter = retryAfter;
        finish(m, std::move(o));
    }

    // Everything not yet answered goes back to the queue: sent parts may have reached the
    // SMSC, so this can duplicate a part but never loses one (docs/delivery.md).
    void deferAll(const std::string& why, std::chrono::milliseconds retryAfter) {
        for (auto& [seq, f] : inFlight) defer(*f.part.msg, why, retryAfter);
        inFlight.clear();
        counters.windowInUse.store(0, std::memory_order_relaxed);
        for (auto& p : queued) defer(*p.msg, why, retryAfter);
        queued.clear();
    }

    void deferInFlight(const std::string& why) {
        for (auto& [seq, f] : inFlight) defer(*f.part.msg, why, std::chrono::milliseconds(0));
        inFlight.clear();
        counters.windowInUse.store(0, std::memory_order_relaxed);
    }

    void enqueue(SmsSubmission s) {
        auto m = std::make_shared<Message>();
        m->s = std::move(s);
        m->ids.resize(m->s.encoded.parts.size());
        if (stopping || queued.size() >= kMaxQueued) {
            defer(*m, stopping ? "route stopping" : "route queue full", timings.throttlePause);
            return;
        }
        if (lastConnectFailed && !bound) {
            defer(*m, "SMSC not bound", timings.reconnectFirst);
            return;
        }
        for (size_t i = 0; i < m->ids.size(); ++i) queued.push_back({m, i});
        wake.cancel();
    }

    // How long until one token is there (zero: take it now).
    std::chrono::steady_clock::duration tokenWait() {
        if (route.rate <= 0) return {};
        const auto now = clock.monotonicNow();
        const double burst = std::max(1.0, route.rate);
        if (tokensAt.time_since_epoch().count() == 0) {
            tokens = burst;
        } else {
            tokens = std::min(
                burst, tokens + std::chrono::duration<double>(now - tokensAt).count() * route.rate);
        }
        tokensAt = now;
        if (tokens >= 1) return {};
        return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::chrono::duration<double>((1 - tokens) / route.rate));
    }

    // Moves what the window, the pause and the rate allow from `queued` into the outbox.
    // Returns how long to wait before trying again when something is held back.
    std::optional<std::chrono::steady_clock::duration> fillWindow() {
        while (!queued.empty() && !stopping) {
            if (queued.front().msg->done) {
                queued.pop_front();
                continue;
            }
            if (inFlight.size() >= static_cast<size_t>(route.window)) return std::nullopt;
            const auto now = clock.monotonicNow();
            if (now < pausedUntil) return pausedUntil - now;
            if (auto wait = tokenWait(); wait.count() > 0) return wait;
            if (route.rate > 0) tokens -= 1;
            Part p = queued.front();
            queued.pop_front();
            const EncodedSms& e = p.msg->s.encoded;
            smpp::SubmitSm sm;
            sm.sourceAddr = route.sourceAddr;
            sm.destinationAddr = p.msg->s.job.address;
            sm.esmClass = e.udhi ? kEsmClassUdhi : 0;
            sm.dataCoding = e.dataCoding;
            sm.registeredDelivery = 1;  // every part asks for a receipt
            sm.shortMessage = e.parts[p.index];
            const uint32_t seq = sequence();
            outbox += smpp::encodeSubmitSm(seq, sm);
            inFlight[seq] = {p, now};
            counters.windowInUse.store(static_cast<int64_t>(inFlight.size()),
                                       std::memory_order_relaxed);
        }
        return std::nullopt;
    }

    bool current(uint64_t mine) const { return bound && socket && generation == mine; }

    awaitable<void> writer(std::shared_ptr<State> self, uint64_t mine) {
        (void)self;
        while (current(mine)) {
            const auto wait = fillWindow();
            if (!outbox.empty()) {
                std::string out;
                out.swap(outbox);
                error_code ec;
                co_await asio::async_write(*socket, asio::buffer(out),
                                           asio::redirect_error(kUseAwaitable, ec));
                if (ec) {
                    closeSocket();
                    co_return;
                }
                continue;
            }
            if (wait) {
                wake.expires_after(*wait);
            } else {
                wake.expires_at(asio::steady_timer::time_point::max());
            }
            error_code ec;
            co_await wake.async_wait(asio::redirect_error(kUseAwaitable, ec));
        }
    }

    awaitable<void> keepAlive(std::shared_ptr<State> self, uint64_t mine) {
        (void)self;
        asio::steady_timer tick(strand);
        while (current(mine)) {
            tick.expires_after(
                std::chrono::milliseconds(std::min<int64_t>(1000, timings.enquireLink.count())));
            error_code ec;
            co_await tick.async_wait(asio::redirect_error(kUseAwaitable, ec));
            if (!current(mine)) co_return;
            const auto now = clock.monotonicNow();
            if (now - lastEnquireAt >= timings.enquireLink) {
                lastEnquireAt = now;
                send(smpp::encodeEmpty(smpp::kEnquireLink, 0, sequence()));
            }
            // A silent SMSC, or a submit nobody answers: the session is dead.
            bool late = now - lastReadAt > timings.enquireLink + timings.responseTimeout;
            for (const auto& [seq, f] : inFlight) {
                late = late || now - f.sentAt > timings.responseTimeout;
            }
            if (late) {
                spdlog::warn("sms route {}: SMSC stopped answering; reconnecting", route.name);
                closeSocket();
                co_return;
            }
            if (stopping && inFlight.empty() && !unbindSent) {
                unbindSent = true;
                send(smpp::encodeEmpty(smpp::kUnbind, 0, sequence()));
            }
        }
    }

    void closeSocket() {
        if (socket) {
            error_code ignored;
            socket->shutdown(tcp::socket::shutdown_both, ignored);
            socket->close(ignored);
        }
        wake.cancel();
    }

    // Makes at least `need` unparsed bytes available in readBuffer, reading as much as the
    // socket has; false when the connection ended.
    awaitable<bool> fill(size_t need) {
        while (readEnd - readBegin < need) {
            if (readBegin > 0) {
                // What is left is less than one PDU: moved to the front, the rest is free.
                std::memmove(readBuffer.get(), readBuffer.get() + readBegin, readEnd - readBegin);
                readEnd -= readBegin;
                readBegin = 0;
            }
            error_code ec;
            const size_t n = co_await socket->async_read_some(
                asio::buffer(readBuffer.get() + readEnd, kReadBufferSize - readEnd),
                asio::redirect_error(kUseAwaitable, ec));
            if (ec) co_return false;
            readEnd += n;
        }
        co_return true;
    }

    // Reads one PDU; false when the connection ended or sent something unreadable. PDUs come
    // from readBuffer, refilled with one read of whatever has arrived when no whole PDU is left:
    // a window's worth of submit_sm_resp costs one read, not two per PDU.
    awaitable<bool> readPdu(smpp::Header& h, std::string& body) {
        if (!co_await fill(smpp::kHeaderLength)) co_return false;
        auto decoded =
            smpp::decodeHeader(std::string_view(readBuffer.get() + readBegin, smpp::kHeaderLength));
        if (!decoded) {
            spdlog::warn("sms route {}: {}", route.name, decoded.error());
            co_return false;
        }
        h = *decoded;
        // decodeHeader refused lengths past kMaxPduLength, which the buffer holds whole.
        if (!co_await fill(h.length)) co_return false;
        body.assign(readBuffer.get() + readBegin + smpp::kHeaderLength,
                    h.length - smpp::kHeaderLength);
        readBegin += h.length;
        lastReadAt = clock.monotonicNow();
        co_return true;
    }

    void onSubmitResp(const smpp::Header& h, std::string_view body) {
        auto it = inFlight.find(h.sequence);
        if (it == inFlight.end()) return;
        InFlight f = it->second;
        inFlight.erase(it);
        // Every answer counts, a refusal too: the latency is the SMSC's, whatever it said.
        counters.observeSubmitLatency(micros(clock.monotonicNow() - f.sentAt));
        counters.windowInUse.store(static_cast<int64_t>(inFlight.size()),
                                   std::memory_order_relaxed);
        wake.cancel();
        Message& m = *f.part.msg;
        if (m.done) return;
        if (h.status == smpp::kStatusOk) {
            auto id = smpp::decodeMessageIdBody(body);
            m.ids[f.part.index] = id ? *id : std::string();
            ++m.accepted;
            counters.submitted.fetch_add(1, std::memory_order_relaxed);
            if (m.accepted == m.ids.size()) {
                Outcome o = outcome(m, Outcome::Kind::Submitted);
                o.replyCode = 0;
                o.replyText = "submit_sm_resp OK";
                o.smscMessageIds = m.ids;
                finish(m, std::move(o));
            }
            return;
        }
        char status[16];
        std::snprintf(status, sizeof status, "0x%08X", h.status);
        if (smpp::isTemporaryStatus(h.status)) {
            // Pause the whole route: the SMSC asked us to slow down, not this message.
            pausedUntil = clock.monotonicNow() + timings.throttlePause;
            counters.throttlePauses.fetch_add(1, std::memory_order_relaxed);
            if (++m.temporaryErrors > kMaxTemporaryRetries) {
                Outcome o = outcome(m, Outcome::Kind::Deferred);
                o.replyCode = static_cast<int>(h.status);
                o.replyText = std::string("submit_sm_resp command_status ") + status;
                o.retryAfter = timings.throttlePause;
                finish(m, std::move(o));
            } else {
                queued.push_front(f.part);
            }
            return;
        }
        Outcome o = outcome(m, Outcome::Kind::Failed);
        o.replyCode = static_cast<int>(h.status);
        o.replyText = std::string("submit_sm_resp command_status ") + status;
        finish(m, std::move(o));
    }

    void onDeliverSm(const smpp::Header& h, std::string_view body) {
        auto d = smpp::decodeDeliverSm(body);
        if (!d) {
            spdlog::warn("sms route {}: unreadable deliver_sm: {}", route.name, d.error());
            send(smpp::encodeDeliverSmResp(h.sequence, smpp::kStatusSystemError));
            return;
        }
        send(smpp::encodeDeliverSmResp(h.sequence, smpp::kStatusOk));
        const int64_t now = clock.nowMillis();
        if (d->isReceipt()) {
            auto text = smpp::parseReceiptText(d->shortMessage);
            queue::SmsReceipt r;
            r.route = route.name;
            r.smscMessageId =
                d->receiptedMessageId ? *d->receiptedMessageId : (text ? text->id : std::string());
            r.stat = d->messageState ? smpp::messageStateName(*d->messageState)
                                     : (text ? text->stat : std::string("UNKNOWN"));
            r.errorCode = text ? text->err : std::string();
            r.atMs = now;
            if (r.smscMessageId.empty()) {
                spdlog::warn("sms route {}: a receipt without a message id", route.name);
                return;
            }
            sink.receipt(std::move(r));
            return;
        }
        queue::InboundSms sms;
        sms.route = route.name;
        auto number = [](const std::string& a) {
            const bool digits = !a.empty() && std::all_of(a.begin(), a.end(), [](char c) {
                return c >= '0' && c <= '9';
            });
            return digits ? "+" + a : a;
        };
        sms.from = number(d->sourceAddr);
        sms.to = number(d->destinationAddr);
        sms.text = decodeShortMessage(d->shortMessage, d->dataCoding, (d->esmClass & 0x40) != 0);
        sms.atMs = now;
        sink.inbound(std::move(sms));
    }

    // One PDU from the SMSC while bound: answers, receipts and MO messages, its enquire_link and
    // unbind; an unknown request gets generic_nack.
    void onPdu(const smpp::Header& h, const std::string& body) {
        switch (h.command) {
            case smpp::kSubmitSmResp:
                onSubmitResp(h, body);
                break;
            case smpp::kDeliverSm:
                onDeliverSm(h, body);
                break;
            case smpp::kEnquireLink:
                send(smpp::encodeEmpty(smpp::kEnquireLinkResp, 0, h.sequence));
                break;
            case smpp::kEnquireLinkResp:
                break;
            case smpp::kUnbind:
                send(smpp::encodeEmpty(smpp::kUnbindResp, 0, h.sequence));
                break;
            case smpp::kUnbindResp:
                closeSocket();
                break;
            case smpp::kGenericNack:
                onSubmitResp(h, "");
                break;
            default:
                if ((h.command & 0x80000000u) == 0) {
                    send(smpp::encodeEmpty(smpp::kGenericNack, smpp::kStatusInvalidCommandId,
                                           h.sequence));
                }
        }
    }

    // One connection: connect, bind, then read until it ends. True when the bind succeeded.
    awaitable<bool> session(std::shared_ptr<State> self) {
        tcp::resolver resolver(strand);
        error_code ec;
        auto endpoints = co_await resolver.async_resolve(route.host, std::to_string(route.port),
                                                         asio::redirect_error(kUseAwaitable, ec));
        if (ec) {
            spdlog::warn("sms route {}: cannot resolve {}: {}", route.name, route.host,
                         ec.message());
            co_return false;
        }
        socket.emplace(strand);
        readBegin = readEnd = 0;
        co_await asio::async_connect(*socket, endpoints, asio::redirect_error(kUseAwaitable, ec));
        if (ec || stopping) {
            if (ec) {
                spdlog::warn("sms route {}: cannot connect to {}:{}: {}", route.name, route.host,
                             route.port, ec.message());
            }
            socket.reset();
            co_return false;
        }
        remoteIp = socket->remote_endpoint(ec).address().to_string();
        socket->set_option(tcp::no_delay(true), ec);
        const std::string bind =
            smpp::encodeBindTransceiver(sequence(), {route.systemId, password, route.systemType});
        co_await asio::async_write(*socket, asio::buffer(bind),
                                   asio::redirect_error(kUseAwaitable, ec));
        // The bind answer, within the response timeout.
        asio::steady_timer deadline(strand);
        deadline.expires_after(timings.responseTimeout);
        deadline.async_wait([self](error_code e) {
            if (!e && !self->bound) self->closeSocket();
        });
        smpp::Header h;
        std::string body;
        bool ok = !ec && co_await readPdu(h, body);
        deadline.cancel();
        if (!ok || h.command != smpp::kBindTransceiverResp || h.status != smpp::kStatusOk) {
            if (!stopping)
                spdlog::warn("sms route {}: bind_transceiver refused (command_status 0x{:08X})",
                             route.name, ok ? h.status : 0);
            closeSocket();
            socket.reset();
            co_return false;
        }
        bound = true;
        lastConnectFailed = false;
        counters.bound.store(true);
        counters.bindsUp.fetch_add(1, std::memory_order_relaxed);
        spdlog::info("sms route {}: bound to {}:{}", route.name, route.host, route.port);
        lastReadAt = lastEnquireAt = clock.monotonicNow();
        ++generation;
        asio::co_spawn(strand, writer(self, generation), asio::detached);
        asio::co_spawn(strand, keepAlive(self, generation), asio::detached);
        while (co_await readPdu(h, body)) onPdu(h, body);
        bound = false;
        counters.bound.store(false);
        counters.bindsDown.fetch_add(1, std::memory_order_relaxed);
        closeSocket();
        socket.reset();
        outbox.clear();
        if (!stopping) spdlog::warn("sms route {}: connection to the SMSC lost", route.name);
        co_return true;
    }

    awaitable<void> run(std::shared_ptr<State> self) {
        auto backoff = timings.reconnectFirst;
        while (!stopping) {
            const bool wasBound = co_await session(self);
            deferInFlight("connection to the SMSC lost before submit_sm_resp");
            if (stopping) break;
            if (wasBound) {
                backoff = timings.reconnectFirst;
            } else {
                // Nobody to hand them to for a while: back to the queue, retried after the
                // reconnect delay.
                lastConnectFailed = true;
                deferAll("SMSC not reachable", backoff);
            }
            if (wasBound) {
                // Rebind at once after a lost session; wait only when binding itself fails.
                continue;
            }
            backoffTimer.expires_after(backoff);
            error_code ec;
            co_await backoffTimer.async_wait(asio::redirect_error(kUseAwaitable, ec));
            backoff = std::min(backoff * 2, timings.reconnectMax);
        }
        deferAll("route stopped", std::chrono::milliseconds(0));
    }
};

SmppConnector::SmppConnector(asio::io_context& io, const Clock& clock, SmsRouteConfig route,
                             std::string password, queue::ReceiptSink& sink, SmppTimings timings)
    : state_(std::make_shared<State>(io, clock, std::move(route), std::move(password), sink,
                                     timings)) {}

SmppConnector::~SmppConnector() {
    stop();
}

void SmppConnector::start() {
    auto s = state_;
    asio::co_spawn(s->strand, s->run(s), asio::detached);
}

void SmppConnector::submit(SmsSubmission sub) {
    auto s = state_;
    asio::post(s->strand, [s, sub = std::move(sub)]() mutable { s->enqueue(std::move(sub)); });
}

void SmppConnector::stop() {
    auto s = state_;
    asio::post(s->strand, [s] {
        if (s->stopping) return;
        s->stopping = true;
        s->backoffTimer.cancel();
        for (auto& p : s->queued) s->defer(*p.msg, "route stopping", std::chrono::milliseconds(0));
        s->queued.clear();
        if (s->bound && s->inFlight.empty()) {
            s->unbindSent = true;
            s->send(smpp::encodeEmpty(smpp::kUnbind, 0, s->sequence()));
        } else if (!s->bound) {
            s->closeSocket();
        }
        // Otherwise keepAlive unbinds once the window is empty, or gives up after the
        // response timeout.
    });
}

const RouteCounters& SmppConnector::counters() const {
    return state_->counters;
}

}  // namespace sc::delivery::sms
