#include "capf/util/user.hpp"

#include <pwd.h>
#include <unistd.h>

#include <vector>

namespace capf::util {

std::string user_name(uid_t uid) {
  passwd pw{};
  passwd* found = nullptr;
  std::vector<char> buf(16384);
  if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == 0 && found && found->pw_name && *found->pw_name)
    return found->pw_name;
  return "uid:" + std::to_string(uid);
}

std::string current_user() { return user_name(::getuid()); }

}  // namespace capf::util
