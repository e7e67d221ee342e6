// The admin API of templates and policies: /v1/templates, /v1/policies,
// /v1/policies/NAME/forecast. Works in the daemon and in the CLI's in-process mode alike
// (it only reads and writes the store; the daemon's evaluator picks changes up on its next run).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "capf/admin/admin_service.hpp"
#include "capf/policy/plan.hpp"
#include "capf/policy/policy.hpp"
#include "capf/policy/template.hpp"
#include "capf/store/store.hpp"

namespace capf::policy {

class AdminRoutes final : public admin::RouteModule {
 public:
  AdminRoutes(store::Store& store, const util::Clock& clock, std::string ca_subject);
  std::optional<admin::Response> handle(const admin::Request& r, const std::string& path,
                                        const std::string& query) override;

 private:
  admin::Response create_template(const admin::Request& r);
  admin::Response delete_template(const admin::Request& r, const std::string& name);
  admin::Response create_policy(const admin::Request& r);
  admin::Response show_policy(const std::string& name);
  admin::Response set_paused(const admin::Request& r, const std::string& name, bool paused);
  admin::Response delete_policy(const admin::Request& r, const std::string& name);
  admin::Response forecast(const std::string& name, const std::string& query);

  store::Store& store_;
  const util::Clock& clock_;
  std::string ca_subject_;
  std::mutex mutex_;
};

/// JSON views.
nlohmann::json template_json(const DeviceTemplate& t);
nlohmann::json policy_json(const Policy& p);
/// The forecast of a policy over `days` from `now`, as the API answers it.
Result<nlohmann::json> forecast_json(const store::Store& store, const Policy& p, const std::string& ca_subject,
                                     util::UnixTime now, int days);

}  // namespace capf::policy
