// The admin API's routes of the Offline CA and the external-CA listings (registered through
// admin::Router):
//   POST /v1/offline/export {out, again}           records a round, answers the CSRs to write
//   POST /v1/offline/import {files:[{name,data}]}  imports signed certificates
//   GET  /v1/offline/rounds
//   GET  /v1/csrs?state=pending|all|<state>
//   GET  /v1/stale-lscs, POST /v1/stale-lscs/delete {all:true}
#pragma once

#include <memory>

#include "capf/admin/router.hpp"
#include "capf/engine/engine.hpp"
#include "capf/store/store.hpp"
#include "capf/util/time.hpp"

namespace capf::offline {

/// The Offline CA's routes. `engine` is the daemon's job engine, told about devices whose
/// certificate an import brought; null in the CLI's in-process mode.
std::shared_ptr<admin::RouteModule> make_admin_routes(store::Store& store, const util::Clock& clock,
                                                      engine::Engine* engine);

}  // namespace capf::offline
