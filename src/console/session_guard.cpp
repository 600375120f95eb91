#include "console/session_guard.h"

#include <utility>

#include "console/console_errors.h"
#include "console/session_tokens.h"

namespace sc::console {

Result<store::Session, api::ApiError> SessionGuard::authenticate(const http::Request& req) const {
    auto token = findCookie(req, kSessionCookie);
    if (!token || !wellFormedToken(*token)) {
        return fail(sessionRequired("log in first: POST /console/api/login"));
    }
    const std::string hash = hashToken(*token);
    auto found = sessions_.findSession(hash);
    if (!found) return fail(storeFailure(found.error()));
    if (!found.value()) {
        return fail(sessionRequired("the session is unknown or ended; log in again"));
    }
    store::Session s = std::move(*found.value());
    if (s.expiresAtMs <= clock_.nowMillis()) {
        (void)sessions_.deleteSession(hash);  // housekeeping; the answer is the same
        return fail(sessionRequired("the session expired; log in again"));
    }
    if (isStateChanging(req.method)) {
        auto csrf = req.header("x-csrf-token");
        if (!csrf || csrf->empty()) {
            return fail(err(403, "console.csrf_failed",
                            "send the csrfToken from the login response in the X-CSRF-Token "
                            "header"));
        }
        if (!hashesEqual(hashToken(*csrf), s.csrfHash)) {
            return fail(err(403, "console.csrf_failed",
                            "the X-CSRF-Token header does not match this session's token"));
        }
    }
    return s;
}

}  // namespace sc::console
