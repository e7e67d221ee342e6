#include "fsync_probe.hpp"

#include <dlfcn.h>
#include <sys/stat.h>

#include <mutex>

namespace capf::test {
namespace {

std::mutex& mutex() {
  static std::mutex m;
  return m;
}
std::vector<FsyncCall>& calls() {
  static std::vector<FsyncCall> c;
  return c;
}
std::function<std::string()>& hook() {
  static std::function<std::string()> h;
  return h;
}

}  // namespace

std::vector<FsyncCall> fsync_calls() {
  std::lock_guard lock(mutex());
  return calls();
}

void clear_fsync_calls() {
  std::lock_guard lock(mutex());
  calls().clear();
}

void on_directory_fsync(std::function<std::string()> fn) {
  std::lock_guard lock(mutex());
  hook() = std::move(fn);
}

}  // namespace capf::test

// The executable's own fsync comes before the C library's for every caller in it (the util
// library is linked statically), so each call is seen; the real one still does the work.
extern "C" int fsync(int fd) {
  using Real = int (*)(int);
  static const Real real = reinterpret_cast<Real>(::dlsym(RTLD_NEXT, "fsync"));
  struct stat st {};
  if (::fstat(fd, &st) == 0) {
    capf::test::FsyncCall call{S_ISDIR(st.st_mode), static_cast<unsigned long>(st.st_dev),
                               static_cast<unsigned long>(st.st_ino), ""};
    std::lock_guard lock(capf::test::mutex());
    if (call.directory && capf::test::hook()) call.note = capf::test::hook()();
    capf::test::calls().push_back(call);
  }
  return real(fd);
}
