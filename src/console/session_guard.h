#pragma once
// SessionGuard: who is asking, for every console request after the login: the session cookie
// names a live session (else 401 console.session_required), and a state-changing request
// carries that session's CSRF token (else 403 console.csrf_failed). The management API and the
// pages ask it the same question; nothing else reads the cookie.

#include "api/api_error.h"
#include "common/clock.h"
#include "common/result.h"
#include "http/request.h"
#include "store/credential_store.h"  // SessionStore
#include "store/records.h"

namespace sc::console {

class SessionGuard {
public:
    SessionGuard(const Clock& clock, store::SessionStore& sessions)
        : clock_(clock), sessions_(sessions) {}

    // One store read. An expired session is deleted on the way (housekeeping).
    Result<store::Session, api::ApiError> authenticate(const http::Request& req) const;

private:
    const Clock& clock_;
    store::SessionStore& sessions_;
};

}  // namespace sc::console
