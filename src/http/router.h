#pragma once
// Router: maps a path to a handler. Handlers are asynchronous (the send path answers only after
// its group commit), so each gets a Responder to call exactly once, from any thread. No Beast
// here: handlers and the router are tested without sockets.
//
// Three kinds of route, tried in this order: exact paths (one hash look-up: the send path's),
// path templates ("/console/api/email-users/{name}/key", only when no exact route matches), and
// prefixes (a handler that routes further itself).

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
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

// The segments a path template captured, by name, percent-decoded. Valid only during the
// handler's call: a handler that answers later copies what it needs.
class PathParams {
public:
    // The segment captured as `name`; empty when the template has no such capture.
    std::string_view get(std::string_view name) const;

private:
    friend class Router;
    std::vector<std::pair<std::string_view, std::string>> values_;
};

using TemplateHandler = std::function<void(const Request&, const PathParams&, Responder)>;

// A captured segment is at most this long once decoded; a longer one matches no template.
inline constexpr size_t kMaxPathParamBytes = 256;
// Builds the body of an error the router itself produces (404, 405, 500), so every error body in
// the service has the API's one shape.
using ErrorResponder = std::function<Response(int status, std::string code, std::string hint)>;

class Router {
public:
    explicit Router(ErrorResponder errors);

    void add(std::initializer_list<Method> methods, const std::string& path, Handler handler);
    // A route whose `{name}` segments each match one non-empty path segment, captured
    // percent-decoded (a capture that decodes to nothing, holds a '/' or is longer than
    // kMaxPathParamBytes matches nothing). One trailing '/' in the request path is ignored.
    // Templates are tried in the order added; a path that matches some template but none with
    // the request's method is a 405 naming their methods.
    void addTemplate(std::initializer_list<Method> methods, const std::string& pattern,
                     TemplateHandler handler);
    // Every request whose path starts with `prefix` and matches no exact route goes to
    // `handler`, whatever its method; the handler routes further (e.g. /console/api/...).
    void addPrefix(const std::string& prefix, Handler handler);
    void dispatch(const Request& req, Responder reply) const;
    // Replaces the handler of an exact route with wrap(old handler); false when there is no
    // such route. For the test-only fault injection (src/test_controls/).
    bool wrap(const std::string& path, const std::function<Handler(Handler)>& wrap);
    const ErrorResponder& errors() const { return errors_; }
    // The router's own 404s and 405s for paths under `prefix` are built by `errors` (the
    // console's carry Cache-Control: no-store, like the rest of its answers).
    void setErrorsUnder(const std::string& prefix, ErrorResponder errors);

private:
    struct Route {
        std::vector<Method> methods;
        Handler handler;
    };
    struct Template {
        std::vector<Method> methods;
        // One entry per segment: a literal, or a capture's name with `capture` set.
        std::vector<std::pair<std::string, bool>> segments;
        TemplateHandler handler;
    };
    // True when a template took the request (answered, or refused its method with a 405).
    bool dispatchTemplate(const Request& req, Responder& reply) const;
    bool matches(const Template& t, const std::vector<std::string_view>& segments,
                 PathParams* params) const;
    void methodNotAllowed(const Request& req, const std::vector<Method>& methods,
                          Responder& reply) const;
    const ErrorResponder& errorsFor(std::string_view path) const;

    std::unordered_map<std::string, Route> routes_;
    std::vector<Template> templates_;
    std::vector<std::pair<std::string, Handler>> prefixes_;
    ErrorResponder errors_;
    std::vector<std::pair<std::string, ErrorResponder>> scopedErrors_;
};

}  // namespace sc::http
