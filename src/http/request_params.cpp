#include "http/request_params.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <functional>
#include <optional>
#include <string_view>
#include <utility>

namespace sc::http {
namespace {

constexpr std::string_view kFormUrlEncoded = "application/x-www-form-urlencoded";
constexpr std::string_view kMultipartFormData = "multipart/form-data";
constexpr std::string_view kAcceptedTypes =
    "application/x-www-form-urlencoded, multipart/form-data";
constexpr std::string_view kDefaultFileType = "application/octet-stream";
constexpr size_t kMaxBoundaryBytes = 70;  // RFC 2046 §5.1.1

// Hex digit values by byte, -1 for a byte that is not one: a load instead of three range tests
// for every escape of every parameter.
constexpr std::array<signed char, 256> kHexValues = [] {
    std::array<signed char, 256> t{};
    for (auto& v : t) v = -1;
    for (int c = '0'; c <= '9'; ++c) t[c] = static_cast<signed char>(c - '0');
    for (int c = 'a'; c <= 'f'; ++c) t[c] = static_cast<signed char>(c - 'a' + 10);
    for (int c = 'A'; c <= 'F'; ++c) t[c] = static_cast<signed char>(c - 'A' + 10);
    return t;
}();

int hexValue(char c) {
    return kHexValues[static_cast<unsigned char>(c)];
}

// Decodes `in` into `out`, replacing what it held; on a malformed escape returns its offset.
// Most names and many values have nothing to decode: they are copied in one piece, and the rest
// is written through a pointer into a buffer sized once (decoding never lengthens the text).
std::optional<size_t> decodeInto(std::string_view in, bool plusIsSpace, std::string& out) {
    const char* p = in.data();
    const size_t n = in.size();
    size_t first = 0;
    while (first < n && p[first] != '%' && !(plusIsSpace && p[first] == '+')) ++first;
    if (first == n) {
        out.assign(in);
        return std::nullopt;
    }
    out.resize(n);
    char* w = out.data();
    std::memcpy(w, p, first);
    w += first;
    for (size_t i = first; i < n; ++i) {
        const char c = p[i];
        if (c == '%') {
            const int hi = i + 2 < n ? hexValue(p[i + 1]) : -1;
            const int lo = hi >= 0 ? hexValue(p[i + 2]) : -1;
            if (lo < 0) return i;
            *w++ = static_cast<char>(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plusIsSpace) {
            *w++ = ' ';
        } else {
            *w++ = c;
        }
    }
    out.resize(static_cast<size_t>(w - out.data()));
    return std::nullopt;
}

bool isBlank(char c) {
    return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && isBlank(s.front())) s.remove_prefix(1);
    while (!s.empty() && isBlank(s.back())) s.remove_suffix(1);
    return s;
}

char asciiLower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string asciiLowerCopy(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), asciiLower);
    return out;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return asciiLower(x) == asciiLower(y);
           });
}

ParseError makeError(int status, std::string code, std::string param, std::string message) {
    return ParseError{status, std::move(code), std::move(param), std::move(message)};
}

// Names are not secrets, but they are attacker-sized: keep what goes into an error bounded.
std::string boundedName(std::string_view name, const ParseLimits& limits) {
    return std::string(name.substr(0, limits.maxParamNameBytes));
}

ParseError tooManyParams(const ParseLimits& limits) {
    return makeError(400, "request.too_many_params", "",
                     "more than " + std::to_string(limits.maxParams) + " parameters");
}

ParseError nameTooLong(std::string_view name, const ParseLimits& limits) {
    return makeError(
        400, "param.name_too_long", boundedName(name, limits),
        "a parameter name is longer than " + std::to_string(limits.maxParamNameBytes) + " bytes");
}

ParseError multipartMalformed(std::string message, std::string param = {}) {
    return makeError(400, "multipart.malformed", std::move(param), std::move(message));
}

// `; name=value` pairs after a header's main value (Content-Type, Content-Disposition). Values
// are tokens or quoted-strings; names come back lower-cased. A parameter given twice is refused
// rather than picking one, so that no other parser in front of us can read a different name.
using HeaderParams = std::vector<std::pair<std::string, std::string>>;

