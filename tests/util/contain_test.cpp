// The containment helpers every boundary of the daemon uses, and the fault seam the boundary
// tests arm (tests/integration/containment_test.cpp throws through each boundary of a daemon).
#include <gtest/gtest.h>

#include <stdexcept>

#include "capf/util/contain.hpp"
#include "capf/util/metrics.hpp"

using namespace capf::util;

namespace {

double contained(const std::string& boundary) {
  return metrics::Registry::global()
      .counter("capf_contained_exceptions_total", "", {{"boundary", boundary}})
      .value();
}

TEST(Contain, SwallowsAndCountsWhatTheWorkThrows) {
  const double before = contained("task");
  EXPECT_TRUE(contain("task", "work that ends well", [] {}));
  EXPECT_FALSE(contain("task", "work that throws", [] { throw std::runtime_error("boom"); }));
  EXPECT_FALSE(contain("task", "work that throws a non-exception", [] { throw 42; }));
  EXPECT_EQ(contained("task"), before + 2);
  EXPECT_EQ(describe(std::make_exception_ptr(std::logic_error("why"))), "why");
  EXPECT_EQ(describe(std::make_exception_ptr(7)), "unknown exception");
}

TEST(Contain, ArmedFaultsFireOnceAtTheirPointAndSubject) {
  arm_faults_for_test("alpha,beta=SEP1");
  EXPECT_NO_THROW(fault_point_for_test("gamma"));
  EXPECT_NO_THROW(fault_point_for_test("beta", "SEP2"));
  EXPECT_THROW(fault_point_for_test("beta", "SEP1"), std::runtime_error);
  EXPECT_NO_THROW(fault_point_for_test("beta", "SEP1"));  // spent
  try {
    fault_point_for_test("alpha", "anything\nforged");
    ADD_FAILURE() << "alpha did not fire";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "injected fault at alpha (anything\\nforged)");
  }
  EXPECT_NO_THROW(fault_point_for_test("alpha"));
  arm_faults_for_test("");
}

}  // namespace
