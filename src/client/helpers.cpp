// The client's pure parts: backoff, Retry-After, which statuses retry, the SMS signature, hex
// digests and the log's masking. Tested without a server (tests/unit/client/).

#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "sendcloud/sendcloud.h"

namespace sendcloud {

Error::Error(int httpStatus, std::string errorCode, std::string hint, bool retryable, int attempts)
    : std::runtime_error(errorCode + (hint.empty() ? "" : ": " + hint)),
      httpStatus_(httpStatus),
      errorCode_(std::move(errorCode)),
      hint_(std::move(hint)),
      retryable_(retryable),
      attempts_(attempts) {}

std::chrono::milliseconds backoffDelay(const RetryPolicy& policy, int retry, double random01,
                                       std::chrono::milliseconds retryAfter) {
    const double cap = static_cast<double>(policy.maxDelay.count());
    const double ceiling =
        std::min(cap, static_cast<double>(policy.baseDelay.count()) *
                          std::pow(2.0, static_cast<double>(std::clamp(retry, 0, 30))));
    const double r = std::clamp(random01, 0.0, 1.0);
    auto jittered = std::chrono::milliseconds(static_cast<int64_t>(ceiling * r));
    return std::max(jittered, retryAfter);
}

std::optional<std::chrono::milliseconds> parseRetryAfter(const std::string& value) {
    if (value.empty() || value.size() > 9) return std::nullopt;
    int64_t seconds = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc() || end != value.data() + value.size() || seconds < 0) {
        return std::nullopt;
    }
    return std::chrono::milliseconds(seconds * 1000);
}

bool retryableStatus(int httpStatus) {
    return httpStatus == 429 || httpStatus >= 500;
}

std::string smsSignature(const std::string& smsKey,
                         const std::vector<std::pair<std::string, std::string>>& params,
                         SignatureAlgorithm algorithm) {
    std::vector<std::pair<std::string, std::string>> items;
    for (const auto& p : params) {
        if (p.first != "smsKey" && p.first != "signature") items.push_back(p);
    }
    std::sort(items.begin(), items.end());
    std::string text = smsKey;
    for (const auto& [k, v] : items) text += "&" + k + "=" + v;
    text += "&" + smsKey;
    const EVP_MD* md = algorithm == SignatureAlgorithm::Md5 ? EVP_md5() : EVP_sha256();
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(text.data(), text.size(), digest, &len, md, nullptr);
    OPENSSL_cleanse(text.data(), text.size());
    return hexOf(digest, len);
}

std::string hexOf(const unsigned char* bytes, size_t size) {
    static const char* hex = "0123456789abcdef";
    std::string out;
    out.reserve(2 * size);
    for (size_t i = 0; i < size; ++i) {
        out += hex[bytes[i] >> 4];
        out += hex[bytes[i] & 15];
    }
    return out;
}

std::string sha256Hex(const std::string& data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
    return hexOf(digest, len);
}

std::string maskedParams(const std::vector<HttpPart>& params) {
    std::string out;
    for (const auto& p : params) {
        std::string lower = p.name;
        std::transform(lower.begin(), lower.end(), lower.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        const bool secret = lower.find("key") != std::string::npos ||
                            lower.find("signature") != std::string::npos ||
                            lower.find("password") != std::string::npos ||
                            lower.find("secret") != std::string::npos ||
                            lower.find("token") != std::string::npos;
        if (!out.empty()) out += '&';
        out += p.name + '=';
        if (secret) {
            out += "***";
        } else if (!p.filename.empty()) {
            out += "@" + p.filename + " (" + std::to_string(p.value.size()) + " bytes)";
        } else if (p.value.size() > 200) {
            out += p.value.substr(0, 200) + "...(" + std::to_string(p.value.size()) + " bytes)";
        } else {
            out += p.value;
        }
    }
    return out;
}

}  // namespace sendcloud
