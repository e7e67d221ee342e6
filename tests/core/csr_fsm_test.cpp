// The CSR state machine as a table: every (state, event) pair, and where it goes or that it
// is refused.
#include <gtest/gtest.h>

#include <map>

#include "capf/core/csr.hpp"

namespace capf {
namespace {

using S = CsrState;
using E = CsrEvent;

}  // namespace

TEST(CsrFsm, Table) {
  // state → event → next ("-" refused)
  const std::map<S, std::map<E, const char*>> table = {
      {S::pending, {{E::sending, "submitting"}, {E::held, "-"}, {E::retry, "-"}, {E::issued, "issued"},
                    {E::rejected, "rejected"}, {E::delivered, "-"}, {E::superseded, "stale"}}},
      {S::submitting, {{E::sending, "-"}, {E::held, "submitted"}, {E::retry, "pending"}, {E::issued, "issued"},
                       {E::rejected, "rejected"}, {E::delivered, "-"}, {E::superseded, "stale"}}},
      {S::submitted, {{E::sending, "-"}, {E::held, "submitted"}, {E::retry, "submitted"}, {E::issued, "issued"},
                      {E::rejected, "rejected"}, {E::delivered, "-"}, {E::superseded, "stale"}}},
      {S::issued, {{E::sending, "-"}, {E::held, "-"}, {E::retry, "-"}, {E::issued, "-"}, {E::rejected, "-"},
                   {E::delivered, "delivered"}, {E::superseded, "stale"}}},
      {S::delivered, {{E::sending, "-"}, {E::held, "-"}, {E::retry, "-"}, {E::issued, "-"}, {E::rejected, "-"},
                      {E::delivered, "-"}, {E::superseded, "-"}}},
      {S::rejected, {{E::sending, "-"}, {E::held, "-"}, {E::retry, "-"}, {E::issued, "-"}, {E::rejected, "-"},
                     {E::delivered, "-"}, {E::superseded, "-"}}},
      {S::stale, {{E::sending, "-"}, {E::held, "-"}, {E::retry, "-"}, {E::issued, "-"}, {E::rejected, "-"},
                  {E::delivered, "-"}, {E::superseded, "-"}}},
  };
  for (const auto& [from, events] : table) {
    for (const auto& [event, to] : events) {
      SCOPED_TRACE(std::string(to_string(from)) + " + " + std::string(to_string(event)));
      auto next = next_csr_state(from, event);
      if (std::string(to) == "-") {
        ASSERT_FALSE(next.ok());
        EXPECT_EQ(next.error().message,
                  "a " + std::string(to_string(from)) + " CSR cannot be " + std::string(to_string(event)));
      } else {
        ASSERT_TRUE(next.ok()) << next.error().message;
        EXPECT_EQ(to_string(*next), to);
      }
    }
  }
}

TEST(CsrFsm, AFinalCsrNeverMovesAgain) {
  for (S s : {S::delivered, S::rejected, S::stale})
    for (E e : {E::sending, E::held, E::retry, E::issued, E::rejected, E::delivered, E::superseded})
      EXPECT_FALSE(next_csr_state(s, e).ok()) << to_string(s) << " " << to_string(e);
}

}  // namespace capf