std::optional<HeaderParams> parseHeaderParams(std::string_view s) {
    HeaderParams params;
    size_t i = 0;
    auto skipBlanks = [&] {
        while (i < s.size() && isBlank(s[i])) ++i;
    };
    for (;;) {
        skipBlanks();
        if (i == s.size()) break;
        if (s[i] != ';') return std::nullopt;
        ++i;
        skipBlanks();
        if (i == s.size()) break;  // a trailing ';' is common and harmless
        size_t nameStart = i;
        while (i < s.size() && s[i] != '=' && s[i] != ';' && !isBlank(s[i])) ++i;
        std::string name = asciiLowerCopy(s.substr(nameStart, i - nameStart));
        skipBlanks();
        if (name.empty() || i == s.size() || s[i] != '=') return std::nullopt;
        ++i;
        skipBlanks();
        std::string value;
        if (i < s.size() && s[i] == '"') {
            ++i;
            bool closed = false;
            while (i < s.size()) {
                char c = s[i++];
                if (c == '"') {
                    closed = true;
                    break;
                }
                // Browsers send Windows paths with bare backslashes (filename="C:\dir\a.txt")
                // and never escape anything else, so only \" and \\ are taken as escapes.
                if (c == '\\' && i < s.size() && (s[i] == '"' || s[i] == '\\')) c = s[i++];
                value.push_back(c);
            }
            if (!closed) return std::nullopt;
        } else {
            size_t valueStart = i;
            while (i < s.size() && s[i] != ';' && !isBlank(s[i])) ++i;
            value.assign(s.substr(valueStart, i - valueStart));
        }
        for (const auto& p : params) {
            if (p.first == name) return std::nullopt;
        }
        params.emplace_back(std::move(name), std::move(value));
    }
    return params;
}

const std::string* findParam(const HeaderParams& params, std::string_view name) {
    for (const auto& p : params) {
        if (p.first == name) return &p.second;
    }
    return nullptr;
}

// RFC 5987 ext-value: charset'language'percent-encoded.
std::optional<std::string> decodeExtValue(std::string_view v) {
    size_t q1 = v.find('\'');
    if (q1 == std::string_view::npos) return std::nullopt;
    size_t q2 = v.find('\'', q1 + 1);
    if (q2 == std::string_view::npos) return std::nullopt;
    std::string_view charset = v.substr(0, q1);
    if (!iequals(charset, "utf-8") && !iequals(charset, "us-ascii")) return std::nullopt;
    auto decoded = percentDecode(v.substr(q2 + 1), false);
    if (!decoded) return std::nullopt;
    return std::move(decoded).value();
}

struct PartHeader {
    std::string_view name;
    std::string value;
};

class MultipartParser {
public:
    MultipartParser(std::string_view body, std::string_view boundary, const ParseLimits& limits,
                    FormData& out)
        : body_(body),
          limits_(limits),
          out_(out),
          lineDelimiter_("\n--" + std::string(boundary)),
          searcher_(lineDelimiter_.data(), lineDelimiter_.data() + lineDelimiter_.size()) {}

    MultipartParser(const MultipartParser&) = delete;
    MultipartParser& operator=(const MultipartParser&) = delete;

    Result<Ok, ParseError> run() {
        std::optional<Delimiter> delim = classify(0);
        if (!delim) delim = nextDelimiter(0);
        if (!delim) return fail(multipartMalformed("no multipart boundary delimiter found"));
        size_t parts = 0;
        while (!delim->close) {
            if (++parts > limits_.maxParts) {
                return fail(makeError(
                    400, "multipart.too_many_parts", "",
                    "more than " + std::to_string(limits_.maxParts) + " multipart parts"));
            }
            std::vector<PartHeader> headers;
            auto bodyStart = readHeaders(delim->next, headers);
            if (!bodyStart) return fail(std::move(bodyStart).error());
            // Start at the blank line's own '\n': for an empty body it is also the line break
            // that opens the next delimiter.
            std::optional<Delimiter> next = nextDelimiter(*bodyStart - 1);
            if (!next) {
                return fail(multipartMalformed("multipart body has no final boundary delimiter"));
            }
            size_t bodyEnd = std::max(next->bodyEnd, *bodyStart);
            auto added = addPart(headers, body_.substr(*bodyStart, bodyEnd - *bodyStart));
            if (!added) return added;
            delim = next;
        }
        return Ok{};
    }

private:
    struct Delimiter {
        size_t bodyEnd;  // where the content before the delimiter line ends (its CRLF excluded)
        size_t next;     // first byte after the delimiter line
        bool close;      // "--boundary--": the rest is epilogue
    };

