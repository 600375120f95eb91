#pragma once
// DKIM signing of outgoing mail (libopendkim): every message whose From domain has an active key
// is signed, relaxed/relaxed, over an explicit header list (From, To, Subject, Date, Message-ID,
// MIME-Version, Content-Type, and List-Unsubscribe / List-Unsubscribe-Post when present).
// Declared here by the lead so the SMTP agent and the signer can be written in parallel.

#include <string>
#include <string_view>

#include "common/result.h"

namespace sc::delivery::dkim {

class DkimSigner {
public:
    virtual ~DkimSigner() = default;
    // The message with its DKIM-Signature header prepended when `fromDomain` has an active key,
    // else the message unchanged. An error only when signing was due and failed.
    virtual Result<std::string, std::string> sign(std::string_view fromDomain,
                                                  std::string message) = 0;
};

}  // namespace sc::delivery::dkim
