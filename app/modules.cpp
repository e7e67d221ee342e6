#include "modules.hpp"

#include "capf/monitor/routes.hpp"
#include "cli.hpp"

namespace capf::cli {

void install_admin_modules(admin::AdminService& service, const ModuleContext& ctx) {
  // One line per module, e.g. service.add_module(std::make_shared<trust::AdminRoutes>(ctx.store, ctx.clock));
  (void)service;
  (void)ctx;
  service.add_module(std::make_shared<monitor::AdminRoutes>(ctx.store, ctx.clock, ca_dir(ctx.data_dir), ctx.monitor, ctx.engine != nullptr));
}

}  // namespace capf::cli
