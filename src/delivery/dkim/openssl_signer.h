#pragma once
// The DkimSigner production uses: relaxed/relaxed (RFC 6376 §3.4.2, §3.4.4), rsa-sha256 or
// ed25519-sha256 (RFC 8463), over the explicit header list kSignedHeaders, signed with OpenSSL
// from a private key parsed once and kept.
//
// Why not libopendkim, which signed until this was written: it takes the key as PEM text and
// parses it again for every message, and OpenSSL 3 decodes a PEM key in about a millisecond, more
// than the RSA-2048 signature itself; that was a third of the delivery agent's CPU per message
// (docs/architecture.md, "DKIM"). The canonicalisation is a few dozen lines; the tests check
// every signature with python3-dkim and the body hash against libopendkim's.

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "delivery/dkim/dkim_signer.h"

namespace sc::delivery::dkim {

class OpenSslDkimSigner : public DkimSigner {
public:
    explicit OpenSslDkimSigner(KeySource keys);
    ~OpenSslDkimSigner() override;
    OpenSslDkimSigner(const OpenSslDkimSigner&) = delete;
    OpenSslDkimSigner& operator=(const OpenSslDkimSigner&) = delete;

    Result<std::string, std::string> sign(std::string_view fromDomain,
                                          std::string message) override;

    // `message` (CRLF line endings) with a DKIM-Signature by `key` prepended.
    Result<std::string, std::string> signWith(const SigningKey& key, std::string message);

    // Keys parsed so far (for tests: a key signs many messages and is parsed once).
    size_t keysParsed() const;

    // Parsed keys kept at most; past it the cache starts again (a rotated key's old text is
    // never asked for again, so it must not stay for ever).
    static constexpr size_t kMaxCachedKeys = 256;

private:
    struct ParsedKey;
    Result<std::shared_ptr<const ParsedKey>, std::string> parsedKey(const std::string& pem);

    KeySource keys_;
    mutable std::mutex mu_;
    // Keyed by the PEM text itself: a rotation changes the text, so it changes the entry.
    std::unordered_map<std::string, std::shared_ptr<const ParsedKey>> cache_;  // guarded by mu_
    size_t parsed_ = 0;                                                        // guarded by mu_
};

// RFC 6376 relaxed canonicalisation, exposed for tests.
// One header field ("Name: value", folded or not, without its final CRLF) → "name:value\r\n".
std::string relaxedHeader(std::string_view field);
// A message body → its relaxed form (empty when the body is empty or only empty lines).
std::string relaxedBody(std::string_view body);

}  // namespace sc::delivery::dkim
