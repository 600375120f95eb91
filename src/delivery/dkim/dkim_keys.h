#pragma once
// DKIM keys: generation (RSA-2048 for rsa-sha256, Ed25519 for ed25519-sha256, RFC 8463) and the
// DNS TXT record that publishes the public half (docs/delivery.md, "DKIM"). OpenSSL does the
// key work; the private key travels as PKCS#8 PEM, which is what libopendkim signs with.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace sc::delivery::dkim {

enum class DkimAlgorithm { Rsa, Ed25519 };

// "rsa" | "ed25519": the k= tag, the operator's --algorithm and the stored text.
std::string_view algorithmName(DkimAlgorithm a);
std::optional<DkimAlgorithm> parseAlgorithm(std::string_view text);

struct GeneratedKey {
    std::string privatePem;       // PKCS#8 PEM
    std::string publicKeyBase64;  // the p= tag: SubjectPublicKeyInfo (rsa) or the raw 32 bytes
};

Result<GeneratedKey, std::string> generateKey(DkimAlgorithm algorithm);

// Standard base64, no line breaks: the p= tag, and the bh= and b= tags the signer writes.
std::string base64(std::string_view bytes);

// "sc1._domainkey.acme.io"
std::string dnsRecordName(std::string_view selector, std::string_view domain);
// "v=DKIM1; k=rsa; p=MIIB..." as one string (what a resolver hands back, strings joined).
std::string dnsTxtValue(DkimAlgorithm algorithm, std::string_view publicKeyBase64);
// The TXT value cut into the quoted strings of at most 255 octets a zone file needs:
// "\"v=DKIM1; k=rsa; p=MIIB...\" \"...\"".
std::string zoneFileStrings(std::string_view txt);

// A selector is a DNS label or dot-separated labels: [A-Za-z0-9-], at most 63 per label.
bool isValidSelector(std::string_view selector);

}  // namespace sc::delivery::dkim
