// Fuzzes percentDecode and parseUrlEncoded. Beyond "no crash", it checks that a successful parse
// respects the limits and that re-encoding what was parsed gives the same parameters back.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/request_params.h"

namespace {

using sc::http::ParamMap;
using sc::http::ParseLimits;

void check(bool condition) {
    if (!condition) std::abort();
}

std::string encode(std::string_view s) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                          (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
        if (unreserved) {
            out.push_back(static_cast<char>(c));
        } else if (c == ' ') {
            out.push_back('+');
        } else {
            out.push_back('%');
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 15]);
        }
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);

    for (bool plus : {false, true}) {
        auto decoded = sc::http::percentDecode(input, plus);
        if (!decoded) continue;
        check(decoded->size() <= input.size());
        auto again = sc::http::percentDecode(encode(*decoded), true);
        check(again.ok() && *again == *decoded);
    }

    // Small limits so the fuzzer reaches every limit, not only the happy path.
    ParseLimits limits;
    limits.maxParams = 32;
    limits.maxParamNameBytes = 16;
    ParamMap params;
    auto r = sc::http::parseUrlEncoded(input, limits, params);
    if (!r) {
        const auto& e = r.error();
        check(e.status == 400);
        check(e.code == "param.malformed_escape" || e.code == "param.malformed" ||
              e.code == "param.name_too_long" || e.code == "request.too_many_params");
        check(e.param.size() <= limits.maxParamNameBytes);
        return 0;
    }
    check(params.size() <= limits.maxParams);
    std::string reencoded;
    for (const auto& p : params.items()) {
        check(!p.name.empty() && p.name.size() <= limits.maxParamNameBytes);
        reencoded += encode(p.name) + "=" + encode(p.value) + "&";
    }
    ParamMap reparsed;
    check(sc::http::parseUrlEncoded(reencoded, limits, reparsed).ok());
    check(reparsed.size() == params.size());
    for (size_t i = 0; i < params.size(); ++i) {
        check(reparsed.items()[i].name == params.items()[i].name);
        check(reparsed.items()[i].value == params.items()[i].value);
    }
    (void)params.firstConflict({"to"});
    return 0;
}
