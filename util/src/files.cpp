#include "capf/util/files.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace capf::util {

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(Errc::io, path + ": cannot open: " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return make_error(Errc::io, path + ": read failed");
  return ss.str();
}

Result<void> write_file_atomic(const std::string& path, const std::string& content, mode_t mode,
                               Durability durability) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return make_error(Errc::io, tmp + ": cannot create: " + std::strerror(errno));
  // open() honours the umask; fchmod makes the mode exact (0600 stays 0600, 0644 stays 0644).
  ::fchmod(fd, mode);
  const char* p = content.data();
  size_t left = content.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return make_error(Errc::io, path + ": write failed: " + std::strerror(e));
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if ((durability == Durability::synced && ::fsync(fd) != 0) || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return make_error(Errc::io, path + ": fsync failed: " + std::strerror(errno));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return make_error(Errc::io, path + ": rename failed: " + std::strerror(e));
  }
  if (durability == Durability::synced) {
    const auto slash = path.rfind('/');
    return sync_dir(slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash));
  }
  return ok();
}

Result<void> sync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return make_error(Errc::io, dir + ": cannot open the directory to sync it: " + std::strerror(errno));
  const int rc = ::fsync(fd);
  const int e = errno;
  ::close(fd);
  if (rc != 0) return make_error(Errc::io, dir + ": directory fsync failed: " + std::strerror(e));
  return ok();
}

Result<void> make_private_dir(const std::string& path) {
  if (auto r = make_dirs(path, 0700); !r) return r;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return make_error(Errc::io, path + ": " + std::strerror(errno));
  if (!S_ISDIR(st.st_mode)) return make_error(Errc::io, path + " is not a directory");
  if ((st.st_mode & 07777) == 0700) return ok();
  if (::chmod(path.c_str(), 0700) != 0) {
    const std::string mode = fmt::format("{:04o}", static_cast<unsigned>(st.st_mode & 07777));
    return make_error(Errc::io, path + " has mode " + mode +
                                    " and cannot be made 0700 (only its owner may use it): " + std::strerror(errno));
  }
  return ok();
}

Result<void> make_dirs(const std::string& path, mode_t mode) {
  std::string partial;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    partial = path.substr(0, pos);
    if (partial.empty()) continue;
    if (::mkdir(partial.c_str(), pos == std::string::npos ? mode : 0755) != 0 && errno != EEXIST)
      return make_error(Errc::io, partial + ": cannot create directory: " + std::strerror(errno));
  }
  return ok();
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace capf::util
