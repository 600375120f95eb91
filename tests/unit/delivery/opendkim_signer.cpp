#include "opendkim_signer.h"

#include <strings.h>

#include <memory>
#include <vector>

// dkim.h is C99: its prototypes use _Bool, which C++ spells bool (same size and ABI).
#define _Bool bool
#include <opendkim/dkim.h>
#undef _Bool

namespace sc::delivery::dkim {

struct OpenDkimSigner::Lib {
    DKIM_LIB* handle = nullptr;
};

namespace {

struct DkimFree {
    void operator()(DKIM* d) const { dkim_free(d); }
};

std::string statusText(DKIM_STAT s) {
    const char* t = dkim_getresultstr(s);
    return t ? t : "status " + std::to_string(s);
}

// Which of kSignedHeaders the message has: libopendkim signs each listed name as often as it
// appears, and an absent one would only be listed for nothing.
std::vector<const char*> presentHeaders(std::string_view message) {
    std::string_view head = message.substr(0, message.find("\r\n\r\n"));
    std::vector<const char*> out;
    for (const char* name : kSignedHeaders) {
        std::string_view n(name);
        size_t pos = 0;
        while (pos < head.size()) {
            size_t end = head.find("\r\n", pos);
            if (end == std::string_view::npos) end = head.size();
            std::string_view line = head.substr(pos, end - pos);
            if (line.size() > n.size() && line[n.size()] == ':' &&
                strncasecmp(line.data(), name, n.size()) == 0) {
                out.push_back(name);
                break;
            }
            pos = end + 2;
        }
    }
    out.push_back(nullptr);
    return out;
}

}  // namespace

OpenDkimSigner::OpenDkimSigner(KeySource keys) : keys_(std::move(keys)), lib_(new Lib) {
    lib_->handle = dkim_init(nullptr, nullptr);
    // Folded with CRLF, like the rest of the message.
    u_int flags = DKIM_LIBFLAGS_FIXCRLF;
    dkim_options(lib_->handle, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof flags);
}

OpenDkimSigner::~OpenDkimSigner() {
    if (lib_->handle) dkim_close(lib_->handle);
    delete lib_;
}

Result<std::string, std::string> OpenDkimSigner::sign(std::string_view fromDomain,
                                                      std::string message) {
    auto key = keys_ ? keys_(fromDomain) : std::nullopt;
    if (!key) return message;
    return signWith(*key, std::move(message));
}

Result<std::string, std::string> OpenDkimSigner::signWith(const SigningKey& key,
                                                          std::string message) const {
    if (!lib_->handle) return fail(std::string("libopendkim did not initialise"));
    DKIM_STAT status = DKIM_STAT_OK;
    std::unique_ptr<DKIM, DkimFree> d(dkim_sign(
        lib_->handle, reinterpret_cast<const unsigned char*>("sendcloud"), nullptr,
        reinterpret_cast<dkim_sigkey_t>(const_cast<char*>(key.privatePem.c_str())),
        reinterpret_cast<const unsigned char*>(key.selector.c_str()),
        reinterpret_cast<const unsigned char*>(key.domain.c_str()), DKIM_CANON_RELAXED,
        DKIM_CANON_RELAXED,
        key.algorithm == DkimAlgorithm::Ed25519 ? DKIM_SIGN_ED25519SHA256 : DKIM_SIGN_RSASHA256, -1,
        &status));
    if (!d) return fail("DKIM signing for " + key.domain + " failed: " + statusText(status));
    auto headers = presentHeaders(message);
    if ((status = dkim_signhdrs(d.get(), headers.data())) != DKIM_STAT_OK) {
        return fail("DKIM header list refused: " + statusText(status));
    }
    status = dkim_chunk(d.get(), reinterpret_cast<unsigned char*>(message.data()), message.size());
    if (status == DKIM_STAT_OK) status = dkim_chunk(d.get(), nullptr, 0);
    if (status == DKIM_STAT_OK) status = dkim_eom(d.get(), nullptr);
    if (status != DKIM_STAT_OK) {
        return fail("DKIM signing for " + key.domain + " failed: " + statusText(status));
    }
    static constexpr std::string_view kName = "DKIM-Signature: ";
    unsigned char* value = nullptr;
    size_t length = 0;
    status = dkim_getsighdr_d(d.get(), kName.size(), &value, &length);
    if (status != DKIM_STAT_OK || value == nullptr) {
        return fail("DKIM signing for " + key.domain + " failed: " + statusText(status));
    }
    std::string out;
    out.reserve(kName.size() + length + 2 + message.size());
    out += kName;
    // Folding breaks as CRLF whatever the library wrote.
    for (size_t i = 0; i < length; ++i) {
        char c = static_cast<char>(value[i]);
        if (c == '\n' && (i == 0 || value[i - 1] != '\r')) out += '\r';
        out += c;
    }
    out += "\r\n";
    out += message;
    return out;
}

}  // namespace sc::delivery::dkim
