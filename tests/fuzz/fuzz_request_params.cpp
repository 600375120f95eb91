// Fuzzes parseRequestParams end to end. Input: one selector byte choosing the Content-Type, then
// the query string up to the first '\n', then (for the raw selectors) a Content-Type line, then
// the body.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "http/request.h"
#include "http/request_params.h"

namespace {

void check(bool condition) {
    if (!condition) std::abort();
}

std::string_view takeLine(std::string_view& in) {
    size_t nl = in.find('\n');
    std::string_view line = in.substr(0, nl);
    in = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
    return line;
}

constexpr std::array<std::string_view, 6> kTypes = {
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=UTF-8",
    "multipart/form-data; boundary=XyZ",
    "MULTIPART/Form-Data; charset=utf-8; boundary=\"XyZ\"",
    "text/plain",
    "",
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
    const unsigned selector = data[0] % 8;

    sc::http::Request req;
    req.method = sc::http::Method::Post;
    req.query = std::string(takeLine(in));
    req.path = "/email/send";
    req.target = req.path + "?" + req.query;
    std::optional<std::string> contentType;
    if (selector < kTypes.size()) {
        contentType = std::string(kTypes[selector]);
    } else if (selector == kTypes.size()) {
        contentType = std::string(takeLine(in));
    }  // the last selector sends no Content-Type at all
    if (contentType) req.headers.push_back({"content-type", *contentType});
    req.body = std::string(in);

    sc::http::ParseLimits limits;
    limits.maxParams = 32;
    limits.maxParts = 8;
    limits.maxPartHeaderBytes = 256;
    limits.maxFileBytes = 1024;
    auto r = sc::http::parseRequestParams(req, limits);
    if (!r) {
        const auto& e = r.error();
        check(e.status == 400 || e.status == 413 || e.status == 415);
        check(!e.code.empty() && !e.message.empty());
        check((e.status == 415) == (e.code == "request.unsupported_media_type"));
        return 0;
    }
    check(r->params.size() <= limits.maxParams);
    if (!contentType) check(req.body.empty());
    check(!contentType || !contentType->empty());  // an empty type is never accepted
    return 0;
}
