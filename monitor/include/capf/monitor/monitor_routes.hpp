// Admin API routes of the CA lifecycle, revocation, CRLs and the certificate monitor.
//   POST   /v1/ca/regenerate        {"key": "rsa-2048"}   → old/new CA, restart_required
//   GET    /v1/ca/retired                                 → retired CAPF CAs
//   POST   /v1/ca/retired/{serial}/delete                 → removes one from disk (and CAPF-trust at the next start)
//   GET    /v1/ca/phones-on-old                           → devices whose LSC a retired CA issued, and the job query
//   POST   /v1/lsc/{serial}/revoke  {"reason": "keyCompromise"}
//   GET    /v1/crl[?ca=SERIAL]                            → {"pem", "der_hex", "number", …}
//   POST   /v1/monitor/run                                → the check report
//   GET    /v1/monitor/status                             → the last report (daemon)
#pragma once

#include <memory>
#include <string>

#include "capf/admin/admin_service.hpp"
#include "capf/monitor/monitor.hpp"

namespace capf::monitor {

class AdminRoutes : public admin::RouteModule {
 public:
  /// `monitor` is the daemon's (null in the CLI's in-process mode: run-now then checks once
  /// in-process); `daemon` tells whether a regenerated CA needs a restart to take effect.
  AdminRoutes(store::Store& store, const util::Clock& clock, std::string ca_dir, CertificateMonitor* monitor,
              bool daemon);
  std::optional<admin::Response> handle(const admin::Request& r, const std::string& path,
                                        const std::string& query) override;

 private:
  admin::Response regenerate(const admin::Request& r);
  admin::Response retired();
  admin::Response delete_retired(const admin::Request& r, const std::string& serial);
  admin::Response phones_on_old();
  admin::Response revoke(const admin::Request& r, const std::string& serial);
  admin::Response crl(const std::string& query);
  admin::Response run_now();

  store::Store& store_;
  const util::Clock& clock_;
  std::string ca_dir_;
  CertificateMonitor* monitor_;
  bool daemon_;
};

}  // namespace capf::monitor
