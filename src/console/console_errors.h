#pragma once
// The console's errors and response shapes, shared by its API rooms, its pages and SessionGuard:
// one spelling of each console.* code (docs/api.md §15.5), one way to read a JSON body.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/result.h"

#include "api/api_error.h"
#include "http/request.h"
#include "store/records.h"

namespace sc::console {

// An ApiError without headers.
api::ApiError err(int status, std::string code, std::string hint);
// 400 console.bad_request.
api::ApiError badRequest(std::string hint);
// 401 console.session_required.
api::ApiError sessionRequired(std::string hint);
// 503 console.store_unavailable for an outage, else 500 console.internal; the store's message
// goes to the log, never to the client.
api::ApiError storeFailure(const store::StoreError& e);

// POST, PUT, PATCH and DELETE: the methods that need a CSRF token and may carry a body.
bool isStateChanging(http::Method m);

// Every console API response carries Cache-Control: no-store (keys and account data).
http::Response noStore(http::Response r);
http::Response errorOut(const api::ApiError& e);
http::Response ok(nlohmann::json info);

bool isJsonContentType(std::string_view contentType);
// The body as a JSON object; an empty body is {} unless `required`. Requiring the JSON content
// type also keeps cross-site HTML forms (which cannot send it without a CORS preflight) out.
Result<nlohmann::json, api::ApiError> jsonBody(const http::Request& req, bool required);

}  // namespace sc::console
