#include "delivery/sms/smpp_pdu.h"

#include <gtest/gtest.h>

namespace sc::delivery::sms::smpp {
namespace {

std::string u32(uint32_t v) {
    return {static_cast<char>(v >> 24), static_cast<char>((v >> 16) & 0xFF),
            static_cast<char>((v >> 8) & 0xFF), static_cast<char>(v & 0xFF)};
}

TEST(SmppPdu, BindTransceiverLayout) {
    const std::string pdu = encodeBindTransceiver(7, {"acme", "secret", ""});
    auto h = decodeHeader(pdu);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->length, pdu.size());
    EXPECT_EQ(h->command, kBindTransceiver);
    EXPECT_EQ(h->sequence, 7u);
    EXPECT_EQ(pdu.substr(16), std::string("acme\0secret\0\0\x34\0\0\0", 17));
}

TEST(SmppPdu, PasswordIsCutToEightOctets) {
    const std::string pdu = encodeBindTransceiver(1, {"a", "0123456789", ""});
    EXPECT_NE(pdu.find(std::string("01234567\0", 9)), std::string::npos);
}

TEST(SmppPdu, SubmitSmCarriesInternationalNumberAndReceiptRequest) {
    SubmitSm s;
    s.sourceAddr = "Acme";
    s.destinationAddr = "+14155550100";
    s.esmClass = 0x40;
    s.dataCoding = 8;
    s.shortMessage = std::string("\0a", 2);
    const std::string pdu = encodeSubmitSm(3, s);
    auto h = decodeHeader(pdu);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->command, kSubmitSm);
    const std::string body = pdu.substr(16);
    EXPECT_EQ(body.substr(0, 1 + 2 + 5), std::string("\0\x05\0Acme\0", 8));
    EXPECT_EQ(body.substr(8, 2 + 12), std::string("\x01\x01"
                                                  "14155550100\0",
                                                  14));
    const size_t after = 8 + 14;
    EXPECT_EQ(body[after], '\x40');      // esm_class
    EXPECT_EQ(body[after + 5], '\x01');  // registered_delivery
    EXPECT_EQ(body[after + 7], '\x08');  // data_coding
    EXPECT_EQ(body.substr(after + 9), std::string("\x02\0a", 3));
}

TEST(SmppPdu, HeaderLengthIsBounded) {
    EXPECT_FALSE(decodeHeader(u32(15) + u32(kEnquireLink) + u32(0) + u32(1)));
    EXPECT_FALSE(decodeHeader(u32(kMaxPduLength + 1) + u32(kEnquireLink) + u32(0) + u32(1)));
    EXPECT_FALSE(decodeHeader("short"));
    EXPECT_TRUE(decodeHeader(u32(16) + u32(kEnquireLink) + u32(0) + u32(1)));
}

TEST(SmppPdu, MessageIdBody) {
    EXPECT_EQ(*decodeMessageIdBody(std::string("0a1B\0", 5)), "0a1B");
    EXPECT_EQ(*decodeMessageIdBody(""), "");
    EXPECT_FALSE(decodeMessageIdBody("unterminated"));
    EXPECT_FALSE(decodeMessageIdBody(std::string(70, 'x') + '\0'));
}

std::string deliverBody(uint8_t esm, std::string sm, std::string tlvs = "") {
    std::string b = std::string("\0", 1) + "\x01\x01" + "447700900123" + '\0' + "\x01\x01" +
                    "14155550100" + '\0';
    b += static_cast<char>(esm);
    // protocol_id, priority_flag, two empty times, registered_delivery, replace_if_present,
    // data_coding 0, sm_default_msg_id
    b += std::string(8, '\0');
    b += static_cast<char>(sm.size());
    b += sm;
    return b + tlvs;
}

TEST(SmppPdu, DeliverSmReceiptWithTlvs) {
    const std::string tlvs = std::string("\x00\x1E\x00\x05", 4) + std::string("1f2a\0", 5) +
                             std::string("\x04\x27\x00\x01\x02", 5);
    auto d = decodeDeliverSm(deliverBody(0x04, "id:0000012 stat:DELIVRD err:000", tlvs));
    ASSERT_TRUE(d) << d.error();
    EXPECT_TRUE(d->isReceipt());
    EXPECT_EQ(d->sourceAddr, "447700900123");
    EXPECT_EQ(d->destinationAddr, "14155550100");
    EXPECT_EQ(d->receiptedMessageId, "1f2a");
    EXPECT_EQ(d->messageState, 2);
    EXPECT_EQ(messageStateName(*d->messageState), "DELIVRD");
}

TEST(SmppPdu, DeliverSmMobileOriginated) {
    auto d = decodeDeliverSm(deliverBody(0x00, "STOP"));
    ASSERT_TRUE(d) << d.error();
    EXPECT_FALSE(d->isReceipt());
    EXPECT_EQ(d->shortMessage, "STOP");
}

TEST(SmppPdu, DeliverSmTruncatedFails) {
    const std::string body = deliverBody(0x00, "STOP");
    for (size_t n = 0; n + 1 < body.size(); ++n) {
        EXPECT_FALSE(decodeDeliverSm(body.substr(0, n))) << n;
    }
    // A TLV whose length runs past the end.
    EXPECT_FALSE(decodeDeliverSm(body + std::string("\x00\x1E\x00\x09"
                                                    "ab",
                                                    6)));
}

TEST(SmppPdu, ReceiptText) {
    auto r = parseReceiptText(
        "id:0A1b sub:001 dlvrd:001 submit date:2612050210 done date:2612050211 stat:delivrd "
        "err:000 text:hello");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->id, "0A1b");
    EXPECT_EQ(r->stat, "DELIVRD");
    EXPECT_EQ(r->err, "000");
    EXPECT_FALSE(parseReceiptText("hello there"));
    // "text:" contents can't fake the id: only a word-initial key counts, the first one wins.
    auto t = parseReceiptText("id:1 stat:UNDELIV err:1 text:id:2");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->id, "1");
}

TEST(SmppPdu, TemporaryStatuses) {
    for (uint32_t s : {0x58u, 0x14u, 0x64u, 0x08u}) EXPECT_TRUE(isTemporaryStatus(s));
    for (uint32_t s : {0x00u, 0x0Bu, 0x45u}) EXPECT_FALSE(isTemporaryStatus(s));
}

}  // namespace
}  // namespace sc::delivery::sms::smpp
