#include "capf/util/contain.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "capf/util/log.hpp"
#include "capf/util/metrics.hpp"
#include "capf/util/text.hpp"

namespace capf::util {

std::string describe(const std::exception_ptr& e) {
  if (!e) return "no exception";
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
    return "unknown exception";
  }
}

void report_contained(std::string_view boundary, std::string_view what, const std::exception_ptr& e) noexcept {
  try {
    metrics::Registry::global()
        .counter("capf_contained_exceptions_total",
                 "Exceptions caught at a thread-pool, coroutine or handler boundary; each ended only its own work",
                 {{"boundary", std::string(boundary)}})
        .inc();
    logger("capf")->error("{} failed: {} (contained at the {} boundary; the daemon goes on)", what, describe(e),
                          boundary);
  } catch (...) {
    // Logging itself failed (out of memory): there is nothing safer left to do.
  }
}

namespace {

// Armed faults: "point" or "point=subject" entries, each firing once.
std::atomic<bool> g_armed{false};
std::mutex g_faults_mutex;
std::vector<std::string> g_faults;

void arm(std::string_view spec) {
  std::lock_guard lock(g_faults_mutex);
  g_faults.clear();
  for (auto& e : split(spec, ','))
    if (!e.empty()) g_faults.push_back(std::move(e));
  g_armed = !g_faults.empty();
}

void arm_from_environment() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (const char* env = std::getenv("CAPF_FAULT_FOR_TEST"); env != nullptr) arm(env);
  });
}

}  // namespace

void arm_faults_for_test(std::string_view spec) {
  arm_from_environment();  // so that a later first call does not replace these
  arm(spec);
}

void fault_point_for_test(std::string_view point, std::string_view subject) {
  arm_from_environment();
  if (!g_armed.load(std::memory_order_relaxed)) return;
  {
    std::lock_guard lock(g_faults_mutex);
    auto hit = std::find_if(g_faults.begin(), g_faults.end(), [&](const std::string& e) {
      const auto eq = e.find('=');
      if (std::string_view(e).substr(0, eq) != point) return false;
      return eq == std::string::npos || std::string_view(e).substr(eq + 1) == subject;
    });
    if (hit == g_faults.end()) return;
    g_faults.erase(hit);
  }
  throw std::runtime_error("injected fault at " + std::string(point) +
                           (subject.empty() ? "" : " (" + escape_control(subject) + ")"));
}

}  // namespace capf::util
