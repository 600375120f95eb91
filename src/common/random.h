#pragma once
// Randomness is injected like time: keys, secrets and ids are drawn from a Random&. The system
// implementation is libsodium's CSPRNG; tests may substitute a deterministic one.

#include <cstddef>
#include <cstdint>
#include <string>

namespace sc {

class Random {
public:
    virtual ~Random() = default;
    virtual void fill(void* buf, size_t len) = 0;

    uint64_t next64();
    // Uniform over [0, bound) without modulo bias.
    uint32_t uniform(uint32_t bound);
    // `len` characters drawn uniformly from [A-Za-z0-9].
    std::string alphanumeric(size_t len);
    std::string hex(size_t bytes);
};

// libsodium's CSPRNG. Small draws (an id's random part, a key's characters) come from a
// per-thread buffer refilled from it kBufferBytes at a time: randombytes_buf is a getrandom(2)
// system call per call, which was one syscall per send request. Bytes handed out are wiped
// from the buffer at once; larger draws go to libsodium directly. Not fork-safe (a child would
// repeat its parent's buffered bytes): the service never forks.
class SystemRandom final : public Random {
public:
    static constexpr size_t kBufferBytes = 256;
    static constexpr size_t kMaxBufferedDraw = 32;

    SystemRandom();
    void fill(void* buf, size_t len) override;
};

}  // namespace sc
