// The table of service parameters: each parameter's description (ParamInfo) with how it is
// read from and written into ServiceParams, and the checks of its text. params.cpp reads and
// changes parameters through it.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "capf/config/params.hpp"

namespace capf::config::detail {

using Getter = std::string (*)(const ServiceParams&);
using Setter = void (*)(ServiceParams&, const std::string&);

/// A parameter with how to read and write it in ServiceParams. `aliases` maps accepted
/// spellings of a choice to its canonical value.
struct Entry {
  ParamInfo info;
  Getter get;
  Setter set;
  std::vector<std::pair<std::string_view, std::string_view>> aliases;
  std::function<Result<void>(const std::string&)> check;  ///< extra text checks; may be empty
};

/// Every parameter, in the order `capf config list` shows them.
const std::vector<Entry>& entries();

}  // namespace capf::config::detail
