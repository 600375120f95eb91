#include "delivery/sms/smpp_pdu.h"

#include <algorithm>
#include <cctype>

namespace sc::delivery::sms::smpp {
namespace {

void putU32(std::string& out, uint32_t v) {
    out += static_cast<char>(v >> 24);
    out += static_cast<char>((v >> 16) & 0xFF);
    out += static_cast<char>((v >> 8) & 0xFF);
    out += static_cast<char>(v & 0xFF);
}

uint32_t getU32(std::string_view s, size_t at) {
    return (static_cast<uint32_t>(static_cast<unsigned char>(s[at])) << 24) |
           (static_cast<uint32_t>(static_cast<unsigned char>(s[at + 1])) << 16) |
           (static_cast<uint32_t>(static_cast<unsigned char>(s[at + 2])) << 8) |
           static_cast<uint32_t>(static_cast<unsigned char>(s[at + 3]));
}

// A C-octet string cut to maxLength - 1 characters (SMPP sizes count the terminating NUL).
void putCString(std::string& out, std::string_view s, size_t maxLength) {
    s = s.substr(0, std::min(s.size(), maxLength - 1));
    s = s.substr(0, std::min(s.size(), s.find('\0')));
    out += s;
    out += '\0';
}

void finish(std::string& pdu) {
    const auto n = static_cast<uint32_t>(pdu.size());
    pdu[0] = static_cast<char>(n >> 24);
    pdu[1] = static_cast<char>((n >> 16) & 0xFF);
    pdu[2] = static_cast<char>((n >> 8) & 0xFF);
    pdu[3] = static_cast<char>(n & 0xFF);
}

std::string begin(uint32_t command, uint32_t status, uint32_t sequence) {
    std::string pdu(4, '\0');
    putU32(pdu, command);
    putU32(pdu, status);
    putU32(pdu, sequence);
    return pdu;
}

// Reads the body field by field; the first failure sticks.
class Reader {
public:
    explicit Reader(std::string_view body) : body_(body) {}

