#pragma once
// Pages: the web console's HTML pages and static assets, served by sendcloudd itself.
//
// Every file under src/console/assets/ is embedded into the binary at build time
// (embed_assets.cmake), so a running server needs no asset folder and cannot be made to serve a
// file from disk. Pages are the shared layout (layout.html) around one fragment each, composed
// once at start-up; the only per-request part is the server's current time, which the scripts
// use to show grace-period countdowns in the server's time rather than the browser's.
//
// The pages hold no data: their scripts call the console's API rooms (/console/api/...), which
// enforce the session and CSRF rules. Every response carries a strict Content-Security-Policy
// (no inline script or style, nothing from another host), X-Frame-Options: DENY and
// Referrer-Policy: no-referrer.

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "http/router.h"

namespace sc::console {

struct EmbeddedAsset {
    const char* name;  // path below src/console/assets/, e.g. "js/common.js"
    const unsigned char* data;
    std::size_t size;
};

class Pages {
public:
    explicit Pages(const Clock& clock);

    // Installs /console, /console/<page> for every page and /console/assets/*.
    void registerRoutes(http::Router& router);

    // Handlers, public for unit tests.
    http::Response page(std::string_view path) const;
    http::Response asset(std::string_view path) const;

    // The security headers every console response carries.
    static void addSecurityHeaders(http::Response& r);

private:
    const Clock& clock_;
    std::map<std::string, std::string, std::less<>> pages_;  // path → full HTML
};

}  // namespace sc::console