    // Checks for a delimiter line whose "--boundary" starts at `at`. A line that merely starts
    // with the boundary ("--boundaryX") is content, as RFC 2046 §5.1.1 intends.
    std::optional<Delimiter> classify(size_t at) const {
        std::string_view dashBoundary = std::string_view(lineDelimiter_).substr(1);
        if (body_.substr(at, dashBoundary.size()) != dashBoundary) return std::nullopt;
        size_t i = at + dashBoundary.size();
        size_t bodyEnd = at;
        if (at > 0 && body_[at - 1] == '\n') {
            bodyEnd = at - 1;
            if (bodyEnd > 0 && body_[bodyEnd - 1] == '\r') --bodyEnd;
        }
        if (body_.substr(i, 2) == "--") return Delimiter{bodyEnd, body_.size(), true};
        while (i < body_.size() && isBlank(body_[i])) ++i;  // transport padding
        if (body_.substr(i, 2) == "\r\n") return Delimiter{bodyEnd, i + 2, false};
        if (body_.substr(i, 1) == "\n") return Delimiter{bodyEnd, i + 1, false};
        return std::nullopt;
    }

    // The first delimiter at a line start whose line break is at or after `from`. Each search
    // resumes past the previous candidate, so the whole body is scanned once.
    std::optional<Delimiter> nextDelimiter(size_t from) const {
        const char* end = body_.data() + body_.size();
        while (from < body_.size()) {
            const char* hit = searcher_(body_.data() + from, end).first;
            if (hit == end) return std::nullopt;
            size_t lineBreak = static_cast<size_t>(hit - body_.data());
            if (auto d = classify(lineBreak + 1)) return d;
            from = lineBreak + 1;
        }
        return std::nullopt;
    }

    // Reads the header block that starts at `pos`; returns the offset just after its blank line.
    Result<size_t, ParseError> readHeaders(size_t pos, std::vector<PartHeader>& headers) const {
        const size_t start = pos;
        // The blank line may add two bytes beyond the header block; nothing else is searched, so a
        // part without a blank line costs at most maxPartHeaderBytes of scanning.
        const size_t windowEnd = std::min(body_.size(), start + limits_.maxPartHeaderBytes + 2);
        for (;;) {
            size_t nl = body_.substr(0, windowEnd).find('\n', pos);
            if (nl == std::string_view::npos) {
                if (windowEnd == body_.size()) {
                    return fail(multipartMalformed("multipart part headers are not terminated"));
                }
                return fail(multipartMalformed("multipart part header block is too large"));
            }
            std::string_view line = body_.substr(pos, nl - pos);
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
            pos = nl + 1;
            if (line.empty()) return pos;
            if (pos - start > limits_.maxPartHeaderBytes) {
                return fail(multipartMalformed("multipart part header block is too large"));
            }
            if (isBlank(line.front())) {
                // Obsolete line folding (RFC 5322 §3.2.2): continue the previous header.
                if (headers.empty()) {
                    return fail(multipartMalformed("multipart part header starts with a blank"));
                }
                // Joined so that the value stays trimmed, as a one-line header would be.
                std::string_view more = trim(line);
                std::string& value = headers.back().value;
                if (!value.empty() && !more.empty()) value.push_back(' ');
                value.append(more);
                continue;
            }
            size_t colon = line.find(':');
            std::string_view name =
                colon == std::string_view::npos ? std::string_view() : trim(line.substr(0, colon));
            if (name.empty()) {
                return fail(multipartMalformed("multipart part header line is not 'Name: value'"));
            }
            headers.push_back(PartHeader{name, std::string(trim(line.substr(colon + 1)))});
        }
    }

