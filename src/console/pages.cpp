#include "console/pages.h"

#include <spdlog/spdlog.h>

#include <array>
#include <cstdlib>
#include <utility>

#include "console/str_cat.h"

namespace sc::console {

extern const EmbeddedAsset kEmbeddedAssets[];
extern const std::size_t kEmbeddedAssetCount;

namespace {

constexpr std::string_view kAssetPrefix = "/console/assets/";

// No inline script or style anywhere, nothing from another origin, no framing. connect-src
// 'self' keeps a script (should one ever be injected) from posting data elsewhere.
constexpr const char* kCsp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";

// A fragment's {{name}} and the plain text it stands for on one page: how two pages share one
// fragment (the user pages name their kind of user and key with it).
using PageParam = std::pair<std::string_view, std::string_view>;

struct PageDef {
    const char* path;
    const char* page;      // <body data-page="...">: what the page's script reads
    const char* fragment;  // assets/pages/<fragment>.html
    const char* script;    // assets/js/<script>.js
    const char* title;
    bool signedIn;  // shows the navigation (every page but login and logout)
    std::array<PageParam, 2> params{};
};

constexpr PageDef kPages[] = {
    {"/console/login", "login", "login", "login", "Log in", false},
    {"/console/logout", "logout", "logout", "logout", "Log out", false},
    // Both kinds of user share one fragment and one script; the script reads the kind from
    // <body data-page> and removes the other kind's parts (data-kind="email" | "sms").
    {"/console/email-users",
     "email-users",
     "users",
     "users",
     "API_USER Management",
     true,
     {{{"{{user}}", "API_USER"}, {"{{key}}", "API_KEY"}}}},
    {"/console/sms-users",
     "sms-users",
     "users",
     "users",
     "SMS Send Settings",
     true,
     {{{"{{user}}", "SMS_USER"}, {"{{key}}", "SMS_KEY"}}}},
    // Both kinds of template share one fragment and one script, as the users pages do.
    {"/console/email-templates",
     "email-templates",
     "templates",
     "templates",
     "Email Templates",
     true,
     {{{"{{Kind}}", "Email"}, {"{{kind}}", "email"}}}},
    {"/console/sms-templates",
     "sms-templates",
     "templates",
     "templates",
     "SMS Templates",
     true,
     {{{"{{Kind}}", "SMS"}, {"{{kind}}", "SMS"}}}},
    {"/console/usage", "usage", "usage", "usage", "Usage", true},
    {"/console/auth-events", "auth-events", "auth-events", "auth-events", "Authentication log",
     true},
    {"/console/messages", "messages", "messages", "messages", "Messages", true},
    {"/console/domains", "domains", "domains", "domains", "Domains", true},
};

const EmbeddedAsset* findAsset(std::string_view name) {
    for (std::size_t i = 0; i < kEmbeddedAssetCount; ++i) {
        if (name == kEmbeddedAssets[i].name) return &kEmbeddedAssets[i];
    }
    return nullptr;
}

std::string assetText(std::string_view name) {
    const EmbeddedAsset* a = findAsset(name);
    // The layout and the fragments are part of the build; a missing one is a build bug.
    if (!a) {
        spdlog::critical("console: asset {} is not embedded", name);
        std::abort();
    }
    return std::string(reinterpret_cast<const char*>(a->data), a->size);
}

void replaceAll(std::string& s, std::string_view from, std::string_view to) {
    for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
        s.replace(pos, from.size(), to);
    }
}

std::string_view contentTypeOf(std::string_view name) {
    auto ends = [&](std::string_view ext) {
        return name.size() >= ext.size() && name.substr(name.size() - ext.size()) == ext;
    };
    if (ends(".js")) return "text/javascript; charset=utf-8";
    if (ends(".css")) return "text/css; charset=utf-8";
    if (ends(".svg")) return "image/svg+xml";
    if (ends(".html")) return "text/html; charset=utf-8";
    if (ends(".png")) return "image/png";
    return "application/octet-stream";
}

http::Response notFoundPage() {
    http::Response r;
    r.status = 404;
    r.contentType = "text/plain; charset=utf-8";
    r.body = "Not found\n";
    Pages::addSecurityHeaders(r);
    r.headers.push_back({"cache-control", "no-store"});
    return r;
}

}  // namespace

