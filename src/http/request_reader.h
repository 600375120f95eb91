#pragma once
// Reads one HTTP/1.1 request from Beast's parser straight into a session's http::Request. The
// Request is reused from request to request so that its strings keep their capacity: Beast's own
// request_parser would allocate every field and then be copied into our type. Header names come
// out lower-cased, values without surrounding spaces and tabs, the target split into path and
// query (neither decoded). Limits are the caller's: header_limit() and body_limit() of the base.

#include <boost/beast/http/basic_parser.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/request.h"

namespace sc::http {

// Beast's verb as our Method (Method::Other for the verbs we do not name).
Method methodOf(boost::beast::http::verb v);

class RequestReader final : public boost::beast::http::basic_parser<true> {
public:
    // Both outlive the reader; otherMethod holds the method's text when it is Method::Other.
    RequestReader(Request& req, std::string& otherMethod) : req_(req), otherMethod_(otherMethod) {}

    // Hides Beast's: its limit bounds only the bytes one put() has not consumed yet, and put()
    // consumes every complete field line, so a client whose reads each end just past a line
    // could send a header of any size. The reader also counts the bytes it keeps.
    void header_limit(std::uint32_t bytes) {
        basic_parser::header_limit(bytes);
        headerLimit_ = bytes;
    }

    unsigned version() const { return version_; }
    std::string_view methodText() const {
        return req_.method == Method::Other ? std::string_view(otherMethod_)
                                            : methodName(req_.method);
    }
    bool expectsContinue() const { return expectsContinue_; }
    // As Beast's message::keep_alive() reads it: from the first Connection field only.
    bool clientKeepAlive() const;

private:
    static constexpr size_t kNone = static_cast<size_t>(-1);

    // Counts a line of the header and fails the parse with error::header_limit past the limit.
    void countHeaderBytes(size_t bytes, boost::beast::error_code& ec);

    void on_request_impl(boost::beast::http::verb method, boost::beast::string_view methodString,
                         boost::beast::string_view target, int version,
                         boost::beast::error_code&) override;
    void on_response_impl(int, boost::beast::string_view, int, boost::beast::error_code&) override;
    void on_field_impl(boost::beast::http::field name, boost::beast::string_view nameString,
                       boost::beast::string_view value, boost::beast::error_code&) override;
    void on_header_impl(boost::beast::error_code&) override;
    void on_body_init_impl(const boost::optional<std::uint64_t>& contentLength,
                           boost::beast::error_code&) override;
    size_t on_body_impl(boost::beast::string_view body, boost::beast::error_code&) override;
    void on_chunk_header_impl(std::uint64_t, boost::beast::string_view,
                              boost::beast::error_code&) override;
    size_t on_chunk_body_impl(std::uint64_t, boost::beast::string_view body,
                              boost::beast::error_code&) override;
    void on_finish_impl(boost::beast::error_code&) override;

    Request& req_;
    std::string& otherMethod_;
    std::uint32_t headerLimit_ = 8192;  // Beast's default
    // The request line and each field's name and value with the least separators HTTP allows,
    // i.e. at most the bytes received: optional whitespace and folds are not counted, so a
    // header Beast accepts in one piece is never refused here.
    size_t headerBytes_ = 0;
    unsigned version_ = 11;
    size_t fields_ = 0;
    size_t connectionField_ = kNone;
    bool sawExpect_ = false;
    bool expectsContinue_ = false;
};

}  // namespace sc::http