    Result<Ok, ParseError> addPart(const std::vector<PartHeader>& headers, std::string_view data) {
        const PartHeader* disposition = nullptr;
        const PartHeader* contentType = nullptr;
        const PartHeader* encoding = nullptr;
        for (const auto& h : headers) {
            const PartHeader** slot = nullptr;
            if (iequals(h.name, "content-disposition")) slot = &disposition;
            if (iequals(h.name, "content-type")) slot = &contentType;
            if (iequals(h.name, "content-transfer-encoding")) slot = &encoding;
            if (slot == nullptr) continue;
            if (*slot != nullptr) {
                return fail(multipartMalformed("multipart part repeats the header " +
                                               asciiLowerCopy(h.name)));
            }
            *slot = &h;
        }
        if (disposition == nullptr) {
            return fail(multipartMalformed("multipart part has no Content-Disposition"));
        }
        std::string_view dv = disposition->value;
        size_t semi = dv.find(';');
        if (!iequals(trim(dv.substr(0, semi)), "form-data")) {
            return fail(multipartMalformed("multipart part is not Content-Disposition: form-data"));
        }
        auto params = parseHeaderParams(semi == std::string_view::npos ? "" : dv.substr(semi));
        if (!params) {
            return fail(multipartMalformed("multipart part has a malformed Content-Disposition"));
        }
        const std::string* name = findParam(*params, "name");
        if (name == nullptr || name->empty()) {
            return fail(multipartMalformed("multipart part has no name"));
        }
        if (name->size() > limits_.maxParamNameBytes) return fail(nameTooLong(*name, limits_));

        if (encoding != nullptr && !iequals(encoding->value, "binary") &&
            !iequals(encoding->value, "8bit") && !iequals(encoding->value, "7bit")) {
            return fail(makeError(400, "multipart.unsupported_transfer_encoding", *name,
                                  "multipart part \"" + *name +
                                      "\" uses a Content-Transfer-Encoding other than 7bit, "
                                      "8bit or binary"));
        }

        std::optional<std::string> filename;
        if (const std::string* ext = findParam(*params, "filename*")) {
            filename = decodeExtValue(*ext);
            if (!filename) {
                return fail(multipartMalformed(
                    "multipart part \"" + *name + "\" has a malformed or non-UTF-8 filename*",
                    *name));
            }
        } else if (const std::string* plain = findParam(*params, "filename")) {
            filename = *plain;
        }

        if (!filename) {
            if (out_.params.size() >= limits_.maxParams) return fail(tooManyParams(limits_));
            out_.params.add(*name, std::string(data));
            return Ok{};
        }
        // Checked before copying, so an oversized upload never costs its size in memory twice.
        if (data.size() > limits_.maxFileBytes - fileBytes_) {
            return fail(makeError(413, "request.too_large", *name,
                                  "uploaded files exceed " + std::to_string(limits_.maxFileBytes) +
                                      " bytes in total"));
        }
        fileBytes_ += data.size();
        std::string type = contentType != nullptr && !contentType->value.empty()
                               ? contentType->value
                               : std::string(kDefaultFileType);
        out_.files.push_back(
            UploadedFile{*name, std::move(*filename), std::move(type), std::string(data)});
        return Ok{};
    }

    std::string_view body_;
    const ParseLimits& limits_;
    FormData& out_;
    size_t fileBytes_ = 0;
    const std::string lineDelimiter_;  // "\n--boundary": delimiters only count at a line start
    // Full Boyer-Moore, not Horspool: Horspool degrades to O(n*m) on a body such as "aaaa..."
    // under boundary "aaaa..." (measured 440 ms for 16 MiB, against 24 ms here).
    const std::boyer_moore_searcher<const char*> searcher_;
};

}  // namespace

Result<std::string, std::string> percentDecode(std::string_view in, bool plusIsSpace) {
    std::string out;
    if (auto bad = decodeInto(in, plusIsSpace, out)) {
        return fail("malformed percent-escape at byte " + std::to_string(*bad));
    }
    return out;
}

