#pragma once
// The reference the tests hold the production signer (delivery/dkim/openssl_signer.h) against:
// libopendkim, relaxed/relaxed, rsa-sha256 or ed25519-sha256 (libopendkim 2.11 signs both), over
// the same explicit header list. It signed in production until it proved too slow (it parses
// the PEM key again for every message); as an independent implementation of the same
// canonicalisation it still tells the tests whether ours agrees.

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "delivery/dkim/dkim_signer.h"

namespace sc::delivery::dkim {

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
