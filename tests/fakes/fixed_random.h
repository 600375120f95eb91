#pragma once
// A deterministic Random for tests: a counter run through a simple mixer.

#include <cstdint>
#include <cstring>

#include "common/random.h"

namespace sc::testing {

class FixedRandom final : public Random {
public:
    explicit FixedRandom(uint64_t seed = 42) : state_(seed) {}
    void fill(void* buf, size_t len) override {
        auto* out = static_cast<unsigned char*>(buf);
        for (size_t i = 0; i < len; ++i) {
            state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
            out[i] = static_cast<unsigned char>(state_ >> 56);
        }
    }

private:
    uint64_t state_;
};

}  // namespace sc::testing