Result<Ok, ParseError> parseUrlEncoded(std::string_view input, const ParseLimits& limits,
                                       ParamMap& out) {
    if (input.empty()) return Ok{};
    // One allocation for the parameter list instead of its doublings; bounded by maxParams, so
    // a body of bare '&' cannot make it reserve more than the limit allows anyway.
    const size_t pieces = static_cast<size_t>(std::count(input.begin(), input.end(), '&')) + 1;
    if (out.size() < limits.maxParams) {
        out.reserve(out.size() + std::min(pieces, limits.maxParams - out.size()));
    }
    size_t pos = 0;
    while (pos < input.size()) {
        size_t amp = std::min(input.find('&', pos), input.size());
        std::string_view piece = input.substr(pos, amp - pos);
        pos = amp + 1;
        if (piece.empty()) continue;
        if (out.size() >= limits.maxParams) return fail(tooManyParams(limits));

        size_t eq = piece.find('=');
        std::string_view rawName = piece.substr(0, eq);
        std::string_view rawValue =
            eq == std::string_view::npos ? std::string_view() : piece.substr(eq + 1);

        std::string name;
        if (decodeInto(rawName, true, name)) {
            std::string shown = boundedName(rawName, limits);
            return fail(makeError(400, "param.malformed_escape", shown,
                                  "parameter name \"" + shown + "\" has a malformed %-escape"));
        }
        if (name.empty()) {
            return fail(makeError(400, "param.malformed", "", "a parameter has an empty name"));
        }
        if (name.size() > limits.maxParamNameBytes) return fail(nameTooLong(name, limits));
        std::string value;
        if (decodeInto(rawValue, true, value)) {
            // The value may be a key or a password: the error names the parameter only.
            return fail(
                makeError(400, "param.malformed_escape", name,
                          "the value of parameter \"" + name + "\" has a malformed %-escape"));
        }
        out.add(std::move(name), std::move(value));
    }
    return Ok{};
}

Result<Ok, ParseError> parseMultipart(std::string_view body, std::string_view boundary,
                                      const ParseLimits& limits, FormData& out) {
    if (boundary.empty() || boundary.size() > kMaxBoundaryBytes) {
        return fail(multipartMalformed("multipart boundary must be 1 to 70 characters"));
    }
    MultipartParser parser(body, boundary, limits, out);
    return parser.run();
}

Result<FormData, ParseError> parseRequestParams(const Request& req, const ParseLimits& limits) {
    FormData form;
    if (auto q = parseUrlEncoded(req.query, limits, form.params); !q) {
        return fail(std::move(q).error());
    }

    const auto unsupported = [] {
        return makeError(415, "request.unsupported_media_type", "",
                         "unsupported request body type; send " + std::string(kAcceptedTypes));
    };
    std::optional<std::string_view> contentType = req.header("content-type");
    if (!contentType) {
        if (req.body.empty()) return form;
        return fail(unsupported());
    }
    std::string_view ct = *contentType;
    size_t semi = ct.find(';');
    const std::string_view mediaType = trim(ct.substr(0, semi));
    std::string_view paramText = semi == std::string_view::npos ? "" : ct.substr(semi);

    if (iequals(mediaType, kFormUrlEncoded)) {
        // Form bodies are bytes; any charset parameter is the client's business, not ours.
        if (auto b = parseUrlEncoded(req.body, limits, form.params); !b) {
            return fail(std::move(b).error());
        }
        return form;
    }
    if (!iequals(mediaType, kMultipartFormData)) return fail(unsupported());

    auto params = parseHeaderParams(paramText);
    if (!params) return fail(multipartMalformed("malformed multipart/form-data Content-Type"));
    const std::string* boundary = findParam(*params, "boundary");
    if (boundary == nullptr || boundary->empty() || boundary->size() > kMaxBoundaryBytes) {
        return fail(multipartMalformed(
            "multipart/form-data needs a boundary parameter of 1 to 70 characters"));
    }
    if (auto m = parseMultipart(req.body, *boundary, limits, form); !m) {
        return fail(std::move(m).error());
    }
    return form;
}

}  // namespace sc::http
