#include "delivery/dkim/openssl_signer.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <strings.h>

#include <vector>

namespace sc::delivery::dkim {

struct OpenSslDkimSigner::ParsedKey {
    EVP_PKEY* pkey = nullptr;
    ~ParsedKey() { EVP_PKEY_free(pkey); }
};

namespace {

bool isWsp(char c) {
    return c == ' ' || c == '\t';
}

std::string sha256(std::string_view data) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
    return std::string(reinterpret_cast<char*>(md), len);
}

// The header fields of the message head, each without its final CRLF, in order.
std::vector<std::string_view> headerFields(std::string_view head) {
    std::vector<std::string_view> fields;
    size_t start = 0;
    while (start < head.size()) {
        size_t end = start;
        // A field runs on while the next line starts with white space (folding).
        for (;;) {
            end = head.find("\r\n", end);
            if (end == std::string_view::npos) {
                end = head.size();
                break;
            }
            if (end + 2 < head.size() && isWsp(head[end + 2])) {
                end += 2;
                continue;
            }
            break;
        }
        fields.push_back(head.substr(start, end - start));
        start = end + 2;
    }
    return fields;
}

bool hasName(std::string_view field, std::string_view name) {
    return field.size() > name.size() && field[name.size()] == ':' &&
           strncasecmp(field.data(), name.data(), name.size()) == 0;
}

// Appends `text` to the header being built, folding before it when the line would pass 76.
void appendFolded(std::string& header, size_t& lineLength, std::string_view text) {
    if (lineLength + text.size() > 76 && lineLength > 0) {
        header += "\r\n\t";
        lineLength = 1;
    }
    header += text;
    lineLength += text.size();
}

}  // namespace

std::string relaxedHeader(std::string_view field) {
    const size_t colon = field.find(':');
    std::string out;
    out.reserve(field.size() + 2);
    std::string_view name = field.substr(0, colon);
    while (!name.empty() && isWsp(name.back())) name.remove_suffix(1);
    for (char c : name) out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    out += ':';
    if (colon != std::string_view::npos) {
        bool pendingSpace = false;
        for (char c : field.substr(colon + 1)) {
            if (c == '\r' || c == '\n') continue;  // unfolding
            if (isWsp(c)) {
                pendingSpace = true;
                continue;
            }
            // White space after the colon and at the end goes; runs inside become one space.
            if (pendingSpace && out.back() != ':') out += ' ';
            pendingSpace = false;
            out += c;
        }
    }
    out += "\r\n";
    return out;
}

std::string relaxedBody(std::string_view body) {
    std::string out;
    out.reserve(body.size());
    size_t emptyLinesPending = 0;
    size_t pos = 0;
    while (pos < body.size()) {
        size_t end = body.find("\r\n", pos);
        const bool lastWithoutCrlf = end == std::string_view::npos;
        if (lastWithoutCrlf) end = body.size();
        std::string line;
        bool pendingSpace = false;
        for (char c : body.substr(pos, end - pos)) {
            if (isWsp(c)) {
                pendingSpace = true;
                continue;
            }
            if (pendingSpace) line += ' ';
            pendingSpace = false;
            line += c;
        }
        if (line.empty()) {
            ++emptyLinesPending;  // kept only if a non-empty line follows
        } else {
            for (; emptyLinesPending > 0; --emptyLinesPending) out += "\r\n";
            out += line;
            out += "\r\n";
        }
        pos = lastWithoutCrlf ? body.size() : end + 2;
    }
    return out;
}

OpenSslDkimSigner::OpenSslDkimSigner(KeySource keys) : keys_(std::move(keys)) {}
OpenSslDkimSigner::~OpenSslDkimSigner() = default;

size_t OpenSslDkimSigner::keysParsed() const {
    std::lock_guard lock(mu_);
    return parsed_;
}

