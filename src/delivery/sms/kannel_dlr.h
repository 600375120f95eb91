#pragma once
// Kannel's delivery reports (docs/delivery.md): smsbox calls the dlr-url we gave it,
// /sms/dlr/kannel/<route>?token=T&id=<recipient id>&type=<%d>. The route's token authenticates
// the call (compared in constant time; never an SMS_KEY); the id is ours, reported to the queue
// as the SMSC id of the one "part" Kannel was given.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "queue/delivery.h"

namespace sc::delivery::sms {

enum class DlrError { BadToken, Malformed };

// `query`: the request's query string, without '?'. At most 4 KiB is read.
Result<queue::SmsReceipt, DlrError> parseKannelDlr(std::string_view route, std::string_view query,
                                                   std::string_view expectedToken, int64_t atMs);

}  // namespace sc::delivery::sms
