// Who runs a process: the user name the audit trail records as the actor.
#pragma once

#include <string>
#include <sys/types.h>

namespace capf::util {

/// The login name of `uid`, or "uid:N" when it has no passwd entry.
std::string user_name(uid_t uid);
/// The login name of the calling process's real user.
std::string current_user();

}  // namespace capf::util
