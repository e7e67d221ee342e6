// The one place that wires the admin API's route modules (trust stores, offline CA, service
// parameters, policies, …), for the daemon and for the CLI's in-process mode alike. The routes
// themselves live in their feature libraries (the rule in admin/router.hpp).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "capf/admin/admin_service.hpp"
#include "capf/core/service_params.hpp"
#include "capf/engine/engine.hpp"
#include "capf/store/store.hpp"
#include "capf/util/time.hpp"

namespace capf::monitor {
class CertificateMonitor;
}

namespace capf::cli {

/// What route modules may use. `engine` is null in the CLI's in-process mode (no daemon).
struct ModuleContext {
  store::Store& store;
  const util::Clock& clock;
  engine::Engine* engine = nullptr;
  std::string data_dir;
  std::string ca_subject;  ///< the CAPF CA's subject DN ("" when unknown)
  /// Called after a service parameter changed and was stored (the daemon applies it live);
  /// empty in the CLI's in-process mode.
  std::function<void(const ServiceParams&)> params_changed = {};
  /// Called after CAPF-trust changed (upload, delete), so the daemon rebuilds the trust store
  /// its enrollment service verifies against; empty in the CLI's in-process mode.
  std::function<void()> trust_changed = {};
  /// The daemon's certificate monitor; null in the CLI's in-process mode.
  monitor::CertificateMonitor* monitor = nullptr;
};

/// Registers every feature library's routes with the service's router (admin/router.hpp).
void install_admin_modules(admin::AdminService& service, const ModuleContext& ctx);

}  // namespace capf::cli
