// The device the trigger tests expand their templates with, and an HTTP trigger to a URL.
#pragma once

#include <string>

#include "capf/core/device.hpp"
#include "capf/engine/trigger.hpp"

namespace capf::engine::trigger_test {

inline Device sample_device() {
  Device d;
  d.name = "SEP0A0000000001";
  d.description = "Lobby phone; \"front\" & back/1";
  d.device_type = "Cisco 8841";
  d.device_pool = "DP-HQ";
  d.security_profile = "Standard";
  d.ipv4 = "10.1.2.3";
  d.operation = CertificateOperation::install_upgrade;
  return d;
}

inline TriggerConfig http(const std::string& url, int timeout_s = 5) {
  TriggerConfig c;
  c.kind = TriggerConfig::Kind::http;
  c.url = url;
  c.timeout_s = timeout_s;
  return c;
}

}  // namespace capf::engine::trigger_test
