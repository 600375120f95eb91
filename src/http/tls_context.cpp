#include "http/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <fstream>

namespace sc::http {

namespace {

// ALPN: we speak HTTP/1.1 only. A client that offers something else (only h2) gets no ALPN
// answer rather than a fatal alert, as nginx does; it may still speak HTTP/1.1.
int selectAlpn(SSL*, const unsigned char** out, unsigned char* outLen, const unsigned char* in,
               unsigned int inLen, void*) {
    static constexpr unsigned char kHttp11[] = {'h', 't', 't', 'p', '/', '1', '.', '1'};
    unsigned int i = 0;
    while (i < inLen) {
        const unsigned int len = in[i];
        if (i + 1 + len > inLen) break;
        if (len == sizeof kHttp11 && std::equal(in + i + 1, in + i + 1 + len, kHttp11)) {
            *out = in + i + 1;
            *outLen = static_cast<unsigned char>(len);
            return SSL_TLSEXT_ERR_OK;
        }
        i += 1 + len;
    }
    return SSL_TLSEXT_ERR_NOACK;
}

// OpenSSL's reason for the last failure ("no start line", "key values mismatch"): it describes
// the file's shape, never its bytes.
std::string opensslReason(const boost::system::error_code& ec) {
    std::string reason = ec.message();
    ERR_clear_error();
    return reason;
}

bool readable(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return f.good();
}

}  // namespace

Result<std::shared_ptr<TlsContext>, std::string> loadTlsContext(const std::string& certFile,
                                                                const std::string& keyFile) {
    if (certFile.empty() || keyFile.empty()) {
        return fail(std::string("the TLS listener needs both --tls-cert and --tls-key"));
    }
    if (!readable(certFile)) return fail("cannot read the TLS certificate file " + certFile);
    if (!readable(keyFile)) return fail("cannot read the TLS key file " + keyFile);

    auto ctx = std::make_shared<TlsContext>(TlsContext::tls_server);
    boost::system::error_code ec;
    ctx->set_options(TlsContext::default_workarounds | TlsContext::no_sslv2 | TlsContext::no_sslv3 |
                         TlsContext::no_tlsv1 | TlsContext::no_tlsv1_1 |
                         TlsContext::no_compression | TlsContext::single_dh_use,
                     ec);
    SSL_CTX* native = ctx->native_handle();
    if (ec || SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
        ERR_clear_error();
        return fail(std::string("this OpenSSL refuses the TLS settings (TLS 1.2+, AEAD ciphers)"));
    }
    // Client-initiated renegotiation costs the server a handshake for each request of it.
    SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_alpn_select_cb(native, selectAlpn, nullptr);

    // An encrypted key would make OpenSSL prompt on the terminal; a daemon has none, so it gets
    // no passphrase and the load fails with a message instead.
    ctx->set_password_callback(
        [](std::size_t, TlsContext::password_purpose) { return std::string(); }, ec);
    ctx->use_certificate_chain_file(certFile, ec);
    if (ec)
        return fail("the TLS certificate file " + certFile +
                    " is not usable: " + opensslReason(ec));
    ctx->use_private_key_file(keyFile, TlsContext::pem, ec);
    if (ec) return fail("the TLS key file " + keyFile + " is not usable: " + opensslReason(ec));
    if (SSL_CTX_check_private_key(native) != 1) {
        ERR_clear_error();
        return fail("the TLS key file " + keyFile + " does not match the certificate in " +
                    certFile);
    }
    return ctx;
}

}  // namespace sc::http
