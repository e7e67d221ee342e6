// A small thread-safe metrics registry (counters, gauges, histograms with labels) and its
// Prometheus text exposition (format 0.0.4), served as /metrics on the admin API. Record with
// the references a family hands out (cache them: the lookup takes a lock, the update does not);
// figures that live elsewhere (job queues) are read at scrape time by a collector.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace capf::util::metrics {

/// Label pairs in a fixed order, e.g. {{"ca", "microsoft"}, {"outcome", "issued"}}. Keep every
/// label's set of values small and fixed (never a device name, serial or free text).
using Labels = std::vector<std::pair<std::string, std::string>>;

/// A value that only goes up.
class Counter {
 public:
  void inc(double by = 1) { v_.fetch_add(by, std::memory_order_relaxed); }
  double value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0};
};

/// A value that goes up and down.
class Gauge {
 public:
  void set(double v) { v_.store(v, std::memory_order_relaxed); }
  void inc(double by = 1) { v_.fetch_add(by, std::memory_order_relaxed); }
  void dec(double by = 1) { v_.fetch_sub(by, std::memory_order_relaxed); }
  double value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0};
};

/// Observations counted into fixed buckets (upper bounds, ascending), with their sum.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double v);
  const std::vector<double>& bounds() const { return bounds_; }
  /// Per-bucket (not cumulative) counts; the last one is +Inf.
  std::vector<std::uint64_t> counts() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }
  std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;
  std::atomic<double> sum_{0};
  std::atomic<std::uint64_t> count_{0};
};

/// One sample a collector reports at scrape time.
struct Sample {
  Labels labels;
  double value = 0;
};

class Registry;

/// Removes its collector from the registry when destroyed.
class Collection {
 public:
  Collection() = default;
  Collection(Registry* r, std::uint64_t id) : registry_(r), id_(id) {}
  Collection(Collection&& o) noexcept : registry_(std::exchange(o.registry_, nullptr)), id_(o.id_) {}
  Collection& operator=(Collection&& o) noexcept;
  Collection(const Collection&) = delete;
  Collection& operator=(const Collection&) = delete;
  ~Collection();

 private:
  Registry* registry_ = nullptr;
  std::uint64_t id_ = 0;
};

/// Metric families by name. Asking for an existing name with another type throws
/// std::logic_error (a programming mistake).
class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;
  /// The process-wide registry that /metrics exposes.
  static Registry& global();

  Counter& counter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge& gauge(const std::string& name, const std::string& help, const Labels& labels = {});
  Histogram& histogram(const std::string& name, const std::string& help, const std::vector<double>& bounds,
                       const Labels& labels = {});
  /// Declares a family with no series yet, so its HELP/TYPE appear before the first sample.
  void describe(const std::string& name, const std::string& help, const std::string& type);

  /// `fn` runs at every scrape and reports the family's samples (type "gauge" or "counter");
  /// the family has only what `fn` returns. Keep the handle as long as `fn` may run.
  [[nodiscard]] Collection collect(const std::string& name, const std::string& help, const std::string& type,
                                   std::function<std::vector<Sample>()> fn);

  /// Every family in the Prometheus text format, sorted by name.
  std::string expose() const;

 private:
  friend class Collection;
  void remove_collector(std::uint64_t id);
  struct Family;
  Family& family(const std::string& name, const std::string& help, const std::string& type);

  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Family>> families_;
  std::uint64_t next_id_ = 1;
};

/// Escapes a label value for the text format (\\, \", \n).
std::string escape_label(const std::string& v);
/// A sample value as the text format writes it ("3", "0.25", "+Inf", "NaN").
std::string format_value(double v);

// capf's own metrics, named in one place so every layer records into the same families.

/// Buckets of capf_ca_latency_seconds.
const std::vector<double>& ca_latency_buckets();
/// One request to an external CA ended: `outcome` is one of issued, pending, denied, error.
void ca_request(const std::string& ca, const std::string& outcome, double seconds);
/// An external CA error by class: auth, tls, connect, timeout, http, parse, denied, other.
void ca_error(const std::string& ca, const std::string& error_class);
/// Declares the capf_* families so a scrape lists them even before their first sample.
void describe_capf_metrics();

}  // namespace capf::util::metrics
