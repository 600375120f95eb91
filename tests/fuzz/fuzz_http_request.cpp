// Fuzzes RequestReader the way the server's session drives it: the header under the server's
// header limit, a declared length over the body limit refused before the body, then the body
// eagerly, and the next pipelined request from the same buffer for as long as each one completes
// and keeps the connection alive. The same bytes are read three times, arriving in one piece, in
// pieces of hashed sizes and line by line, as reads from a socket might. Beyond "no crash", every
// request read must respect the limits and the reader's promises (lower-case names, trimmed
// values, path and query rebuilding the target), and must agree with Beast's own
// request_parser reading the same bytes afresh — which also catches state left over in the
// reused Request from the request before.
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "http/request_reader.h"
#include "http/server.h"

namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using sc::http::Method;
using sc::http::methodOf;
using sc::http::Request;
using sc::http::RequestReader;

const size_t kHeaderLimit = sc::http::ServerLimits{}.maxHeaderBytes;
// Far below the server's 12 MiB so that inputs of a fuzzer's size reach it.
constexpr size_t kBodyLimit = 1024;
// Enough to go past the reuse of every string and header slot a few times.
constexpr int kMaxRequests = 16;

// Names the broken promise, so that a crash report says which one without a debugger.
#define CHECK(condition)                                                                 \
    do {                                                                                 \
        if (!(condition)) {                                                              \
            std::fprintf(stderr, "CHECK failed at line %d: %s\n", __LINE__, #condition); \
            std::abort();                                                                \
        }                                                                                \
    } while (false)

bool isOws(char c) {
    return c == ' ' || c == '\t';
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
    }
    return out;
}

std::string_view trimmed(std::string_view v) {
    while (!v.empty() && isOws(v.front())) v.remove_prefix(1);
    while (!v.empty() && isOws(v.back())) v.remove_suffix(1);
    return v;
}

std::string_view view(beast::string_view v) {
    return {v.data(), v.size()};
}

// How the bytes arrive, as reads from a socket would hand them over.
enum class Pieces {
    Whole,
    Random,  // 1..32 bytes each, sizes from a hash of the input
    // One line and one byte more each: Beast's parser then consumes every field line as it
    // completes, the case that once let a header past its limit.
    Lines,
};

class Feed {
public:
    Feed(std::string_view input, Pieces pieces) : input_(input), pieces_(pieces) {
        state_ = 1469598103934665603ULL;
        for (unsigned char c : input) state_ = (state_ ^ c) * 1099511628211ULL;
        state_ |= 1;
    }
    // Appends the next piece to `buffer`; false at the end of the stream.
    bool next(std::string& buffer) {
        if (pos_ == input_.size()) return false;
        size_t n = input_.size() - pos_;
        if (pieces_ == Pieces::Random) {
            state_ ^= state_ << 13;
            state_ ^= state_ >> 7;
            state_ ^= state_ << 17;
            n = std::min<size_t>(n, 1 + state_ % 32);
        } else if (pieces_ == Pieces::Lines) {
            // Up to the byte after the next line feed that is not the piece's first byte.
            const auto lf = input_.find('\n', pos_ + 1);
            if (lf != std::string_view::npos) n = std::min(n, lf - pos_ + 2);
        }
        buffer.append(input_.substr(pos_, n));
        pos_ += n;
        return true;
    }

private:
    std::string_view input_;
    Pieces pieces_;
    size_t pos_ = 0;
    uint64_t state_;
};

void checkInvariants(const Request& req, const RequestReader& reader) {
    for (const auto& h : req.headers) {
        CHECK(!h.name.empty());
        for (char c : h.name) CHECK(!(c >= 'A' && c <= 'Z'));
        CHECK(h.value.empty() || (!isOws(h.value.front()) && !isOws(h.value.back())));
    }
    const auto q = req.target.find('?');
    if (q == std::string::npos) {
        CHECK(req.path == req.target && req.query.empty());
    } else {
        CHECK(req.path.find('?') == std::string::npos);
        CHECK(req.path + '?' + req.query == req.target);
    }
    CHECK(req.body.size() <= kBodyLimit);
    // The header bytes the reader keeps, counted as it counts them, stay within the limit
    // however the header arrived.
    size_t kept = reader.methodText().size() + req.target.size() + 12;
    for (const auto& h : req.headers) kept += h.name.size() + h.value.size() + 3;
    CHECK(kept <= kHeaderLimit);
    CHECK(reader.version() == 10 || reader.version() == 11);
}

