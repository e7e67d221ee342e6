// One named spdlog logger per module, with key=value fields in messages.
// Never pass authentication strings, private keys or CA passwords to a logger.
#pragma once

#include <spdlog/spdlog.h>

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>

#include "capf/util/result.hpp"

namespace capf::util {

/// The logger for a module ("server", "store", ...), created on first use.
std::shared_ptr<spdlog::logger> logger(const std::string& module);

/// A module's logger for the file that names it once, at namespace scope:
///   const util::ModuleLogger log{"engine"};   …   log()->info("job={} …", id);
/// Looked up on first use (so after configure_log, whatever the order of static
/// initialisation) and kept, so a log line costs no registry lookup.
class ModuleLogger {
 public:
  constexpr explicit ModuleLogger(const char* module) : module_(module) {}
  const std::shared_ptr<spdlog::logger>& operator()() const;

 private:
  const char* module_;
  mutable std::once_flag once_;
  mutable std::shared_ptr<spdlog::logger> logger_;
};

/// Sets the level of every capf logger ("trace" … "off").
void set_log_level(const std::string& level);

/// Where the daemon's log lines go. Every logger, existing and future, writes to these sinks.
struct LogOptions {
  std::string console = "stderr";                ///< "stderr", "stdout" or "off"; journald takes either under systemd
  std::string file;                              ///< also a rotating file when not empty
  std::size_t max_size = std::size_t{10} << 20;  ///< bytes per file before it rotates
  std::size_t max_files = 5;                     ///< rotated files kept (capf.log.1 … capf.log.N)
};

/// Replaces the sinks of every logger. Under systemd (JOURNAL_STREAM set) console lines carry
/// no timestamp, since the journal adds its own. Fails with a clear message when the file
/// cannot be opened or an option is out of range.
Result<void> configure_log(const LogOptions& options);

}  // namespace capf::util
