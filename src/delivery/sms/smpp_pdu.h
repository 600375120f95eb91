#pragma once
// SMPP 3.4 PDUs: the few an ESME sends and receives (docs/delivery.md). Our own small codec,
// not libsmpp34 (docs/architecture.md says why). Decoding is of untrusted bytes from the SMSC:
// every length is checked, C-strings are bounded by the specification's sizes, and a PDU longer
// than kMaxPduLength is refused before it is read.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace sc::delivery::sms::smpp {

enum Command : uint32_t {
    kGenericNack = 0x80000000,
    kSubmitSm = 0x00000004,
    kSubmitSmResp = 0x80000004,
    kDeliverSm = 0x00000005,
    kDeliverSmResp = 0x80000005,
    kUnbind = 0x00000006,
    kUnbindResp = 0x80000006,
    kBindTransceiver = 0x00000009,
    kBindTransceiverResp = 0x80000009,
    kEnquireLink = 0x00000015,
    kEnquireLinkResp = 0x80000015,
};

inline constexpr uint32_t kHeaderLength = 16;
// The largest PDU we accept: a deliver_sm with every field at its maximum and a 64 KiB
// message_payload TLV fits.
inline constexpr uint32_t kMaxPduLength = 70 * 1024;

inline constexpr uint32_t kStatusOk = 0x00;
inline constexpr uint32_t kStatusInvalidCommandId = 0x03;
inline constexpr uint32_t kStatusSystemError = 0x08;
inline constexpr uint32_t kStatusMessageQueueFull = 0x14;
inline constexpr uint32_t kStatusThrottled = 0x58;
inline constexpr uint32_t kStatusDeliveryFailure = 0x64;

// The submit_sm_resp statuses that pause the route and retry (docs/delivery.md).
bool isTemporaryStatus(uint32_t status);

struct Header {
    uint32_t length = 0;
    uint32_t command = 0;
    uint32_t status = 0;
    uint32_t sequence = 0;
};

// Reads the 16-byte header and checks command_length (16..kMaxPduLength).
Result<Header, std::string> decodeHeader(std::string_view sixteenBytes);

struct BindTransceiver {
    std::string systemId;  // at most 15 characters
    std::string password;  // at most 8
    std::string systemType;
};

struct SubmitSm {
    std::string sourceAddr;  // E.164 digits or alphanumeric
    std::string destinationAddr;
    uint8_t esmClass = 0;
    uint8_t dataCoding = 0;
    uint8_t registeredDelivery = 1;  // SMSC delivery receipt on success or failure
    std::string shortMessage;        // at most 254 octets
};

struct DeliverSm {
    std::string sourceAddr;
    std::string destinationAddr;
    uint8_t esmClass = 0;
    uint8_t dataCoding = 0;
    std::string shortMessage;  // or the message_payload TLV's value when present
    std::optional<std::string> receiptedMessageId;  // TLV 0x001E
    std::optional<uint8_t> messageState;            // TLV 0x0427

    // esm_class bits 2..5: 0x04 SMSC delivery receipt, 0x20 intermediate notification.
    bool isReceipt() const { return (esmClass & 0x3C) == 0x04 || (esmClass & 0x3C) == 0x20; }
};

std::string encodeBindTransceiver(uint32_t sequence, const BindTransceiver& bind);
std::string encodeSubmitSm(uint32_t sequence, const SubmitSm& submit);
// A PDU without a body: enquire_link, enquire_link_resp, unbind, unbind_resp, generic_nack.
std::string encodeEmpty(uint32_t command, uint32_t status, uint32_t sequence);
// deliver_sm_resp carries an empty message_id.
std::string encodeDeliverSmResp(uint32_t sequence, uint32_t status);

// Bodies (the bytes after the header). Each fails on a field that runs past the end or past
// its maximum size.
Result<std::string, std::string> decodeMessageIdBody(std::string_view body);  // *_resp
Result<DeliverSm, std::string> decodeDeliverSm(std::string_view body);

// A message_state TLV value as the receipt's stat word (2 -> DELIVRD, ...).
std::string messageStateName(uint8_t state);

// A delivery receipt's text, as SMSCs write it (SMPP 3.4 Appendix B):
// "id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DDDDDDD
// err:E text: . . ." — only id, stat and err are read.
struct ReceiptText {
    std::string id;
    std::string stat;
    std::string err;
};
std::optional<ReceiptText> parseReceiptText(std::string_view text);

}  // namespace sc::delivery::sms::smpp