Pages::Pages(const Clock& clock) : clock_(clock) {
    const std::string layout = assetText("layout.html");
    const std::string nav = assetText("nav.html");
    for (const auto& p : kPages) {
        std::string html = layout;
        replaceAll(html, "{{nav}}", p.signedIn ? nav : std::string());
        replaceAll(html, "{{main}}", assetText(strCat("pages/", p.fragment, ".html")));
        for (const auto& [name, text] : p.params) {
            if (!name.empty()) replaceAll(html, name, text);
        }
        replaceAll(html, "{{title}}", p.title);
        replaceAll(html, "{{page}}", p.page);
        replaceAll(html, "{{script}}", p.script);
        pages_.emplace(p.path, std::move(html));
    }
}

void Pages::addSecurityHeaders(http::Response& r) {
    r.headers.push_back({"content-security-policy", kCsp});
    r.headers.push_back({"x-frame-options", "DENY"});
    r.headers.push_back({"referrer-policy", "no-referrer"});
    r.headers.push_back({"x-content-type-options", "nosniff"});
    r.headers.push_back({"cross-origin-opener-policy", "same-origin"});
}

void Pages::registerRoutes(http::Router& router) {
    using M = http::Method;
    for (const auto& [path, html] : pages_) {
        router.add(
            {M::Get, M::Head}, path,
            [this, p = path](const http::Request&, http::Responder reply) { reply(page(p)); });
    }
    for (const char* root : {"/console", "/console/"}) {
        router.add({M::Get, M::Head}, root, [](const http::Request&, http::Responder reply) {
            http::Response r;
            r.status = 302;
            r.contentType = "text/plain; charset=utf-8";
            r.headers.push_back({"location", "/console/email-users"});
            Pages::addSecurityHeaders(r);
            reply(std::move(r));
        });
    }
    router.addPrefix(std::string(kAssetPrefix),
                     [this](const http::Request& req, http::Responder reply) {
                         if (req.method != M::Get && req.method != M::Head) {
                             reply(notFoundPage());
                             return;
                         }
                         reply(asset(req.path));
                     });
}

http::Response Pages::page(std::string_view path) const {
    auto it = pages_.find(path);
    if (it == pages_.end()) return notFoundPage();
    http::Response r;
    r.contentType = "text/html; charset=utf-8";
    r.body = it->second;
    // The server's time at rendering: the scripts measure countdowns against it, so that they
    // agree with the server (whose clock the tests move) rather than with the browser.
    replaceAll(r.body, "{{serverTime}}", std::to_string(clock_.nowMillis()));
    addSecurityHeaders(r);
    r.headers.push_back({"cache-control", "no-store"});
    return r;
}

http::Response Pages::asset(std::string_view path) const {
    if (path.substr(0, kAssetPrefix.size()) != kAssetPrefix) return notFoundPage();
    std::string_view name = path.substr(kAssetPrefix.size());
    // Only the compiled-in table is searched, so "..", "%2e" and friends simply find nothing;
    // the layout and page fragments are served as pages, not as files.
    if (name == "layout.html" || name == "nav.html" || name.substr(0, 6) == "pages/") {
        return notFoundPage();
    }
    const EmbeddedAsset* a = findAsset(name);
    if (!a) return notFoundPage();
    http::Response r;
    r.contentType = std::string(contentTypeOf(name));
    r.body.assign(reinterpret_cast<const char*>(a->data), a->size);
    addSecurityHeaders(r);
    // No build step means no hashed file names: make the browser revalidate so an upgrade
    // never runs a new page with an old script.
    r.headers.push_back({"cache-control", "no-cache"});
    return r;
}

}  // namespace sc::console
