#pragma once
// Our own HTTP request and response types. Handlers see these, never Beast's, so they can be
// tested without sockets and Beast stays inside src/http/server*.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sc::http {

enum class Method { Get, Head, Post, Put, Delete, Patch, Options, Other };

struct Header {
    std::string name;  // lower-case
    std::string value;
};

struct Request {
    Method method = Method::Get;
    std::string target;  // as received: path plus query string
    std::string path;    // target up to '?', not decoded
    std::string query;   // after '?', not decoded
    std::vector<Header> headers;
    std::string body;
    // The client's address: the socket peer's, or, from a trusted proxy, the one its
    // X-Forwarded-For names (src/http/forwarded.h). Lockout, allowlists and logs use this.
    std::string clientIp;
    // Came over TLS: our TLS listener, or a trusted proxy that said X-Forwarded-Proto: https.
    // Console cookies get Secure and console answers HSTS.
    bool secure = false;

    // Case-insensitive lookup of the first header with this name.
    std::optional<std::string_view> header(std::string_view name) const;
};

struct Response {
    int status = 200;
    std::string contentType = "application/json; charset=utf-8";
    std::string body;
    std::vector<Header> headers;  // extra headers (Retry-After, Sunset, ...)
    bool closeConnection = false;
    // Close the connection without writing this response (test controls only: a lost answer).
    bool dropConnection = false;
    // Who the request authenticated as, for the access log; empty when none.
    std::string logUser;
};

std::string_view methodName(Method m);

}  // namespace sc::http
