#pragma once
// ApiError and the response envelope of DESIGN §1.4. Handlers return ApiError values; this file
// alone turns them (and successes) into JSON bodies, so every response has the same shape.

#include <string>
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

http::Response errorResponse(const ApiError& error);
http::Response successResponse(nlohmann::json info);

// The fixed human message for a status ("Authentication failed, please check API credentials").
std::string_view statusMessage(int status);

}  // namespace sc::api
