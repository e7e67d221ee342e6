// The one place that adds the admin API's route modules (trust stores, offline CA, service
// parameters, policies, …), for the daemon and for the CLI's in-process mode alike.
#pragma once

#include <string>

#include "capf/admin/admin_service.hpp"
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
  /// The daemon's certificate monitor; null in the CLI's in-process mode.
  monitor::CertificateMonitor* monitor = nullptr;
};

/// Adds every route module to `service`.
void install_admin_modules(admin::AdminService& service, const ModuleContext& ctx);

}  // namespace capf::cli
