#include "http/request.h"

#include <strings.h>

namespace sc::http {

std::optional<std::string_view> Request::header(std::string_view name) const {
    for (const auto& h : headers) {
        if (h.name.size() == name.size() &&
            strncasecmp(h.name.data(), name.data(), name.size()) == 0) {
            return std::string_view(h.value);
        }
    }
    return std::nullopt;
}

std::string_view methodName(Method m) {
    switch (m) {
        case Method::Get:
            return "GET";
        case Method::Head:
            return "HEAD";
        case Method::Post:
            return "POST";
        case Method::Put:
            return "PUT";
        case Method::Delete:
            return "DELETE";
        case Method::Patch:
            return "PATCH";
        case Method::Options:
            return "OPTIONS";
        case Method::Other:
            break;
    }
    return "OTHER";
}

}  // namespace sc::http
