#include "console/management_api.h"

#include <utility>

namespace sc::console {

ManagementApi::ManagementApi(ManagementDeps deps, ManagementOptions options)
    : guard_(deps.clock, deps.sessions),
      login_({.credentials = deps.credentials,
              .sessions = deps.sessions,
              .audit = deps.audit,
              .issuer = deps.issuer,
              .clock = deps.clock,
              .random = deps.random,
              .pool = deps.pool},
             {.sessionTtl = options.sessionTtl,
              .secureCookies = options.secureCookies,
              .lockout = options.lockout,
              .passwordLimits = options.passwordLimits},
             guard_),
      users_({.credentials = deps.credentials,
              .audit = deps.audit,
              .issuer = deps.issuer,
              .clock = deps.clock},
             options.smsRoutes, guard_),
      audit_(deps.audit, deps.clock,
             {.defaultEventsPerPage = options.defaultEventsPerPage,
              .maxEventsPerPage = options.maxEventsPerPage,
              .defaultUsageWindow = options.defaultUsageWindow},
             guard_),
      templates_(deps.templates, deps.clock, guard_),
      router_(routerError) {
    registerRoutes(router_);
}

Result<std::string, std::string> ManagementApi::hashPassword(std::string_view password,
                                                             const PasswordLimits& limits) {
    return console::hashPassword(password, limits);
}

void ManagementApi::registerRoutes(http::Router& router) {
    router.setErrorsUnder(std::string(kApiPrefix), routerError);
    login_.registerRoutes(router);
    users_.registerRoutes(router);
    audit_.registerRoutes(router);
    templates_.registerRoutes(router);
}

void ManagementApi::handle(const http::Request& req, http::Responder reply) const {
    router_.dispatch(req, std::move(reply));
}

}  // namespace sc::console
