#include "api/api_error.h"

namespace sc::api {

std::string_view statusMessage(int status) {
    switch (status) {
        case 200:
            return "request was successful";
        case 400:
            return "Bad request, please check the parameters";
        case 401:
            return "Authentication failed, please check API credentials";
        case 403:
            return "Forbidden: this API user may not do this";
        case 404:
            return "Not found";
        case 405:
            return "Method not allowed";
        case 408:
            return "Request timeout";
        case 413:
            return "Request too large";
        case 415:
            return "Unsupported media type";
        case 429:
            return "Too many requests";
        case 431:
            return "Request header fields too large";
        case 503:
            return "Service unavailable, please retry";
        default:
            return status >= 500 ? "Internal server error" : "Request failed";
    }
}

http::Response errorResponse(const ApiError& error, ResponseShape shape) {
    if (shape == ResponseShape::V1) {
        nlohmann::ordered_json body = {{"message", "error"},
                                       {"errors", {error.hint}},
                                       {"errorCode", error.code},
                                       {"statusCode", error.status}};
        http::Response r;
        r.status = error.status;
        r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        r.headers = error.headers;
        return r;
    }
    nlohmann::ordered_json body = {{"result", false},
                                   {"statusCode", error.status},
                                   {"errorCode", error.code},
                                   {"message", statusMessage(error.status)},
                                   {"hint", error.hint}};
    http::Response r;
    r.status = error.status;
    // Hints may quote what the client sent (an address, a name); replace invalid UTF-8 rather
    // than throw.
    r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    r.headers = error.headers;
    return r;
}

http::Response successResponse(nlohmann::json info) {
    // The fixed part of the envelope as text: byte-identical to dumping the whole object, at a
    // third of the cost on the send path (bench/README.md).
    static const std::string kHead = [] {
        std::string h = R"({"result":true,"statusCode":200,"message":)";
        h += nlohmann::json(statusMessage(200)).dump();
        h += R"(,"info":)";
        return h;
    }();
    http::Response r;
    r.status = 200;
    r.body.reserve(kHead.size() + 64);
    r.body = kHead;
    r.body += info.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    r.body += '}';
    return r;
}

http::Response successResponse(nlohmann::json info, ResponseShape shape) {
    if (shape == ResponseShape::V2) return successResponse(std::move(info));
    nlohmann::ordered_json body = {{"message", "success"}};
    if (info.contains("emailIdList")) body["email_id_list"] = info["emailIdList"];
    for (auto& [k, v] : info.items()) {
        if (k != "emailIdList") body[k] = v;
    }
    http::Response r;
    r.status = 200;
    r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return r;
}

}  // namespace sc::api
