#pragma once
// ApiError and the response envelope of docs/api.md §10. Handlers return ApiError values; this file
// alone turns them (and successes) into JSON bodies, so every response has the same shape.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "http/request.h"

namespace sc::api {

struct ApiError {
    int status = 400;
    std::string code;  // stable dotted code clients branch on, e.g. "email.from_missing"
    std::string hint;  // for a person; never holds a secret
    std::vector<http::Header> headers;  // e.g. Retry-After
};

// Which body a path answers with: the envelope of docs/api.md §10 (Aurora and SendCloud v2 paths),
// or SendCloud v1's ({"message":"success",...} / {"message":"error","errors":[...]}), which
// the /webapi/*.json paths' clients parse.
enum class ResponseShape { V2, V1 };

// 400 for a parameter the caller must fix.
ApiError badRequest(std::string code, std::string hint);
// The Retry-After header for a wait of `waitMs`: whole seconds, rounded up, at least 1.
http::Header retryAfter(int64_t waitMs);

http::Response errorResponse(const ApiError& error, ResponseShape shape = ResponseShape::V2);
http::Response successResponse(nlohmann::json info);
// v1: the info's emailIdList becomes email_id_list, beside "message":"success".
http::Response successResponse(nlohmann::json info, ResponseShape shape);
// The send paths' answers from JSON they wrote themselves (api/json_text.h), so that no
// nlohmann value is built per request. `infoJson` is the info object as successResponse would
// dump it; v1's email answer takes the id list's JSON, nullopt when the client asked for none.
http::Response successResponseText(std::string_view infoJson);
http::Response emailSuccessResponseV1(std::optional<std::string_view> emailIdListJson);

// 503 with Retry-After: 1, for a store that is busy or down. The send APIs say that nothing was
// accepted (store.unavailable); the console that its request did not happen
// (console.store_unavailable). Both are safe to retry.
enum class StoreCaller { SendApi, Console };
ApiError storeUnavailable(StoreCaller caller = StoreCaller::SendApi);

// The fixed human message for a status ("Authentication failed, please check API credentials").
std::string_view statusMessage(int status);

}  // namespace sc::api
