// The enrollment bench's core split: the daemon's threads on one half of the cores, the
// simulator's on the other, read back from the kernel.
#include "capf/bench/cores.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>

#include "capf/util/process.hpp"

using namespace capf::bench;

TEST(Cores, SplitCoversTheAllowedCoresInTwoDisjointHalves) {
  const auto all = cores_of(0);
  ASSERT_FALSE(all.empty());
  const CoreSplit s = split_cores();
  if (all.size() < 2) {
    EXPECT_FALSE(s.split());
    EXPECT_EQ(s.describe(), "daemon and simulator share the one core");
    return;
  }
  ASSERT_TRUE(s.split());
  std::vector<int> both = s.daemon;
  both.insert(both.end(), s.simulator.begin(), s.simulator.end());
  EXPECT_EQ(both, all) << "first half the daemon's, the rest the simulator's, none twice";
  EXPECT_EQ(s.daemon.size(), all.size() / 2);
  EXPECT_NE(s.describe().find("daemon on CPU " + std::to_string(all.front())), std::string::npos) << s.describe();
}

TEST(Cores, PinProcessPutsEveryThreadOfAChildOnTheCoresGiven) {
  const auto all = cores_of(0);
  ASSERT_FALSE(all.empty());
  capf::util::ChildProcess child({{"sleep", "30"}, "", ""});
  const std::vector<int> one{all.back()};
  EXPECT_EQ(pin_process(child.pid(), one), "");
  EXPECT_EQ(cores_of(child.pid()), one);
  child.stop();
  // A process that is gone: the error names what could not be read.
  EXPECT_NE(pin_process(999'999'999, one), "");
}

TEST(Cores, ThreadOnCoresHoldsForItsScopeAndItsNewThreadsThenGivesBack) {
  const auto all = cores_of(0);
  ASSERT_FALSE(all.empty());
  const std::vector<int> one{all.front()};
  std::vector<int> inside, started, after;
  std::thread t([&] {
    {
      const ThreadOnCores on(one);
      inside = cores_of(0);
      std::thread([&] { started = cores_of(0); }).join();
    }
    after = cores_of(0);
  });
  t.join();
  EXPECT_EQ(inside, one);
  EXPECT_EQ(started, one) << "a thread started inside the scope inherits the set";
  EXPECT_EQ(after, all);
}

TEST(Cores, ACoreTheMachineLacksIsRefusedWithItsNumber) {
  const std::vector<int> missing{1023};  // no CPU 1023 here: sched_setaffinity says EINVAL
  try {
    const ThreadOnCores on(missing);
    FAIL() << "no error for CPU 1023";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("CPU 1023"), std::string::npos) << e.what();
  }
  const auto all = cores_of(0);
  EXPECT_FALSE(all.empty()) << "the thread keeps the cores it had";
  capf::util::ChildProcess child({{"sleep", "30"}, "", ""});
  EXPECT_NE(pin_process(child.pid(), missing).find("sched_setaffinity"), std::string::npos);
}