// Beast's request_parser, given exactly the bytes the reader consumed for this request, must read
// the same request from them.
void checkAgainstBeast(std::string_view message, const Request& req, const RequestReader& reader,
                       std::string_view otherMethod) {
    bhttp::request_parser<bhttp::string_body> ref;
    // The reader's limit counts the bytes it keeps, not the optional whitespace around values:
    // the same header in one piece may be over it.
    ref.header_limit(std::numeric_limits<std::uint32_t>::max());
    ref.body_limit(kBodyLimit);
    ref.eager(true);
    beast::error_code ec;
    const size_t used = ref.put(boost::asio::buffer(message.data(), message.size()), ec);
    CHECK(!ec && ref.is_done() && used == message.size());
    const auto& m = ref.get();
    CHECK(req.method == methodOf(m.method()));
    if (req.method == Method::Other) CHECK(otherMethod == view(m.method_string()));
    CHECK(reader.methodText() == view(m.method_string()));
    CHECK(req.target == view(m.target()));
    CHECK(reader.version() == m.version());
    // Beast files a repeated name after the last field of that name; ours keep arrival order.
    std::vector<const sc::http::Header*> grouped;
    for (const auto& h : req.headers) {
        auto at = grouped.end();
        for (auto it = grouped.begin(); it != grouped.end(); ++it) {
            if ((*it)->name == h.name) at = it + 1;
        }
        grouped.insert(at, &h);
    }
    size_t i = 0;
    bool sawExpect = false;
    bool expectsContinue = false;
    for (const auto& f : m) {
        CHECK(i < grouped.size());
        CHECK(grouped[i]->name == lower(view(f.name_string())));
        CHECK(grouped[i]->value == trimmed(view(f.value())));
        if (f.name() == bhttp::field::expect && !sawExpect) {
            sawExpect = true;
            expectsContinue = beast::iequals(f.value(), "100-continue");
        }
        ++i;
    }
    CHECK(i == req.headers.size());
    CHECK(reader.expectsContinue() == expectsContinue);
    CHECK(reader.clientKeepAlive() == m.keep_alive());
    CHECK(req.body == m.body());
}

// Reads requests the way Server::Impl::session does, until one fails, the stream ends or a request
// does not keep the connection alive.
void readConnection(std::string_view input, Pieces pieces) {
    Feed feed(input, pieces);
    std::string buffer;   // bytes received and not yet consumed
    size_t consumed = 0;  // offset in `input` of buffer's first byte
    Request req;
    std::string otherMethod;
    for (int n = 0; n < kMaxRequests; ++n) {
        RequestReader reader(req, otherMethod);
        reader.header_limit(static_cast<std::uint32_t>(kHeaderLimit));
        reader.body_limit(std::numeric_limits<std::uint64_t>::max());
        req.body.clear();
        const size_t start = consumed;
        beast::error_code ec;
        auto put = [&] {
            const size_t used = reader.put(boost::asio::buffer(buffer.data(), buffer.size()), ec);
            CHECK(used <= buffer.size());
            buffer.erase(0, used);
            consumed += used;
            return used;
        };
        // The header (async_read_header).
        while (!reader.is_header_done()) {
            if (buffer.empty() && !feed.next(buffer)) {
                if (reader.got_some()) reader.put_eof(ec);
                return;
            }
            put();
            if (ec == bhttp::error::need_more) {
                ec = {};
                if (!feed.next(buffer)) {
                    reader.put_eof(ec);
                    return;
                }
            } else if (ec) {
                // 431 only once the limit's worth of bytes has arrived.
                if (ec == bhttp::error::header_limit) {
                    CHECK(consumed - start + buffer.size() >= kHeaderLimit);
                }
                return;  // 400 or 431
            }
        }
        if (auto len = reader.content_length(); len && *len > kBodyLimit) return;  // 413
        reader.body_limit(kBodyLimit);
        // The body: first what came with the header, then whatever else arrives (async_read).
        if (!reader.is_done()) {
            reader.eager(true);
            for (;;) {
                if (buffer.empty() && !feed.next(buffer)) {
                    reader.put_eof(ec);
                    if (ec) return;
                    break;
                }
                const size_t used = put();
                if (ec == bhttp::error::need_more) {
                    ec = {};
                    if (reader.is_done()) break;
                    if (!feed.next(buffer)) {
                        reader.put_eof(ec);
                        if (ec) return;
                        break;
                    }
                    continue;
                } else if (ec) {
                    return;  // 413 or 400
                }
                if (reader.is_done()) break;
                // Neither progress nor a reason: the session's read would spin.
                CHECK(used > 0 || buffer.empty());
            }
        }
        CHECK(reader.is_done());
        checkInvariants(req, reader);
        checkAgainstBeast(input.substr(start, consumed - start), req, reader, otherMethod);
        if (!reader.clientKeepAlive()) return;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    readConnection(input, Pieces::Whole);
    readConnection(input, Pieces::Random);
    readConnection(input, Pieces::Lines);
    return 0;
}
