#pragma once
// The status line and header block of our responses, written straight into a string: the same
// bytes Beast's serializer writes for the message the server used to build (Server, Content-Type,
// Cache-Control, the handler's headers with Beast's set() semantics, Connection, Content-Length),
// without building Beast's field list (an allocation per field) on every request.

#include <string>

#include "http/request.h"

namespace sc::http {

// Appends the head of `response` for an HTTP/1.`version % 10` client. Returns false (appending
// nothing) when the response is one this writer leaves to Beast: a version other than 1.0 or 1.1,
// a status that must not carry a body or is out of range, or a handler header that Beast itself
// manages (Connection, Content-Length, Transfer-Encoding).
bool appendResponseHead(std::string& out, const Response& response, unsigned version,
                        bool keepAlive);

}  // namespace sc::http
