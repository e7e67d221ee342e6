// One named spdlog logger per module, with key=value fields in messages.
// Never pass authentication strings, private keys or CA passwords to a logger.
#pragma once

#include <memory>
#include <string>

#include <spdlog/spdlog.h>

namespace capf::util {

/// The logger for a module ("server", "store", ...), created on first use.
std::shared_ptr<spdlog::logger> logger(const std::string& module);

/// Sets the level of every capf logger ("trace" … "off").
void set_log_level(const std::string& level);

}  // namespace capf::util
