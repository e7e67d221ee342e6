// Records every fsync() the process makes (fsync_probe.cpp defines fsync itself, which then
// calls the C library's), so a test can see which directories were synced and what they held
// at that moment.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace capf::test {

/// One fsync: whether the descriptor was a directory, its device and inode.
struct FsyncCall {
  bool directory = false;
  unsigned long device = 0;
  unsigned long inode = 0;
  std::string note;  ///< what on_fsync returned at the time of the call
};

/// The calls since the last clear (thread-safe).
std::vector<FsyncCall> fsync_calls();
void clear_fsync_calls();
/// Called at each fsync of a directory, before it is synced; its result lands in FsyncCall::note.
void on_directory_fsync(std::function<std::string()> fn);

}  // namespace capf::test
