#include "capf/util/log.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdlib>
#include <mutex>
#include <vector>

#include "capf/util/text.hpp"

namespace capf::util {

namespace {
std::mutex g_mutex;
spdlog::level::level_enum g_level = spdlog::level::info;
// %* is the message with control characters escaped (EscapedMessage), never spdlog's raw %v.
constexpr const char* kPattern = "%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%n] %*";

/// The message text with control characters escaped. Every sink formats through this, so no
/// value in any message — a device name, a CA's text, an HTTP field, an SMTP reply — can end
/// the line early and forge one of its own, whichever logger wrote it.
class EscapedMessage final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    std::string out;
    append_escaped(out, std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(out.data(), out.data() + out.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<EscapedMessage>(); }
};

void set_escaping_pattern(spdlog::sinks::sink& sink, const char* pattern) {
  auto f = std::make_unique<spdlog::pattern_formatter>();
  f->add_flag<EscapedMessage>('*').set_pattern(pattern);
  sink.set_formatter(std::move(f));
}

std::vector<spdlog::sink_ptr>& sinks() {
  static std::vector<spdlog::sink_ptr> s = [] {
    auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    set_escaping_pattern(*console, kPattern);
    return std::vector<spdlog::sink_ptr>{console};
  }();
  return s;
}
}  // namespace

const std::shared_ptr<spdlog::logger>& ModuleLogger::operator()() const {
  std::call_once(once_, [this] { logger_ = logger(module_); });
  return logger_;
}

std::shared_ptr<spdlog::logger> logger(const std::string& module) {
  std::lock_guard lock(g_mutex);
  if (auto existing = spdlog::get(module)) return existing;
  auto l = std::make_shared<spdlog::logger>(module, sinks().begin(), sinks().end());
  l->set_level(g_level);
  spdlog::register_logger(l);
  return l;
}

void set_log_level(const std::string& level) {
  std::lock_guard lock(g_mutex);
  g_level = spdlog::level::from_str(level);
  spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& l) { l->set_level(g_level); });
}

Result<void> configure_log(const LogOptions& o) {
  std::vector<spdlog::sink_ptr> next;
  const bool journal = std::getenv("JOURNAL_STREAM") != nullptr;
  const char* console_pattern = journal ? "%l [%n] %*" : kPattern;
  if (o.console == "stderr") {
    next.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  } else if (o.console == "stdout") {
    next.push_back(std::make_shared<spdlog::sinks::stdout_color_sink_mt>());
  } else if (o.console != "off") {
    return make_error(Errc::invalid_argument, "--log-console must be stderr, stdout or off, got \"" + o.console + "\"");
  }
  for (auto& s : next) set_escaping_pattern(*s, console_pattern);
  if (!o.file.empty()) {
    if (o.max_size < 1024) return make_error(Errc::invalid_argument, "--log-max-size must be at least 1 KiB");
    if (o.max_files < 1 || o.max_files > 1000) return make_error(Errc::invalid_argument, "--log-files must be 1–1000");
    try {
      auto file = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(o.file, o.max_size, o.max_files);
      set_escaping_pattern(*file, kPattern);
      next.push_back(file);
    } catch (const spdlog::spdlog_ex& e) {
      return make_error(Errc::io, "cannot open log file " + o.file + ": " + e.what());
    }
  }
  std::lock_guard lock(g_mutex);
  sinks() = next;
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& l) { l->sinks() = next; });
  return ok();
}

}  // namespace capf::util
