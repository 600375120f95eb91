// Fuzzes parseMultipart. Input: the boundary on the first line, the body after it. Beyond "no
// crash", a successful parse must respect the limits, and the form written back out in canonical
// form must parse to the same fields and files.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/request_params.h"

namespace {

using sc::http::FormData;
using sc::http::ParseLimits;

void check(bool condition) {
    if (!condition) std::abort();
}

std::string quoted(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out.push_back('\\');
        out.push_back(c);
    }
    return out + "\"";
}

std::string extValue(std::string_view s) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out = "UTF-8''";
    for (unsigned char c : s) {
        out.push_back('%');
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
    }
    return out;
}

std::string serialize(const FormData& form, std::string_view boundary) {
    std::string b(boundary);
    std::string out;
    for (const auto& p : form.params.items()) {
        out += "--" + b + "\r\nContent-Disposition: form-data; name=" + quoted(p.name) +
               "\r\n\r\n" + p.value + "\r\n";
    }
    for (const auto& f : form.files) {
        out += "--" + b + "\r\nContent-Disposition: form-data; name=" + quoted(f.field) +
               "; filename*=" + extValue(f.filename) + "\r\nContent-Type: " + f.contentType +
               "\r\n\r\n" + f.data + "\r\n";
    }
    return out + "--" + b + "--\r\n";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    size_t nl = input.find('\n');
    std::string_view boundary = input.substr(0, nl);
    if (!boundary.empty() && boundary.back() == '\r') boundary.remove_suffix(1);
    std::string_view body = nl == std::string_view::npos ? "" : input.substr(nl + 1);

    ParseLimits limits;
    limits.maxParams = 32;
    limits.maxParamNameBytes = 64;
    limits.maxParts = 16;
    limits.maxPartHeaderBytes = 512;
    limits.maxFileBytes = 4096;
    FormData form;
    auto r = sc::http::parseMultipart(body, boundary, limits, form);
    if (!r) {
        const auto& e = r.error();
        check(e.status == 400 || (e.status == 413 && e.code == "request.too_large"));
        check(!e.code.empty() && !e.message.empty());
        check(e.param.size() <= limits.maxParamNameBytes);
        return 0;
    }
    check(form.params.size() <= limits.maxParams);
    check(form.params.size() + form.files.size() <= limits.maxParts);
    size_t fileBytes = 0;
    for (const auto& p : form.params.items()) {
        check(!p.name.empty() && p.name.size() <= limits.maxParamNameBytes);
    }
    for (const auto& f : form.files) {
        check(!f.field.empty() && f.field.size() <= limits.maxParamNameBytes);
        check(!f.contentType.empty());
        fileBytes += f.data.size();
    }
    check(fileBytes <= limits.maxFileBytes);

    // A boundary with line breaks in it can straddle the canonical CRLFs written below, so
    // the round trip is only meaningful without them.
    if (boundary.find_first_of("\r\n") != std::string_view::npos) return 0;
    ParseLimits roomy = limits;
    roomy.maxPartHeaderBytes = 1 << 20;  // escaping and the explicit Content-Type add bytes
    FormData again;
    check(sc::http::parseMultipart(serialize(form, boundary), boundary, roomy, again).ok());
    check(again.params.size() == form.params.size());
    for (size_t i = 0; i < form.params.size(); ++i) {
        check(again.params.items()[i].name == form.params.items()[i].name);
        check(again.params.items()[i].value == form.params.items()[i].value);
    }
    check(again.files.size() == form.files.size());
    for (size_t i = 0; i < form.files.size(); ++i) {
        check(again.files[i].field == form.files[i].field);
        check(again.files[i].filename == form.files[i].filename);
        check(again.files[i].contentType == form.files[i].contentType);
        check(again.files[i].data == form.files[i].data);
    }
    return 0;
}
