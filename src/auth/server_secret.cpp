#include "auth/server_secret.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sc::auth {

namespace {

std::string errnoText() {
    return std::strerror(errno);
}

Result<std::string, std::string> readAll(int fd) {
    std::string out;
    char buf[256];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail(errnoText());
        }
        if (n == 0) break;
        out.append(buf, static_cast<size_t>(n));
        if (out.size() > 4096) return fail(std::string("file is too large"));
    }
    return out;
}

}  // namespace

ServerSecret::ServerSecret(ServerSecret&& other) noexcept : bytes_(other.bytes_) {
    sodium_memzero(other.bytes_.data(), other.bytes_.size());
}

ServerSecret::~ServerSecret() {
    sodium_memzero(bytes_.data(), bytes_.size());
}

ServerSecret ServerSecret::fromBytes(const std::array<uint8_t, kBytes>& bytes) {
    ServerSecret s;
    s.bytes_ = bytes;
    return s;
}

Result<ServerSecret, std::string> ServerSecret::loadOrCreate(const std::string& path,
                                                             Random& random) {
    ServerSecret secret;
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        random.fill(secret.bytes_.data(), kBytes);
        char hex[kBytes * 2 + 1];
        sodium_bin2hex(hex, sizeof hex, secret.bytes_.data(), kBytes);
        std::string text = std::string(hex) + "\n";
        sodium_memzero(hex, sizeof hex);
        bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fsync(fd) == 0;
        sodium_memzero(text.data(), text.size());
        ::close(fd);
        if (!ok) {
            ::unlink(path.c_str());
            return fail("cannot write server secret " + path + ": " + errnoText());
        }
        return secret;
    }
    if (errno != EEXIST) return fail("cannot create server secret " + path + ": " + errnoText());

    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail("cannot read server secret " + path + ": " + errnoText());
    auto content = readAll(fd);
    ::close(fd);
    if (!content) return fail("cannot read server secret " + path + ": " + content.error());
    std::string& text = content.value();
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
        text.pop_back();
    bool ok = false;
    if (text.size() == kBytes * 2) {
        size_t len = 0;
        ok = sodium_hex2bin(secret.bytes_.data(), kBytes, text.data(), text.size(), nullptr, &len,
                            nullptr) == 0 &&
             len == kBytes;
    } else if (text.size() == kBytes) {
        std::memcpy(secret.bytes_.data(), text.data(), kBytes);
        ok = true;
    }
    sodium_memzero(text.data(), text.size());
    // Never echo the file's content: it is the secret.
    if (!ok) return fail("server secret " + path + " must hold 64 hex characters");
    return secret;
}

std::array<uint8_t, ServerSecret::kBytes> ServerSecret::deriveKey(uint64_t id,
                                                                  const char context[8]) const {
    static_assert(crypto_kdf_KEYBYTES == kBytes);
    std::array<uint8_t, kBytes> out{};
    crypto_kdf_derive_from_key(out.data(), out.size(), id, context, bytes_.data());
    return out;
}

}  // namespace sc::auth
