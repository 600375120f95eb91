#pragma once
// An SMS text as SMPP short_message payloads (docs/delivery.md): GSM 03.38 as unpacked septets
// (data_coding 0, the SMSC default alphabet) when every character has one, else UCS-2 big-endian
// (data_coding 8). A long text becomes parts that each start with an 8-bit-reference
// concatenation UDH (05 00 03 ref total seq) and set esm_class UDHI.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace sc::delivery::sms {

struct EncodedSms {
    uint8_t dataCoding = 0;          // 0x00 GSM-7, 0x08 UCS-2
    bool udhi = false;               // parts carry a UDH (esm_class 0x40)
    std::vector<std::string> parts;  // short_message octets, UDH included
};

inline constexpr uint8_t kDataCodingGsm7 = 0x00;
inline constexpr uint8_t kDataCodingUcs2 = 0x08;
inline constexpr uint8_t kEsmClassUdhi = 0x40;

// `reference` identifies the parts of one long text to the handset (any value; the caller
// varies it between messages to one number). Fails on invalid UTF-8.
Result<EncodedSms, std::string> encodeSms(std::string_view utf8, uint8_t reference);

// Sets the concatenation reference of an encoded long text (a no-op for one part): the jobs of
// one message share one encoding, each with its own reference.
void setConcatenationReference(EncodedSms& sms, uint8_t reference);

// The reverse, for mobile-originated messages: short_message octets in `dataCoding` (0 or 1:
// GSM-7 unpacked, 8: UCS-2, 3: Latin-1, anything else read as Latin-1), UDH skipped when `udhi`.
std::string decodeShortMessage(std::string_view octets, uint8_t dataCoding, bool udhi);

}  // namespace sc::delivery::sms
