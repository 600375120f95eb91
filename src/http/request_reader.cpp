#include "http/request_reader.h"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/rfc7230.hpp>

namespace sc::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

std::string_view toStd(beast::string_view v) {
    return {v.data(), v.size()};
}

std::string_view trimOws(std::string_view v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    return v;
}

}  // namespace

Method methodOf(bhttp::verb v) {
    switch (v) {
        case bhttp::verb::get:
            return Method::Get;
        case bhttp::verb::head:
            return Method::Head;
        case bhttp::verb::post:
            return Method::Post;
        case bhttp::verb::put:
            return Method::Put;
        case bhttp::verb::delete_:
            return Method::Delete;
        case bhttp::verb::patch:
            return Method::Patch;
        case bhttp::verb::options:
            return Method::Options;
        default:
            return Method::Other;
    }
}

bool RequestReader::clientKeepAlive() const {
    const bool hasConnection = connectionField_ != kNone;
    if (version_ < 11) {
        return hasConnection &&
               bhttp::token_list{req_.headers[connectionField_].value}.exists("keep-alive");
    }
    return !hasConnection ||
           !bhttp::token_list{req_.headers[connectionField_].value}.exists("close");
}

void RequestReader::countHeaderBytes(size_t bytes, beast::error_code& ec) {
    headerBytes_ += bytes;
    if (headerBytes_ > headerLimit_) ec = bhttp::error::header_limit;
}

void RequestReader::on_request_impl(bhttp::verb method, beast::string_view methodString,
                                    beast::string_view target, int version, beast::error_code& ec) {
    // method SP target SP HTTP/1.x CRLF
    countHeaderBytes(methodString.size() + target.size() + 12, ec);
    if (ec) return;
    req_.method = methodOf(method);
    if (req_.method == Method::Other) otherMethod_.assign(toStd(methodString));
    std::string_view t = toStd(target);
    req_.target.assign(t);
    auto q = t.find('?');
    req_.path.assign(t.substr(0, q));
    if (q == std::string_view::npos) {
        req_.query.clear();
    } else {
        req_.query.assign(t.substr(q + 1));
    }
    version_ = static_cast<unsigned>(version);
}

void RequestReader::on_response_impl(int, beast::string_view, int, beast::error_code&) {}

void RequestReader::on_field_impl(bhttp::field name, beast::string_view nameString,
                                  beast::string_view value, beast::error_code& ec) {
    // name ":" value CRLF
    countHeaderBytes(nameString.size() + value.size() + 3, ec);
    if (ec) return;
    if (fields_ == req_.headers.size()) req_.headers.emplace_back();
    Header& h = req_.headers[fields_];
    h.name.assign(toStd(nameString));
    for (auto& ch : h.name) {
        if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch + ('a' - 'A'));
    }
    h.value.assign(trimOws(toStd(value)));
    if (name == bhttp::field::expect && !sawExpect_) {
        sawExpect_ = true;
        expectsContinue_ = beast::iequals(h.value, "100-continue");
    } else if (name == bhttp::field::connection && connectionField_ == kNone) {
        connectionField_ = fields_;
    }
    ++fields_;
}

void RequestReader::on_header_impl(beast::error_code&) {
    req_.headers.resize(fields_);
}

void RequestReader::on_body_init_impl(const boost::optional<std::uint64_t>& contentLength,
                                      beast::error_code&) {
    // The session refused a declared length over the body limit before reading on.
    if (contentLength) req_.body.reserve(static_cast<size_t>(*contentLength));
}

size_t RequestReader::on_body_impl(beast::string_view body, beast::error_code&) {
    req_.body.append(body.data(), body.size());
    return body.size();
}

void RequestReader::on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) {}

size_t RequestReader::on_chunk_body_impl(std::uint64_t, beast::string_view body,
                                         beast::error_code&) {
    req_.body.append(body.data(), body.size());
    return body.size();
}

void RequestReader::on_finish_impl(beast::error_code&) {}

}  // namespace sc::http
