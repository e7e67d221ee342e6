#include "modules.hpp"

#include "capf/config/admin_routes.hpp"
#include "capf/policy/routes.hpp"
#include "capf/monitor/routes.hpp"
#include "capf/overview/routes.hpp"
#include "cli.hpp"

namespace capf::cli {

void install_admin_modules(admin::AdminService& service, const ModuleContext& ctx) {
  service.add_module(std::make_shared<config::AdminRoutes>(ctx.store, ctx.clock, ctx.params_changed));
  service.add_module(make_trust_routes(ctx));
  service.add_module(make_offline_routes(ctx));
  service.add_module(std::make_shared<policy::AdminRoutes>(ctx.store, ctx.clock, ctx.ca_subject));
  service.set_new_device_defaults(policy::new_device_defaults(ctx.store, ctx.clock));
  service.add_module(std::make_shared<monitor::AdminRoutes>(ctx.store, ctx.clock, ca_dir(ctx.data_dir), ctx.monitor,
                                                            ctx.engine != nullptr));
  service.add_module(std::make_shared<overview::AdminRoutes>(ctx.store, ctx.clock, ca_dir(ctx.data_dir), ctx.engine));
}

}  // namespace capf::cli
