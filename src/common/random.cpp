#include "common/random.h"

#include <sodium.h>

#include <cstdlib>
#include <cstring>

namespace sc {

uint64_t Random::next64() {
    uint64_t v;
    fill(&v, sizeof v);
    return v;
}

uint32_t Random::uniform(uint32_t bound) {
    // Rejection sampling: drop the values that would make the low residues more likely.
    uint32_t threshold = static_cast<uint32_t>(-bound) % bound;
    for (;;) {
        uint32_t r;
        fill(&r, sizeof r);
        if (r >= threshold) return r % bound;
    }
}

std::string Random::alphanumeric(size_t len) {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    std::string out(len, '\0');
    for (auto& c : out) c = kAlphabet[uniform(sizeof kAlphabet - 1)];
    return out;
}

std::string Random::hex(size_t bytes) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string raw(bytes, '\0');
    fill(raw.data(), bytes);
    std::string out;
    out.reserve(bytes * 2);
    for (unsigned char c : raw) {
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
    }
    return out;
}

SystemRandom::SystemRandom() {
    if (sodium_init() < 0) std::abort();  // no CSPRNG, no service
}

namespace {

struct RandomBuffer {
    unsigned char bytes[SystemRandom::kBufferBytes];
    size_t used = SystemRandom::kBufferBytes;  // empty until the first draw

    ~RandomBuffer() { sodium_memzero(bytes, sizeof bytes); }
};

}  // namespace

void SystemRandom::fill(void* buf, size_t len) {
    if (len > kMaxBufferedDraw) {
        randombytes_buf(buf, len);
        return;
    }
    thread_local RandomBuffer buffer;
    if (kBufferBytes - buffer.used < len) {
        randombytes_buf(buffer.bytes, kBufferBytes);
        buffer.used = 0;
    }
    unsigned char* const drawn = buffer.bytes + buffer.used;
    std::memcpy(buf, drawn, len);
    sodium_memzero(drawn, len);  // never handed out twice, nor left for a memory dump
    buffer.used += len;
}

}  // namespace sc
