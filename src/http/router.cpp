#include "http/router.h"

#include <algorithm>
#include <atomic>

namespace sc::http {

struct Responder::State {
    std::function<void(Response)> deliver;
    std::atomic<bool> done{false};

    ~State() {
        if (!done.load()) {
            Response r;
            r.status = 500;
            r.body =
                R"({"result":false,"statusCode":500,"errorCode":"server.no_response","message":"Internal server error","hint":"the request was not answered; it was not accepted"})";
            deliver(std::move(r));
        }
    }
};

Responder::Responder(std::function<void(Response)> deliver) : state_(std::make_shared<State>()) {
    state_->deliver = std::move(deliver);
}

void Responder::operator()(Response response) const {
    if (state_->done.exchange(true)) return;  // a second reply would be a handler bug; drop it
    state_->deliver(std::move(response));
}

Router::Router(ErrorResponder errors) : errors_(std::move(errors)) {}

void Router::add(std::initializer_list<Method> methods, const std::string& path, Handler handler) {
    routes_[path] = Route{std::vector<Method>(methods), std::move(handler)};
}

void Router::addPrefix(const std::string& prefix, Handler handler) {
    prefixes_.emplace_back(prefix, std::move(handler));
}

void Router::dispatch(const Request& req, Responder reply) const {
    auto it = routes_.find(req.path);
    if (it == routes_.end()) {
        for (const auto& [prefix, handler] : prefixes_) {
            if (req.path.compare(0, prefix.size(), prefix) == 0) {
                handler(req, std::move(reply));
                return;
            }
        }
        reply(errors_(404, "request.not_found", "no such endpoint: " + req.path));
        return;
    }
    const auto& methods = it->second.methods;
    if (std::find(methods.begin(), methods.end(), req.method) == methods.end()) {
        std::string allowed;
        for (auto m : methods) {
            if (!allowed.empty()) allowed += ", ";
            allowed += methodName(m);
        }
        Response r =
            errors_(405, "request.method_not_allowed",
                    std::string(methodName(req.method)) + " is not allowed here; use " + allowed);
        r.headers.push_back({"allow", allowed});
        reply(std::move(r));
        return;
    }
    it->second.handler(req, std::move(reply));
}

}  // namespace sc::http
