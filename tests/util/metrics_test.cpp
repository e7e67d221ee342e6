// The metrics registry: counters, gauges, histograms with labels, collectors, and the
// Prometheus text format.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "capf/util/metrics.hpp"

namespace capf::util::metrics {
namespace {

TEST(Metrics, CountersAndGaugesWithLabelsInTextFormat) {
  Registry r;
  r.counter("x_total", "things", {{"kind", "a"}}).inc();
  r.counter("x_total", "things", {{"kind", "a"}}).inc(2);
  r.counter("x_total", "things", {{"kind", "b\"q"}}).inc();
  r.gauge("y", "level").set(4.5);
  const auto text = r.expose();
  EXPECT_NE(text.find("# HELP x_total things\n# TYPE x_total counter\n"), std::string::npos) << text;
  EXPECT_NE(text.find("x_total{kind=\"a\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("x_total{kind=\"b\\\"q\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE y gauge\ny 4.5\n"), std::string::npos) << text;
  EXPECT_THROW(r.gauge("x_total", "wrong type"), std::logic_error);
}

TEST(Metrics, HistogramBucketsAreCumulative) {
  Registry r;
  auto& h = r.histogram("lat_seconds", "latency", {0.1, 1, 10}, {{"ca", "m"}});
  for (double v : {0.05, 0.1, 0.5, 5.0, 50.0}) h.observe(v);
  const auto text = r.expose();
  EXPECT_NE(text.find("lat_seconds_bucket{ca=\"m\",le=\"0.1\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_bucket{ca=\"m\",le=\"1\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_bucket{ca=\"m\",le=\"10\"} 4\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_bucket{ca=\"m\",le=\"+Inf\"} 5\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_count{ca=\"m\"} 5\n"), std::string::npos) << text;
  EXPECT_DOUBLE_EQ(h.sum(), 0.05 + 0.1 + 0.5 + 5.0 + 50.0);
  EXPECT_NE(text.find("lat_seconds_sum{ca=\"m\"} 55.6"), std::string::npos) << text;
}

TEST(Metrics, CollectorsRunAtScrapeAndGoAwayWithTheirHandle) {
  Registry r;
  int depth = 3;
  {
    auto c = r.collect("q_depth", "queue", "gauge", [&] { return std::vector<Sample>{{{{"job", "J1"}}, double(depth)}}; });
    EXPECT_NE(r.expose().find("q_depth{job=\"J1\"} 3\n"), std::string::npos);
    depth = 7;
    EXPECT_NE(r.expose().find("q_depth{job=\"J1\"} 7\n"), std::string::npos);
  }
  EXPECT_EQ(r.expose().find("q_depth{"), std::string::npos);
  EXPECT_NE(r.expose().find("# TYPE q_depth gauge"), std::string::npos) << "the family stays declared";
}

TEST(Metrics, ConcurrentUpdatesAreNotLost) {
  Registry r;
  auto& c = r.counter("n_total", "n");
  auto& h = r.histogram("h", "h", {1});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        c.inc();
        h.observe(0.5);
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.value(), 40000);
  EXPECT_EQ(h.count(), 40000u);
}

TEST(Metrics, CapfCaHelpersRecordIntoTheGlobalRegistry) {
  ca_request("microsoft", "issued", 0.2);
  ca_error("microsoft", "timeout");
  const auto text = Registry::global().expose();
  EXPECT_NE(text.find("capf_ca_requests_total{ca=\"microsoft\",outcome=\"issued\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("capf_ca_errors_total{ca=\"microsoft\",class=\"timeout\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("capf_ca_latency_seconds_bucket{ca=\"microsoft\",le=\"0.25\"} 1"), std::string::npos) << text;
}

}  // namespace
}  // namespace capf::util::metrics
