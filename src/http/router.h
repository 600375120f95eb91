#pragma once
// Router: maps a path to a handler. Handlers are asynchronous (the send path answers only after
// its group commit), so each gets a Responder to call exactly once, from any thread. No Beast
// here: handlers and the router are tested without sockets.

#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "http/request.h"

namespace sc::http {

// A one-shot reply channel. Copies share one slot; if every copy is dropped without a call, the
// client gets a 500 instead of a connection that hangs forever.
class Responder {
public:
    explicit Responder(std::function<void(Response)> deliver);
    void operator()(Response response) const;

private:
    struct State;
    std::shared_ptr<State> state_;
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
