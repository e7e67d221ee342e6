#include "modules.hpp"

#include "capf/ca_offline/offline_routes.hpp"
#include "capf/config/admin_routes.hpp"
#include "capf/monitor/monitor_routes.hpp"
#include "capf/overview/overview_routes.hpp"
#include "capf/policy/policy_routes.hpp"
#include "capf/trust/trust_routes.hpp"
#include "cli.hpp"

namespace capf::cli {

void install_admin_modules(admin::AdminService& service, const ModuleContext& ctx) {
  auto& router = service.router();
  router.add(std::make_shared<config::AdminRoutes>(ctx.store, ctx.clock, ctx.params_changed));
  router.add(trust::make_admin_routes(ctx.store, ctx.clock, ctx.trust_changed));
  router.add(offline::make_admin_routes(ctx.store, ctx.clock, ctx.engine));
  router.add(std::make_shared<policy::AdminRoutes>(ctx.store, ctx.clock, ctx.ca_subject));
  service.set_new_device_defaults(policy::new_device_defaults(ctx.store, ctx.clock));
  router.add(std::make_shared<monitor::AdminRoutes>(ctx.store, ctx.clock, ca_dir(ctx.data_dir), ctx.monitor,
                                                    ctx.engine != nullptr));
  router.add(std::make_shared<overview::AdminRoutes>(ctx.store, ctx.clock, ca_dir(ctx.data_dir), ctx.engine));
}

}  // namespace capf::cli