Result<std::shared_ptr<const OpenSslDkimSigner::ParsedKey>, std::string>
OpenSslDkimSigner::parsedKey(const std::string& pem) {
    {
        std::lock_guard lock(mu_);
        if (auto it = cache_.find(pem); it != cache_.end()) return it->second;
    }
    // Parsed outside the lock: two threads may parse the same new key once each, never wait.
    auto key = std::make_shared<ParsedKey>();
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    if (bio) key->pkey = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    if (!key->pkey) return fail(std::string("the private key could not be read"));
    std::lock_guard lock(mu_);
    ++parsed_;
    if (cache_.size() >= kMaxCachedKeys) cache_.clear();
    return cache_.emplace(pem, std::move(key)).first->second;
}

Result<std::string, std::string> OpenSslDkimSigner::sign(std::string_view fromDomain,
                                                         std::string message) {
    auto key = keys_ ? keys_(fromDomain) : std::nullopt;
    if (!key) return message;
    return signWith(*key, std::move(message));
}

Result<std::string, std::string> OpenSslDkimSigner::signWith(const SigningKey& key,
                                                             std::string message) {
    auto parsed = parsedKey(key.privatePem);
    if (!parsed) return fail("DKIM signing for " + key.domain + " failed: " + parsed.error());
    const bool ed25519 = key.algorithm == DkimAlgorithm::Ed25519;
    if ((EVP_PKEY_get_base_id((*parsed)->pkey) == EVP_PKEY_ED25519) != ed25519) {
        return fail("DKIM signing for " + key.domain + " failed: the key is not " +
                    std::string(algorithmName(key.algorithm)));
    }
    const size_t split = message.find("\r\n\r\n");
    const std::string_view head = std::string_view(message).substr(0, split);
    const std::string_view body = split == std::string::npos
                                      ? std::string_view()
                                      : std::string_view(message).substr(split + 4);

    // h=: each listed name as often as the message has it, signed bottom-up (RFC 6376 §5.4.2).
    const auto fields = headerFields(head);
    std::string names, signedHeaders;
    for (const char* name : kSignedHeaders) {
        for (auto f = fields.rbegin(); f != fields.rend(); ++f) {
            if (!hasName(*f, name)) continue;
            if (!names.empty()) names += ':';
            names += name;
            signedHeaders += relaxedHeader(*f);
        }
    }
    const std::string bodyHash = sha256(relaxedBody(body));

    std::string header = "DKIM-Signature: ";
    size_t lineLength = header.size();
    for (const std::string& tag :
         {std::string("v=1; "), std::string("a=") + (ed25519 ? "ed25519-sha256; " : "rsa-sha256; "),
          std::string("c=relaxed/relaxed; "), "d=" + key.domain + "; ", "s=" + key.selector + "; ",
          "h=" + names + "; ", "bh=" + base64(bodyHash) + "; ", std::string("b=")}) {
        appendFolded(header, lineLength, tag);
    }
    // What is signed: the signed fields, then this header with an empty b= and no final CRLF.
    std::string input = signedHeaders + relaxedHeader(header);
    input.resize(input.size() - 2);

    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    // RFC 8463: Ed25519 signs the SHA-256 of the input (PureEdDSA, no digest of its own).
    const std::string digestOnly = ed25519 ? sha256(input) : std::string();
    const std::string_view data = ed25519 ? std::string_view(digestOnly) : input;
    size_t sigLength = 0;
    std::string signature;
    bool ok = ctx && EVP_DigestSignInit(ctx.get(), nullptr, ed25519 ? nullptr : EVP_sha256(),
                                        nullptr, (*parsed)->pkey) == 1;
    ok =
        ok && EVP_DigestSign(ctx.get(), nullptr, &sigLength,
                             reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
    if (ok) {
        signature.resize(sigLength);
        ok = EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()),
                            &sigLength, reinterpret_cast<const unsigned char*>(data.data()),
                            data.size()) == 1;
        signature.resize(sigLength);
    }
    if (!ok) return fail("DKIM signing for " + key.domain + " failed in OpenSSL");
    const std::string b = base64(signature);
    for (size_t i = 0; i < b.size(); i += 64) appendFolded(header, lineLength, b.substr(i, 64));

    std::string out;
    out.reserve(header.size() + 2 + message.size());
    out += header;
    out += "\r\n";
    out += message;
    return out;
}

}  // namespace sc::delivery::dkim