    std::string cstring(size_t maxLength, const char* field) {
        if (!ok()) return {};
        const size_t end = body_.find('\0', pos_);
        if (end == std::string_view::npos || end - pos_ >= maxLength) {
            error_ = std::string(field) + " is not a NUL-terminated string of at most " +
                     std::to_string(maxLength) + " octets";
            return {};
        }
        std::string s(body_.substr(pos_, end - pos_));
        pos_ = end + 1;
        return s;
    }
    uint8_t u8(const char* field) {
        if (!ok()) return 0;
        if (pos_ >= body_.size()) {
            error_ = std::string(field) + " runs past the end of the PDU";
            return 0;
        }
        return static_cast<unsigned char>(body_[pos_++]);
    }
    uint16_t u16(const char* field) {
        const uint16_t hi = u8(field);
        return static_cast<uint16_t>((hi << 8) | u8(field));
    }
    std::string octets(size_t n, const char* field) {
        if (!ok()) return {};
        if (body_.size() - pos_ < n) {
            error_ = std::string(field) + " runs past the end of the PDU";
            return {};
        }
        std::string s(body_.substr(pos_, n));
        pos_ += n;
        return s;
    }
    bool atEnd() const { return pos_ >= body_.size(); }
    bool ok() const { return error_.empty(); }
    const std::string& error() const { return error_; }

private:
    std::string_view body_;
    size_t pos_ = 0;
    std::string error_;
};

}  // namespace

bool isTemporaryStatus(uint32_t status) {
    return status == kStatusThrottled || status == kStatusMessageQueueFull ||
           status == kStatusDeliveryFailure || status == kStatusSystemError;
}

Result<Header, std::string> decodeHeader(std::string_view b) {
    if (b.size() < kHeaderLength) return fail(std::string("short PDU header"));
    Header h{getU32(b, 0), getU32(b, 4), getU32(b, 8), getU32(b, 12)};
    if (h.length < kHeaderLength || h.length > kMaxPduLength) {
        return fail("command_length " + std::to_string(h.length) + " is outside 16.." +
                    std::to_string(kMaxPduLength));
    }
    return h;
}

std::string encodeBindTransceiver(uint32_t sequence, const BindTransceiver& bind) {
    std::string pdu = begin(kBindTransceiver, 0, sequence);
    putCString(pdu, bind.systemId, 16);
    putCString(pdu, bind.password, 9);
    putCString(pdu, bind.systemType, 13);
    pdu += '\x34';  // interface_version 3.4
    pdu += '\0';    // addr_ton
    pdu += '\0';    // addr_npi
    putCString(pdu, "", 41);
    finish(pdu);
    return pdu;
}

namespace {
// TON/NPI of an address: international E.164 for "+digits" (sent without the '+'),
// alphanumeric for a name, unknown otherwise.
void putAddress(std::string& pdu, std::string_view addr) {
    const bool digits =
        !addr.empty() && std::all_of(addr.begin() + (addr[0] == '+' ? 1 : 0), addr.end(),
                                     [](unsigned char c) { return std::isdigit(c) != 0; });
    if (digits && addr[0] == '+') {
        pdu += '\x01';  // international
        pdu += '\x01';  // ISDN/E.164
        addr.remove_prefix(1);
    } else if (!digits && !addr.empty()) {
        pdu += '\x05';  // alphanumeric
        pdu += '\0';
    } else {
        pdu += '\0';
        pdu += '\x01';
    }
    putCString(pdu, addr, 21);
}
}  // namespace

std::string encodeSubmitSm(uint32_t sequence, const SubmitSm& s) {
    std::string pdu = begin(kSubmitSm, 0, sequence);
    putCString(pdu, "", 6);  // service_type: SMSC default
    putAddress(pdu, s.sourceAddr);
    putAddress(pdu, s.destinationAddr);
    pdu += static_cast<char>(s.esmClass);
    pdu += '\0';              // protocol_id
    pdu += '\0';              // priority_flag
    putCString(pdu, "", 17);  // schedule_delivery_time: now
    putCString(pdu, "", 17);  // validity_period: SMSC default
    pdu += static_cast<char>(s.registeredDelivery);
    pdu += '\0';  // replace_if_present_flag
    pdu += static_cast<char>(s.dataCoding);
    pdu += '\0';  // sm_default_msg_id
    const size_t n = std::min<size_t>(s.shortMessage.size(), 254);
    pdu += static_cast<char>(n);
    pdu.append(s.shortMessage, 0, n);
    finish(pdu);
    return pdu;
}

std::string encodeEmpty(uint32_t command, uint32_t status, uint32_t sequence) {
    std::string pdu = begin(command, status, sequence);
    finish(pdu);
    return pdu;
}

std::string encodeDeliverSmResp(uint32_t sequence, uint32_t status) {
    std::string pdu = begin(kDeliverSmResp, status, sequence);
    pdu += '\0';
    finish(pdu);
    return pdu;
}

Result<std::string, std::string> decodeMessageIdBody(std::string_view body) {
    if (body.empty()) return std::string();  // an error response may omit the body
    Reader r(body);
    std::string id = r.cstring(65, "message_id");
    if (!r.ok()) return fail(r.error());
    return id;
}

Result<DeliverSm, std::string> decodeDeliverSm(std::string_view body) {
    Reader r(body);
    DeliverSm d;
    r.cstring(6, "service_type");
    r.u8("source_addr_ton");
    r.u8("source_addr_npi");
    d.sourceAddr = r.cstring(21, "source_addr");
    r.u8("dest_addr_ton");
    r.u8("dest_addr_npi");
    d.destinationAddr = r.cstring(21, "destination_addr");
    d.esmClass = r.u8("esm_class");
    r.u8("protocol_id");
    r.u8("priority_flag");
    r.cstring(17, "schedule_delivery_time");
    r.cstring(17, "validity_period");
    r.u8("registered_delivery");
    r.u8("replace_if_present_flag");
    d.dataCoding = r.u8("data_coding");
    r.u8("sm_default_msg_id");
    const uint8_t smLength = r.u8("sm_length");
    d.shortMessage = r.octets(smLength, "short_message");
    while (r.ok() && !r.atEnd()) {
        const uint16_t tag = r.u16("TLV tag");
        const uint16_t length = r.u16("TLV length");
        std::string value = r.octets(length, "TLV value");
        if (!r.ok()) break;
        if (tag == 0x001E) {  // receipted_message_id, a C-string
            value = value.substr(0, std::min(value.size(), value.find('\0')));
            if (value.size() > 64) return fail(std::string("receipted_message_id is too long"));
            d.receiptedMessageId = std::move(value);
        } else if (tag == 0x0427 && length == 1) {  // message_state
            d.messageState = static_cast<uint8_t>(value[0]);
        } else if (tag == 0x0424 && smLength == 0) {  // message_payload
            d.shortMessage = std::move(value);
        }
    }
    if (!r.ok()) return fail(r.error());
    return d;
}

std::string messageStateName(uint8_t state) {
    switch (state) {
        case 1:
            return "ENROUTE";
        case 2:
            return "DELIVRD";
        case 3:
            return "EXPIRED";
        case 4:
            return "DELETED";
        case 5:
            return "UNDELIV";
        case 6:
            return "ACCEPTD";
        case 8:
            return "REJECTD";
        default:
            return "UNKNOWN";
    }
}

namespace {
// The value after "key:" up to the next space, when the key starts a word.
std::optional<std::string> receiptField(std::string_view text, std::string_view key) {
    for (size_t at = 0; (at = text.find(key, at)) != std::string_view::npos; at += key.size()) {
        if (at != 0 && text[at - 1] != ' ') continue;
        const size_t from = at + key.size();
        const size_t to = std::min(text.find(' ', from), text.size());
        return std::string(text.substr(from, std::min<size_t>(to - from, 64)));
    }
    return std::nullopt;
}
}  // namespace

std::optional<ReceiptText> parseReceiptText(std::string_view text) {
    text = text.substr(0, std::min<size_t>(text.size(), 1024));
    auto id = receiptField(text, "id:");
    auto stat = receiptField(text, "stat:");
    if (!id && !stat) return std::nullopt;
    ReceiptText r;
    r.id = id.value_or("");
    r.stat = stat.value_or("");
    for (char& c : r.stat) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    r.err = receiptField(text, "err:").value_or("");
    return r;
}

}  // namespace sc::delivery::sms::smpp
