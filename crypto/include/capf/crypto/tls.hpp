// TLS policy applied to an SSL_CTX owned by Boost.Asio, so the OpenSSL calls stay in crypto/.
#pragma once

#include <string>

#include "capf/util/result.hpp"

namespace capf::crypto {

/// Minimum TLS version policy on the CAPF port.
enum class TlsLegacy : bool {
  no,   ///< TLS 1.2 and 1.3 only (the default)
  yes,  ///< also TLS 1.0/1.1 with legacy CBC-SHA suites, for old phone models
};

/// Configures a server SSL_CTX (`native_ctx` is the SSL_CTX*): certificate + key PEM,
/// protocol floor, ciphers, no client certificate request.
Result<void> configure_server_tls(void* native_ctx, const std::string& cert_pem, const std::string& key_pem,
                                  TlsLegacy legacy);

/// Configures a client SSL_CTX: trust the given CA PEM bundle and verify the server.
Result<void> configure_client_tls(void* native_ctx, const std::string& ca_pem, TlsLegacy legacy);

}  // namespace capf::crypto
