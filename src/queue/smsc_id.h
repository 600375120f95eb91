#pragma once
// SMSC message ids, normalised so that a receipt finds its submit (docs/delivery.md "Receipts").
// SMS centres disagree on how they spell an id: submit_sm_resp may give "0A1B" and the receipt
// "2587" (the same number in decimal), or the other way round, in either case, with or without
// leading zeros. The rule:
//   1. trim white space, lower-case;
//   2. an id of hex digits only loses its leading zeros ("0" stays "0");
//   3. at submit, an id is stored under that form and, when it fits in 64 bits, also under its
//      value read as decimal written in hex, and read as hex written in decimal; a receipt is
//      looked up under its own normalised form only. The form given at submit wins when two
//      recipients share a spelling.
// Ids that are not hex digits (Kannel's UUIDs, say) are matched by steps 1 and 2 alone.

#include <string>
#include <string_view>
#include <vector>

namespace sc::queue {

// Steps 1 and 2; at most 64 bytes are kept (an SMPP message_id is at most 65 octets).
std::string normaliseSmscId(std::string_view raw);

// Every form a submit's id is stored under: normaliseSmscId(raw) first, then its conversions.
std::vector<std::string> smscIdForms(std::string_view raw);

}  // namespace sc::queue
