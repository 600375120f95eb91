#pragma once
// SMSC message ids, normalised so that a receipt finds its submit (docs/delivery.md "Receipts").
// SMS centres disagree on how they spell an id: submit_sm_resp may give "0A1B" and the receipt
// "2587" (the same number in decimal), or the other way round, in either case, with or without
// leading zeros. The rule:
//   1. trim white space, lower-case;
//   2. an id of hex digits only loses its leading zeros ("0" stays "0");
//   3. an id's forms are that form and, when it fits in 64 bits, its value read as decimal
//      written in hex, and read as hex written in decimal (the conversion is its own inverse, so
//      an id matches another exactly when one's normalised form is among the other's forms). A
//      submit is stored under its normalised form alone; a receipt is looked up under its
//      normalised form, then under its conversions, so a submit kept under the receipt's own
//      spelling wins when two recipients share a spelling. (Storing every form at submit, as
//      before, cost two more rows per SMS at the full submit rate; a receipt's extra look-ups
//      are reads.)
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
