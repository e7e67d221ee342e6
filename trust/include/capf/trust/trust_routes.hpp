// The admin API's routes of the trust stores (registered through admin::Router):
//   GET  /v1/trust[?store=capf-trust|callmanager-trust]   the entries
//   POST /v1/trust {store, data (base64), file, description}   upload a PEM/DER bundle
//   POST /v1/trust/{id}/delete[?store=…]                  delete an entry
#pragma once

#include <functional>
#include <memory>

#include "capf/admin/router.hpp"
#include "capf/store/store.hpp"
#include "capf/util/time.hpp"

namespace capf::trust {

/// The trust stores' routes. `capf_trust_changed` runs after CAPF-trust changed (upload,
/// delete), so the daemon rebuilds the trust store its enrollment service verifies against;
/// empty in the CLI's in-process mode.
std::shared_ptr<admin::RouteModule> make_admin_routes(store::Store& store, const util::Clock& clock,
                                                      std::function<void()> capf_trust_changed = {});

}  // namespace capf::trust
