#include "queue/smsc_id.h"

#include <cstdint>
#include <optional>

namespace sc::queue {
namespace {

bool isHex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

std::optional<uint64_t> parse(std::string_view digits, unsigned base) {
    if (digits.empty() || digits.size() > 20) return std::nullopt;
    uint64_t value = 0;
    for (char c : digits) {
        unsigned d = 0;
        if (c >= '0' && c <= '9') {
            d = static_cast<unsigned>(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            d = static_cast<unsigned>(c - 'a' + 10);
        } else {
            return std::nullopt;
        }
        if (d >= base) return std::nullopt;
        if (value > (UINT64_MAX - d) / base) return std::nullopt;  // would overflow
        value = value * base + d;
    }
    return value;
}

std::string write(uint64_t value, unsigned base) {
    if (value == 0) return "0";
    std::string out;
    while (value > 0) {
        out.insert(out.begin(), "0123456789abcdef"[value % base]);
        value /= base;
    }
    return out;
}

}  // namespace

std::string normaliseSmscId(std::string_view raw) {
    while (!raw.empty() && (raw.front() == ' ' || raw.front() == '\t' || raw.front() == '\r' ||
                            raw.front() == '\n'))
        raw.remove_prefix(1);
    while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\t' || raw.back() == '\r' ||
                            raw.back() == '\n' || raw.back() == '\0'))
        raw.remove_suffix(1);
    if (raw.size() > 64) raw = raw.substr(0, 64);
    std::string out;
    out.reserve(raw.size());
    for (char c : raw) out.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c);
    bool allHex = !out.empty();
    for (char c : out) allHex = allHex && isHex(c);
    if (allHex) {
        const size_t firstNonZero = out.find_first_not_of('0');
        out = firstNonZero == std::string::npos ? "0" : out.substr(firstNonZero);
    }
    return out;
}

std::vector<std::string> smscIdForms(std::string_view raw) {
    std::vector<std::string> forms{normaliseSmscId(raw)};
    const std::string id = forms.front();  // a copy: add() grows `forms`
    auto add = [&](std::string form) {
        for (const auto& f : forms)
            if (f == form) return;
        forms.push_back(std::move(form));
    };
    if (auto decimal = parse(id, 10)) add(write(*decimal, 16));
    if (auto hex = parse(id, 16)) add(write(*hex, 10));
    return forms;
}

}  // namespace sc::queue
