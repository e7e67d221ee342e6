// Tests that need an outside tool (a real `cfssl serve`, chromium) skip without it on a
// developer's machine, but fail where CI runs: .ci/run sets CAPF_CI=1, and there a missing
// tool is a broken environment, never a silent pass.
#pragma once

#include <cstdlib>
#include <string_view>

#include <gtest/gtest.h>

namespace capf::test {

/// True where CI runs (CAPF_CI=1): every tool a test needs must be there.
inline bool ci_requires_every_tool() {
  const char* v = std::getenv("CAPF_CI");
  return v != nullptr && std::string_view(v) == "1";
}

}  // namespace capf::test

/// Skips the test with `message` (why the tool is missing), or fails it under CAPF_CI=1.
#define CAPF_SKIP_UNLESS_CI(message)                                                              \
  do {                                                                                            \
    if (::capf::test::ci_requires_every_tool()) FAIL() << message << " (CAPF_CI=1: a missing tool fails)"; \
    GTEST_SKIP() << message;                                                                      \
  } while (0)
