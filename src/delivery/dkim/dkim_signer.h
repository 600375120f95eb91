#pragma once
// DKIM signing of outgoing mail: every message whose From domain has an active key is signed,
// relaxed/relaxed, over an explicit header list (From, To, Subject, Date, Message-ID,
// MIME-Version, Content-Type, and List-Unsubscribe / List-Unsubscribe-Post when present). The
// signer production uses is OpenSslDkimSigner (openssl_signer.h); the key a domain signs with
// comes from a KeySource.

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "delivery/dkim/dkim_keys.h"

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

class DkimSigner {
public:
    virtual ~DkimSigner() = default;
    // The message with its DKIM-Signature header prepended when `fromDomain` has an active key,
    // else the message unchanged. An error only when signing was due and failed.
    virtual Result<std::string, std::string> sign(std::string_view fromDomain,
                                                  std::string message) = 0;
};

}  // namespace sc::delivery::dkim
