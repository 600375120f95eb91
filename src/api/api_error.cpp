#include "api/api_error.h"

#include <algorithm>

#include "api/json_text.h"

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

ApiError badRequest(std::string code, std::string hint) {
    return ApiError{400, std::move(code), std::move(hint), {}};
}

http::Header retryAfter(int64_t waitMs) {
    return {"retry-after", std::to_string(std::max<int64_t>(1, (waitMs + 999) / 1000))};
}

http::Response errorResponse(const ApiError& error, ResponseShape shape) {
    // Written as text in ordered_json's key order: byte-identical to dumping the envelope
    // (with invalid UTF-8 in a hint replaced, as the replacing handler did), at a fraction of
    // the cost on the 401 path (bench/README.md).
    http::Response r;
    r.status = error.status;
    std::string& b = r.body;
    b.reserve(96 + error.code.size() + error.hint.size());
    if (shape == ResponseShape::V1) {
        b += R"({"message":"error","errors":[)";
        json_text::appendString(b, error.hint);
        b += R"(],"errorCode":)";
        json_text::appendString(b, error.code);
        b += R"(,"statusCode":)";
        json_text::appendInt(b, error.status);
        b += '}';
    } else {
        b += R"({"result":false,"statusCode":)";
        json_text::appendInt(b, error.status);
        b += R"(,"errorCode":)";
        json_text::appendString(b, error.code);
        b += R"(,"message":)";
        json_text::appendString(b, statusMessage(error.status));
        b += R"(,"hint":)";
        json_text::appendString(b, error.hint);
        b += '}';
    }
    r.headers = error.headers;
    return r;
}

namespace {

// The fixed part of the success envelope, up to its info object.
constexpr std::string_view kSuccessHead =
    R"({"result":true,"statusCode":200,"message":"request was successful","info":)";

}  // namespace

http::Response successResponse(nlohmann::json info) {
    return successResponseText(info.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

http::Response successResponseText(std::string_view infoJson) {
    http::Response r;
    r.status = 200;
    r.body.reserve(kSuccessHead.size() + infoJson.size() + 1);
    r.body += kSuccessHead;
    r.body += infoJson;
    r.body += '}';
    return r;
}

http::Response emailSuccessResponseV1(std::optional<std::string_view> emailIdListJson) {
    http::Response r;
    r.status = 200;
    if (!emailIdListJson) {
        r.body = R"({"message":"success"})";
        return r;
    }
    constexpr std::string_view kHead = R"({"message":"success","email_id_list":)";
    r.body.reserve(kHead.size() + emailIdListJson->size() + 1);
    r.body += kHead;
    r.body += *emailIdListJson;
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

ApiError storeUnavailable(StoreCaller caller) {
    if (caller == StoreCaller::Console) {
        return ApiError{503,
                        "console.store_unavailable",
                        "the database is busy or unavailable; retry",
                        {{"retry-after", "1"}}};
    }
    return ApiError{503,
                    "store.unavailable",
                    "the message was not accepted because the queue could not be written; it is "
                    "safe to retry",
                    {{"retry-after", "1"}}};
}

}  // namespace sc::api
