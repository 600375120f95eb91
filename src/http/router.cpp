#include "http/router.h"

#include <algorithm>
#include <utility>

#include "http/request_params.h"

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

// More segments than any template has: such a path is not split any further.
constexpr size_t kMaxTemplateSegments = 16;

// The segments of `path` after its leading '/', one trailing '/' ignored; empty when there are
// more than kMaxTemplateSegments.
std::vector<std::string_view> splitPath(std::string_view path) {
    std::vector<std::string_view> out;
    if (path.empty() || path.front() != '/') return out;
    path.remove_prefix(1);
    if (!path.empty() && path.back() == '/') path.remove_suffix(1);
    while (out.size() <= kMaxTemplateSegments) {
        const auto slash = path.find('/');
        out.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos) return out;
        path.remove_prefix(slash + 1);
    }
    out.clear();
    return out;
}

std::string methodList(const std::vector<Method>& methods) {
    std::string allowed;
    for (auto m : methods) {
        if (!allowed.empty()) allowed += ", ";
        allowed += methodName(m);
    }
    return allowed;
}

}  // namespace

std::string_view PathParams::get(std::string_view name) const {
    for (const auto& [n, value] : values_) {
        if (n == name) return value;
    }
    return {};
}

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

void Router::addTemplate(std::initializer_list<Method> methods, const std::string& pattern,
                         TemplateHandler handler) {
    Template t{std::vector<Method>(methods), {}, std::move(handler)};
    for (auto segment : splitPath(pattern)) {
        const bool capture = segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
        if (capture) segment = segment.substr(1, segment.size() - 2);
        t.segments.emplace_back(std::string(segment), capture);
    }
    templates_.push_back(std::move(t));
}

void Router::setErrorsUnder(const std::string& prefix, ErrorResponder errors) {
    scopedErrors_.emplace_back(prefix, std::move(errors));
}

const ErrorResponder& Router::errorsFor(std::string_view path) const {
    const ErrorResponder* best = &errors_;
    size_t bestLength = 0;
    for (const auto& [prefix, errors] : scopedErrors_) {
        if (prefix.size() > bestLength && path.substr(0, prefix.size()) == prefix) {
            best = &errors;
            bestLength = prefix.size();
        }
    }
    return *best;
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
    if (it != routes_.end()) {
        const auto& methods = it->second.methods;
        if (std::find(methods.begin(), methods.end(), req.method) == methods.end()) {
            methodNotAllowed(req, methods, reply);
            return;
        }
        it->second.handler(req, std::move(reply));
        return;
    }
    if (!templates_.empty() && dispatchTemplate(req, reply)) return;
    for (const auto& [prefix, handler] : prefixes_) {
        if (req.path.compare(0, prefix.size(), prefix) == 0) {
            handler(req, std::move(reply));
            return;
        }
    }
    reply(errorsFor(req.path)(404, "request.not_found", "no such endpoint: " + req.path));
}

bool Router::matches(const Template& t, const std::vector<std::string_view>& segments,
                     PathParams* params) const {
    if (t.segments.size() != segments.size()) return false;
    for (size_t i = 0; i < segments.size(); ++i) {
        const auto& [text, capture] = t.segments[i];
        if (!capture) {
            if (segments[i] != text) return false;
            continue;
        }
        auto decoded = percentDecode(segments[i], /*plusIsSpace=*/false);
        if (!decoded || decoded->empty() || decoded->size() > kMaxPathParamBytes ||
            decoded->find('/') != std::string::npos) {
            return false;
        }
        if (params) params->values_.emplace_back(text, std::move(decoded).value());
    }
    return true;
}

bool Router::dispatchTemplate(const Request& req, Responder& reply) const {
    const auto segments = splitPath(req.path);
    if (segments.empty()) return false;
    std::vector<Method> shapeMethods;  // of the templates whose shape matched, for a 405
    for (const auto& t : templates_) {
        if (std::find(t.methods.begin(), t.methods.end(), req.method) == t.methods.end()) {
            if (matches(t, segments, nullptr)) {
                for (auto m : t.methods) {
                    if (std::find(shapeMethods.begin(), shapeMethods.end(), m) ==
                        shapeMethods.end()) {
                        shapeMethods.push_back(m);
                    }
                }
            }
            continue;
        }
        PathParams params;
        if (!matches(t, segments, &params)) continue;
        t.handler(req, params, std::move(reply));
        return true;
    }
    if (shapeMethods.empty()) return false;
    methodNotAllowed(req, shapeMethods, reply);
    return true;
}

void Router::methodNotAllowed(const Request& req, const std::vector<Method>& methods,
                              Responder& reply) const {
    const std::string allowed = methodList(methods);
    Response r = errorsFor(req.path)(
        405, "request.method_not_allowed",
        std::string(methodName(req.method)) + " is not allowed here; use " + allowed);
    r.headers.push_back({"allow", allowed});
    reply(std::move(r));
}

}  // namespace sc::http
