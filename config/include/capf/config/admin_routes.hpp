// Admin API routes of the service parameters:
//   GET  /v1/config                 every parameter with value (secrets "(set)"/"(not set)"), default, range, unit
//   GET  /v1/config/NAME            one parameter
//   POST /v1/config/NAME            {"value": "..."} sets it (validated); {"reset": true} restores the default
// Every change is one synced write with an audit entry "config.set" (no secret values), then
// `on_change` runs with the new parameters (the daemon applies them live).
#pragma once

#include <functional>
#include <mutex>

#include "capf/admin/admin_service.hpp"
#include "capf/config/params.hpp"
#include "capf/util/time.hpp"

namespace capf::config {

class AdminRoutes : public admin::RouteModule {
 public:
  AdminRoutes(store::Store& store, const util::Clock& clock, std::function<void(const ServiceParams&)> on_change = {});
  std::optional<admin::Response> handle(const admin::Request& r, const std::string& path, const std::string& query) override;

 private:
  admin::Response list();
  admin::Response get(const std::string& name);
  admin::Response set(const admin::Request& r, const std::string& name);

  store::Store& store_;
  const util::Clock& clock_;
  std::function<void(const ServiceParams&)> on_change_;
  std::mutex mutex_;  ///< read-modify-write of the parameters document
};

/// JSON view of one parameter with its current value (never a secret's value).
nlohmann::json param_json(const ParamInfo& info, const ServiceParams& p);

}  // namespace capf::config
