#include "console/console_errors.h"

#include <spdlog/spdlog.h>

#include <utility>

namespace sc::console {

api::ApiError err(int status, std::string code, std::string hint) {
    return api::ApiError{status, std::move(code), std::move(hint), {}};
}

api::ApiError badRequest(std::string hint) {
    return err(400, "console.bad_request", std::move(hint));
}

api::ApiError sessionRequired(std::string hint) {
    return err(401, "console.session_required", std::move(hint));
}

api::ApiError storeFailure(const store::StoreError& e) {
    spdlog::error("console: store error: {}", e.message);
    if (e.kind == store::StoreError::Kind::Unavailable) {
        return api::storeUnavailable(api::StoreCaller::Console);
    }
    return err(500, "console.internal", "the server could not complete the request");
}

bool isStateChanging(http::Method m) {
    return m == http::Method::Post || m == http::Method::Put || m == http::Method::Patch ||
           m == http::Method::Delete;
}

http::Response noStore(http::Response r) {
    // Responses carry keys and account data: no cache of any kind may keep them.
    r.headers.push_back({"cache-control", "no-store"});
    return r;
}

http::Response errorOut(const api::ApiError& e) {
    return noStore(api::errorResponse(e));
}
http::Response ok(nlohmann::json info) {
    return noStore(api::successResponse(std::move(info)));
}

bool isJsonContentType(std::string_view ct) {
    auto semi = ct.find(';');
    std::string_view type = ct.substr(0, semi);
    while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
    while (!type.empty() && type.front() == ' ') type.remove_prefix(1);
    constexpr std::string_view kJson = "application/json";
    if (type.size() != kJson.size()) return false;
    for (size_t i = 0; i < kJson.size(); ++i) {
        char c = type[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != kJson[i]) return false;
    }
    return true;
}

Result<nlohmann::json, api::ApiError> jsonBody(const http::Request& req, bool required) {
    if (req.body.empty()) {
        if (required) return fail(badRequest("the request needs a JSON object body"));
        return nlohmann::json::object();
    }
    auto ct = req.header("content-type");
    if (!ct || !isJsonContentType(*ct)) {
        return fail(
            err(415, "request.unsupported_media_type", "send the body as application/json"));
    }
    nlohmann::json body = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded()) return fail(badRequest("the body is not valid JSON"));
    if (!body.is_object()) return fail(badRequest("the body must be a JSON object"));
    return body;
}

}  // namespace sc::console
