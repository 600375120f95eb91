#pragma once
// The DkimSigner that production uses: libopendkim, relaxed/relaxed, rsa-sha256 or
// ed25519-sha256 (libopendkim 2.11 signs both), over the explicit header list of
// docs/delivery.md. Which key signs a domain's mail comes from a KeySource (the domain store
// through DomainKeyCache in the server, a fixed key in tests).

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "delivery/dkim/dkim_keys.h"
#include "delivery/dkim/dkim_signer.h"

namespace sc::delivery::dkim {

struct SigningKey {
    std::string domain;    // the d= tag, lower case
    std::string selector;  // the s= tag
    DkimAlgorithm algorithm = DkimAlgorithm::Rsa;
    std::string privatePem;  // PKCS#8 PEM, in the clear only in memory
};

// The active key of a From domain, or nullopt: the message goes unsigned. Called for every
// message from the delivery threads: must be thread-safe and quick.
using KeySource = std::function<std::optional<SigningKey>(std::string_view fromDomain)>;

// The headers signed when present, in this order (RFC 6376 5.4); From is always present.
inline constexpr const char* kSignedHeaders[] = {"From",
                                                 "To",
                                                 "Subject",
                                                 "Date",
                                                 "Message-ID",
                                                 "MIME-Version",
                                                 "Content-Type",
                                                 "List-Unsubscribe",
                                                 "List-Unsubscribe-Post"};

class OpenDkimSigner : public DkimSigner {
public:
    explicit OpenDkimSigner(KeySource keys);
    ~OpenDkimSigner() override;
    OpenDkimSigner(const OpenDkimSigner&) = delete;
    OpenDkimSigner& operator=(const OpenDkimSigner&) = delete;

    Result<std::string, std::string> sign(std::string_view fromDomain,
                                          std::string message) override;

    // `message` (CRLF line endings) with a DKIM-Signature by `key` prepended.
    Result<std::string, std::string> signWith(const SigningKey& key, std::string message) const;

private:
    KeySource keys_;
    struct Lib;
    Lib* lib_;
};

}  // namespace sc::delivery::dkim
