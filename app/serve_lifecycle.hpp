// What `capf serve` adds for the CA lifecycle, the certificate monitor and "Enable IPv6"; kept
// out of cmd_serve.cpp so that file only gains one call per feature.
#pragma once

#include <string>
#include <vector>

#include "capf/crypto/crypto.hpp"
#include "capf/store/store.hpp"

namespace capf::cli {

/// Adds every retired CAPF CA (DATA/ca/retired/*.pem) to CAPF-trust, so phones whose LSC an
/// old CA issued still authenticate by existing certificate until the CA is deleted.
void trust_retired_cas(crypto::TrustStore& trust, const std::string& ca_dir);

/// Applies the "Enable IPv6" service parameter to the listen addresses: when it is False,
/// "[::]:P" becomes "0.0.0.0:P" and any other IPv6 address is dropped (logged); Failure when
/// no address is left.
std::vector<std::string> listen_addresses(std::vector<std::string> listen, const store::Store& store);

}  // namespace capf::cli
