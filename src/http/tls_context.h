#pragma once
// The TLS listener's OpenSSL context, built from a certificate chain file and a private key file
// (docs/operations.md "TLS"): TLS 1.2 and 1.3 only, forward-secret AEAD ciphers, no compression or
// renegotiation, ALPN http/1.1. Internal to src/http (the server and its tests): a reload builds a
// new context and connections already open keep the one they started with.

#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>

#include "common/result.h"

namespace sc::http {

using TlsContext = boost::asio::ssl::context;

// The TLS 1.2 cipher list (TLS 1.3's suites are OpenSSL's defaults, all AEAD): Mozilla's
// "intermediate" profile without the DHE suites, which would need DH parameters of our own.
inline constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// Errors name the file and what OpenSSL found wrong with it, never the file's content.
Result<std::shared_ptr<TlsContext>, std::string> loadTlsContext(const std::string& certFile,
                                                                const std::string& keyFile);

}  // namespace sc::http
