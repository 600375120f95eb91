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

class SystemRandom final : public Random {
public:
    SystemRandom();
    void fill(void* buf, size_t len) override;
};

}  // namespace sc
