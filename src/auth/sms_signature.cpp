#include "auth/sms_signature.h"

#include <openssl/evp.h>

#include <algorithm>

namespace sc::auth {

std::optional<SignatureAlgorithm> signatureAlgorithmFor(std::string_view signature) {
    if (signature.size() == 32) return SignatureAlgorithm::Md5;
    if (signature.size() == 64) return SignatureAlgorithm::Sha256;
    return std::nullopt;
}

std::string computeSmsSignature(std::string_view key,
                                std::vector<std::pair<std::string, std::string>> params,
                                SignatureAlgorithm algorithm) {
    std::erase_if(params,
                  [](const auto& p) { return p.first == "smsKey" || p.first == "signature"; });
    std::stable_sort(params.begin(), params.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string text(key);
    text += '&';
    for (size_t i = 0; i < params.size(); ++i) {
        if (i) text += '&';
        text += params[i].first;
        text += '=';
        text += params[i].second;
    }
    text += '&';
    text += key;

    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    const EVP_MD* md = algorithm == SignatureAlgorithm::Md5 ? EVP_md5() : EVP_sha256();
    EVP_Digest(text.data(), text.size(), digest, &len, md, nullptr);
    std::fill(text.begin(), text.end(), '\0');  // it holds the key twice

    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(len * 2);
    for (unsigned int i = 0; i < len; ++i) {
        out.push_back(kHex[digest[i] >> 4]);
        out.push_back(kHex[digest[i] & 15]);
    }
    return out;
}

std::optional<int64_t> timestampMillis(std::string_view timestamp) {
    if (timestamp.empty() || timestamp.size() > 16) return std::nullopt;
    int64_t v = 0;
    for (char c : timestamp) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + (c - '0');
    }
    // Seconds until the year 5138; milliseconds from 2001 on.
    return v >= 100000000000 ? v : v * 1000;
}

}  // namespace sc::auth
