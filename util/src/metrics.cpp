#include "capf/util/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace capf::util::metrics {

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  std::sort(bounds_.begin(), bounds_.end());
  buckets_ = std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1);
  for (std::size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::observe(double v) {
  const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);  // first bound >= v: "le"
  buckets_[static_cast<std::size_t>(it - bounds_.begin())].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<std::uint64_t> Histogram::counts() const {
  std::vector<std::uint64_t> out(bounds_.size() + 1);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = buckets_[i].load(std::memory_order_relaxed);
  return out;
}

struct Registry::Family {
  std::string help;
  std::string type;  // counter, gauge, histogram
  std::map<Labels, std::unique_ptr<Counter>> counters;
  std::map<Labels, std::unique_ptr<Gauge>> gauges;
  std::map<Labels, std::unique_ptr<Histogram>> histograms;
  std::map<std::uint64_t, std::function<std::vector<Sample>()>> collectors;
};

Registry::Registry() = default;
Registry::~Registry() = default;

Collection& Collection::operator=(Collection&& o) noexcept {
  if (this != &o) {
    if (registry_) registry_->remove_collector(id_);
    registry_ = std::exchange(o.registry_, nullptr);
    id_ = o.id_;
  }
  return *this;
}

Collection::~Collection() {
  if (registry_) registry_->remove_collector(id_);
}

Registry& Registry::global() {
  static Registry r;
  return r;
}

Registry::Family& Registry::family(const std::string& name, const std::string& help, const std::string& type) {
  auto& f = families_[name];
  if (!f) {
    f = std::make_unique<Family>();
    f->help = help;
    f->type = type;
  } else if (f->type != type) {
    throw std::logic_error("metric " + name + " is a " + f->type + ", not a " + type);
  }
  if (f->help.empty()) f->help = help;
  return *f;
}

Counter& Registry::counter(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mutex_);
  auto& slot = family(name, help, "counter").counters[labels];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}

Gauge& Registry::gauge(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mutex_);
  auto& slot = family(name, help, "gauge").gauges[labels];
  if (!slot) slot = std::make_unique<Gauge>();
  return *slot;
}

Histogram& Registry::histogram(const std::string& name, const std::string& help, const std::vector<double>& bounds,
                               const Labels& labels) {
  std::lock_guard lock(mutex_);
  auto& slot = family(name, help, "histogram").histograms[labels];
  if (!slot) slot = std::make_unique<Histogram>(bounds);
  return *slot;
}

void Registry::describe(const std::string& name, const std::string& help, const std::string& type) {
  std::lock_guard lock(mutex_);
  family(name, help, type);
}

Collection Registry::collect(const std::string& name, const std::string& help, const std::string& type,
                             std::function<std::vector<Sample>()> fn) {
  std::lock_guard lock(mutex_);
  const auto id = next_id_++;
  family(name, help, type).collectors[id] = std::move(fn);
  return Collection(this, id);
}

void Registry::remove_collector(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  for (auto& [name, f] : families_) f->collectors.erase(id);
}

std::string escape_label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out.push_back(c);
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  std::string text;
  for (int precision = 15; precision <= 17; ++precision) {  // the shortest text that reads back the same
    text = fmt::format("{:.{}g}", v, precision);
    if (std::strtod(text.c_str(), nullptr) == v) break;
  }
  return text;
}

namespace {
std::string series(const std::string& name, const Labels& labels, const std::string& extra_key = "",
                   const std::string& extra_value = "") {
  std::string out = name;
  if (labels.empty() && extra_key.empty()) return out;
  out += '{';
  bool first = true;
  for (const auto& [k, v] : labels) {
    out += (first ? "" : ",") + k + "=\"" + escape_label(v) + "\"";
    first = false;
  }
  if (!extra_key.empty()) out += (first ? "" : ",") + extra_key + "=\"" + extra_value + "\"";
  out += '}';
  return out;
}

std::string escape_help(const std::string& h) {
  std::string out;
  for (char c : h) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out.push_back(c);
  }
  return out;
}
}  // namespace

std::string Registry::expose() const {
  // Collectors may take locks of their own (the engine's): copy them out and run them unlocked.
  std::vector<std::pair<std::string, std::function<std::vector<Sample>()>>> collectors;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [name, f] : families_)
      for (const auto& [id, fn] : f->collectors) collectors.emplace_back(name, fn);
  }
  std::map<std::string, std::vector<Sample>> collected;
  for (const auto& [name, fn] : collectors) {
    auto samples = fn();
    auto& into = collected[name];
    into.insert(into.end(), std::make_move_iterator(samples.begin()), std::make_move_iterator(samples.end()));
  }

  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& [name, f] : families_) {
    out += "# HELP " + name + " " + escape_help(f->help) + "\n";
    out += "# TYPE " + name + " " + f->type + "\n";
    for (const auto& [labels, c] : f->counters) out += series(name, labels) + " " + format_value(c->value()) + "\n";
    for (const auto& [labels, g] : f->gauges) out += series(name, labels) + " " + format_value(g->value()) + "\n";
    for (const auto& [labels, h] : f->histograms) {
      const auto counts = h->counts();
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i < counts.size(); ++i) {
        cumulative += counts[i];
        const std::string le = i < h->bounds().size() ? format_value(h->bounds()[i]) : "+Inf";
        out += series(name + "_bucket", labels, "le", le) + " " + std::to_string(cumulative) + "\n";
      }
      out += series(name + "_sum", labels) + " " + format_value(h->sum()) + "\n";
      out += series(name + "_count", labels) + " " + std::to_string(h->count()) + "\n";
    }
    if (auto it = collected.find(name); it != collected.end())
      for (const auto& s : it->second) out += series(name, s.labels) + " " + format_value(s.value) + "\n";
  }
  return out;
}

const std::vector<double>& ca_latency_buckets() {
  static const std::vector<double> b{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  return b;
}

void ca_request(const std::string& ca, const std::string& outcome, double seconds) {
  auto& r = Registry::global();
  r.counter("capf_ca_requests_total", "requests to an external CA by outcome (issued, pending, denied, error)",
            {{"ca", ca}, {"outcome", outcome}})
      .inc();
  r.histogram("capf_ca_latency_seconds", "time one request to an external CA took", ca_latency_buckets(), {{"ca", ca}})
      .observe(seconds);
}

void ca_error(const std::string& ca, const std::string& error_class) {
  Registry::global()
      .counter("capf_ca_errors_total",
               "external CA errors by class (auth, tls, connect, timeout, http, parse, denied, other)",
               {{"ca", ca}, {"class", error_class}})
      .inc();
}

void describe_capf_metrics() {
  auto& r = Registry::global();
  r.describe("capf_ca_requests_total", "requests to an external CA by outcome (issued, pending, denied, error)",
             "counter");
  r.describe("capf_ca_errors_total",
             "external CA errors by class (auth, tls, connect, timeout, http, parse, denied, other)", "counter");
  r.describe("capf_ca_latency_seconds", "time one request to an external CA took", "histogram");
}

}  // namespace capf::util::metrics
