#pragma once
// The console's errors, shared by its API rooms, its pages and SessionGuard: one spelling of each
// console.* code (docs/api.md §15.5).

#include <string>

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

}  // namespace sc::console
