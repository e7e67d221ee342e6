// GET /v1/overview: what the dashboard's landing page shows. The fleet by LSC status and by
// issuer and the LSC expiry histogram (fleet_figures.hpp), each figure with its device query; the
// nights ahead from every active renewal policy's forecast (the planning function of `capf
// policy forecast`) against each night's capacity; the unfinished jobs; and the expiry dates
// of the CAPF CA, the retired CAPF CAs and the trust store entries, the nearest one named.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "capf/admin/admin_service.hpp"
#include "capf/engine/engine.hpp"
#include "capf/store/store.hpp"
#include "capf/util/time.hpp"

namespace capf::overview {

/// Days of nights the overview plans ahead.
inline constexpr int kNightsAhead = 30;

class AdminRoutes final : public admin::RouteModule {
 public:
  /// `ca_dir` holds capf-ca.pem and retired/; `engine` is null in the CLI's in-process mode
  /// (no jobs are shown then).
  AdminRoutes(store::Store& store, const util::Clock& clock, std::string ca_dir, engine::Engine* engine);
  std::optional<admin::Response> handle(const admin::Request& r, const std::string& path,
                                        const std::string& query) override;

 private:
  store::Store& store_;
  const util::Clock& clock_;
  std::string ca_dir_;
  engine::Engine* engine_;
};

/// The overview at `now` (the body of GET /v1/overview).
Result<nlohmann::json> overview_json(const store::Store& store, const std::string& ca_dir, engine::Engine* engine,
                                     util::UnixTime now);

}  // namespace capf::overview
