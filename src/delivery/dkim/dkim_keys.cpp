#include "delivery/dkim/dkim_keys.h"

#include <memory>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

namespace sc::delivery::dkim {

namespace {

struct PkeyFree {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct BioFree {
    void operator()(BIO* b) const { BIO_free(b); }
};

}  // namespace

std::string base64(std::string_view bytes) {
    // EVP_EncodeBlock writes a NUL after the text: one byte more than the text itself.
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                        reinterpret_cast<const unsigned char*>(bytes.data()),
                                        static_cast<int>(bytes.size()));
    out.resize(written > 0 ? static_cast<size_t>(written) : 0);
    return out;
}

std::string_view algorithmName(DkimAlgorithm a) {
    return a == DkimAlgorithm::Ed25519 ? "ed25519" : "rsa";
}

std::optional<DkimAlgorithm> parseAlgorithm(std::string_view text) {
    if (text == "rsa") return DkimAlgorithm::Rsa;
    if (text == "ed25519") return DkimAlgorithm::Ed25519;
    return std::nullopt;
}

Result<GeneratedKey, std::string> generateKey(DkimAlgorithm algorithm) {
    std::unique_ptr<EVP_PKEY, PkeyFree> key(
        algorithm == DkimAlgorithm::Rsa
            ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048))
            : EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    if (!key) return fail(std::string("OpenSSL could not generate the key"));

    GeneratedKey out;
    std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PKCS8PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr,
                                              nullptr) != 1) {
        return fail(std::string("OpenSSL could not write the private key"));
    }
    char* pem = nullptr;
    long pemLength = BIO_get_mem_data(bio.get(), &pem);
    out.privatePem.assign(pem, static_cast<size_t>(pemLength));

    if (algorithm == DkimAlgorithm::Rsa) {
        unsigned char* der = nullptr;
        int n = i2d_PUBKEY(key.get(), &der);
        if (n <= 0) return fail(std::string("OpenSSL could not write the public key"));
        out.publicKeyBase64 =
            base64(std::string_view(reinterpret_cast<const char*>(der), static_cast<size_t>(n)));
        OPENSSL_free(der);
    } else {
        // RFC 8463 3: p= is the base64 of the raw 32-byte public key, not a SubjectPublicKeyInfo.
        unsigned char raw[32];
        size_t n = sizeof raw;
        if (EVP_PKEY_get_raw_public_key(key.get(), raw, &n) != 1 || n != sizeof raw) {
            return fail(std::string("OpenSSL could not write the public key"));
        }
        out.publicKeyBase64 = base64(std::string_view(reinterpret_cast<const char*>(raw), n));
    }
    return out;
}

std::string dnsRecordName(std::string_view selector, std::string_view domain) {
    std::string out(selector);
    out += "._domainkey.";
    out += domain;
    return out;
}

std::string dnsTxtValue(DkimAlgorithm algorithm, std::string_view publicKeyBase64) {
    std::string out = "v=DKIM1; k=";
    out += algorithmName(algorithm);
    out += "; p=";
    out += publicKeyBase64;
    return out;
}

std::string zoneFileStrings(std::string_view txt) {
    std::string out;
    for (size_t i = 0; i < txt.size() || i == 0; i += 255) {
        if (!out.empty()) out += ' ';
        out += '"';
        out += txt.substr(i, 255);
        out += '"';
        if (txt.empty()) break;
    }
    return out;
}

bool isValidSelector(std::string_view selector) {
    if (selector.empty() || selector.size() > 200) return false;
    size_t label = 0;
    for (size_t i = 0; i < selector.size(); ++i) {
        char c = selector[i];
        if (c == '.') {
            if (label == 0 || selector[i - 1] == '-') return false;
            label = 0;
            continue;
        }
        bool ok =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
        if (!ok || (c == '-' && label == 0) || ++label > 63) return false;
    }
    return label > 0 && selector.back() != '-';
}

}  // namespace sc::delivery::dkim
