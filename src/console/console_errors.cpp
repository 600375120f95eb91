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

}  // namespace sc::console
