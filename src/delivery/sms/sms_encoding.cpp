#include "delivery/sms/sms_encoding.h"

#include <algorithm>

#include "domain/sms_text.h"
#include "domain/text_util.h"

namespace sc::delivery::sms {

Result<EncodedSms, std::string> encodeSms(std::string_view utf8, uint8_t reference) {
    auto split = domain::splitSms(utf8);
    if (!split) return fail(split.error());
    EncodedSms out;
    const bool gsm = split->encoding == domain::SmsEncoding::Gsm7;
    out.dataCoding = gsm ? kDataCodingGsm7 : kDataCodingUcs2;
    const size_t total = split->parts.size();
    out.udhi = total > 1;
    out.parts.reserve(total);
    for (size_t i = 0; i < total; ++i) {
        std::string octets;
        if (out.udhi) {
            octets = {0x05,
                      0x00,
                      0x03,
                      static_cast<char>(reference),
                      static_cast<char>(total),
                      static_cast<char>(i + 1)};
        }
        for (const char16_t unit : split->parts[i]) {
            if (gsm) {
                octets += static_cast<char>(unit);
            } else {
                octets += static_cast<char>(unit >> 8);
                octets += static_cast<char>(unit & 0xFF);
            }
        }
        out.parts.push_back(std::move(octets));
    }
    return out;
}

void setConcatenationReference(EncodedSms& sms, uint8_t reference) {
    if (!sms.udhi) return;
    // 05 00 03 ref total seq: the reference is the UDH's fourth octet.
    for (auto& part : sms.parts) {
        if (part.size() > 3) part[3] = static_cast<char>(reference);
    }
}

std::string decodeShortMessage(std::string_view octets, uint8_t dataCoding, bool udhi) {
    if (udhi && !octets.empty()) {
        const size_t udhLength = 1 + static_cast<unsigned char>(octets[0]);
        octets.remove_prefix(std::min(udhLength, octets.size()));
    }
    std::string out;
    if (dataCoding == 0x08) {
        for (size_t i = 0; i + 1 < octets.size(); i += 2) {
            char32_t cp = (static_cast<unsigned char>(octets[i]) << 8) |
                          static_cast<unsigned char>(octets[i + 1]);
            if (cp >= 0xD800 && cp < 0xDC00 && i + 3 < octets.size()) {
                const char32_t low = (static_cast<unsigned char>(octets[i + 2]) << 8) |
                                     static_cast<unsigned char>(octets[i + 3]);
                if (low >= 0xDC00 && low < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                    i += 2;
                }
            }
            if (cp >= 0xD800 && cp < 0xE000) cp = 0xFFFD;
            domain::appendUtf8(out, cp);
        }
    } else if (dataCoding == 0x00 || dataCoding == 0x01) {
        for (size_t i = 0; i < octets.size(); ++i) {
            const unsigned char septet = static_cast<unsigned char>(octets[i]) & 0x7F;
            if (septet == 0x1B && i + 1 < octets.size()) {
                domain::appendUtf8(
                    out, domain::gsmCharacter(static_cast<unsigned char>(octets[++i]), true));
            } else {
                domain::appendUtf8(out, domain::gsmCharacter(septet, false));
            }
        }
    } else {
        for (const char c : octets) domain::appendUtf8(out, static_cast<unsigned char>(c));
    }
    return out;
}

}  // namespace sc::delivery::sms
