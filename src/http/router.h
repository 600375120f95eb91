#pragma once
// Router: maps a path to a handler. Handlers are asynchronous (the send path answers only after
// its group commit), so each gets a Responder to call exactly once, from any thread. No Beast
// here: handlers and the router are tested without sockets.

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "http/request.h"

namespace sc::http {

// Where a Responder's answer goes. The server keeps one per connection and reuses it from request
// to request, so that a handler answering on the spot costs no allocation; Responder's
// std::function constructor wraps its callback in one. Reference-counted by hand: the Responders
// and whoever owns the channel (retain()/release()).
class ReplyChannel {
public:
    ReplyChannel(const ReplyChannel&) = delete;
    ReplyChannel& operator=(const ReplyChannel&) = delete;

    void retain() { refs_.fetch_add(1, std::memory_order_relaxed); }
    void release() {
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy();
    }
    // True when only the caller's reference is left (no Responder anywhere), so the channel can
    // serve the next request after rearm().
    bool soleOwner() const { return refs_.load(std::memory_order_acquire) == 1; }
    void rearm() { answered_.store(false, std::memory_order_relaxed); }

protected:
    ReplyChannel() = default;
    virtual ~ReplyChannel() = default;
    // Called once per request on the thread that answered: with the handler's answer, or with a
    // 500 when the last Responder was dropped unanswered.
    virtual void deliver(Response response) = 0;
    virtual void destroy() { delete this; }

private:
    friend class Responder;
    std::atomic<uint32_t> refs_{0};
    std::atomic<uint32_t> responders_{0};
    std::atomic<bool> answered_{false};
};

// A one-shot reply channel. Copies share one slot; if every copy is dropped without a call, the
// client gets a 500 instead of a connection that hangs forever.
class Responder {
public:
    explicit Responder(std::function<void(Response)> deliver);
    explicit Responder(ReplyChannel& channel);
    Responder(const Responder& other);
    Responder(Responder&& other) noexcept : channel_(other.channel_) { other.channel_ = nullptr; }
    Responder& operator=(const Responder& other);
    Responder& operator=(Responder&& other) noexcept;
    ~Responder() { drop(); }

    void operator()(Response response) const;

private:
    void attach(ReplyChannel* channel);
    void drop();
    ReplyChannel* channel_ = nullptr;
};

using Handler = std::function<void(const Request&, Responder)>;
// Builds the body of an error the router itself produces (404, 405, 500), so every error body in
// the service has the API's one shape.
using ErrorResponder = std::function<Response(int status, std::string code, std::string hint)>;

class Router {
public:
    explicit Router(ErrorResponder errors);

    void add(std::initializer_list<Method> methods, const std::string& path, Handler handler);
    // Every request whose path starts with `prefix` and matches no exact route goes to
    // `handler`, whatever its method; the handler routes further (e.g. /console/api/...).
    void addPrefix(const std::string& prefix, Handler handler);
    void dispatch(const Request& req, Responder reply) const;
    // Replaces the handler of an exact route with wrap(old handler); false when there is no
    // such route. For the test-only fault injection (src/test_controls/).
    bool wrap(const std::string& path, const std::function<Handler(Handler)>& wrap);
    const ErrorResponder& errors() const { return errors_; }

private:
    struct Route {
        std::vector<Method> methods;
        Handler handler;
    };
    std::unordered_map<std::string, Route> routes_;
    std::vector<std::pair<std::string, Handler>> prefixes_;
    ErrorResponder errors_;
};

}  // namespace sc::http
