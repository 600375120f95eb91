#include "http/router.h"

#include <algorithm>
#include <utility>

namespace sc::http {

namespace {

Response noResponse() {
    Response r;
    r.status = 500;
    r.body =
        R"({"result":false,"statusCode":500,"errorCode":"server.no_response","message":"Internal server error","hint":"the request was not answered; it was not accepted"})";
    return r;
}

class FunctionChannel final : public ReplyChannel {
public:
    explicit FunctionChannel(std::function<void(Response)> deliver)
        : deliver_(std::move(deliver)) {}

protected:
    void deliver(Response response) override { deliver_(std::move(response)); }

private:
    std::function<void(Response)> deliver_;
};

}  // namespace

Responder::Responder(std::function<void(Response)> deliver) {
    attach(new FunctionChannel(std::move(deliver)));
}

Responder::Responder(ReplyChannel& channel) {
    attach(&channel);
}

Responder::Responder(const Responder& other) {
    attach(other.channel_);
}

Responder& Responder::operator=(const Responder& other) {
    if (this != &other) {
        drop();
        attach(other.channel_);
    }
    return *this;
}

Responder& Responder::operator=(Responder&& other) noexcept {
    if (this != &other) {
        drop();
        channel_ = other.channel_;
        other.channel_ = nullptr;
    }
    return *this;
}

void Responder::attach(ReplyChannel* channel) {
    channel_ = channel;
    if (!channel_) return;
    channel_->retain();
    channel_->responders_.fetch_add(1, std::memory_order_relaxed);
}

void Responder::drop() {
    ReplyChannel* channel = std::exchange(channel_, nullptr);
    if (!channel) return;
    if (channel->responders_.fetch_sub(1, std::memory_order_acq_rel) == 1 &&
        !channel->answered_.exchange(true, std::memory_order_acq_rel)) {
        channel->deliver(noResponse());
    }
    channel->release();
}

void Responder::operator()(Response response) const {
    // A second reply would be a handler bug; drop it.
    if (channel_->answered_.exchange(true, std::memory_order_acq_rel)) return;
    channel_->deliver(std::move(response));
}

Router::Router(ErrorResponder errors) : errors_(std::move(errors)) {}

void Router::add(std::initializer_list<Method> methods, const std::string& path, Handler handler) {
    routes_[path] = Route{std::vector<Method>(methods), std::move(handler)};
}

void Router::addPrefix(const std::string& prefix, Handler handler) {
    prefixes_.emplace_back(prefix, std::move(handler));
}

bool Router::wrap(const std::string& path, const std::function<Handler(Handler)>& wrap) {
    auto it = routes_.find(path);
    if (it == routes_.end()) return false;
    it->second.handler = wrap(std::move(it->second.handler));
    return true;
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
