// The SMPP decoders on arbitrary bytes: header, message_id bodies, deliver_sm with its TLVs,
// receipt text and MO text decoding must never read out of bounds, whatever the SMSC sends.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "delivery/sms/smpp_pdu.h"
#include "delivery/sms/sms_encoding.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace sc::delivery::sms;
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    (void)smpp::decodeHeader(in);
    (void)smpp::decodeMessageIdBody(in);
    if (auto d = smpp::decodeDeliverSm(in)) {
        (void)smpp::parseReceiptText(d->shortMessage);
        (void)decodeShortMessage(d->shortMessage, d->dataCoding, (d->esmClass & 0x40) != 0);
        if (d->messageState) (void)smpp::messageStateName(*d->messageState);
    }
    if (size > 0) (void)decodeShortMessage(in.substr(1), data[0], (data[0] & 1) != 0);
    return 0;
}
