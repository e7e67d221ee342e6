// The dashboard's pages and files, compiled into the binary from web/assets/.
#pragma once

#include <string_view>
#include <vector>

namespace capf::web {

/// A page or file built into the binary.
struct Asset {
  std::string_view path;          ///< "/index.html"
  std::string_view content_type;  ///< "text/html; charset=utf-8"
  std::string_view data;
};
/// Every asset (generated from web/assets/ at build time).
const std::vector<Asset>& assets();

}  // namespace capf::web
