// The check every side of a CAPF session makes of a message it received: is it the command
// the flow expects, and does its body parse. Shared by the daemon's sessions and the phone
// simulator, so both word a peer's mistake the same way.
#pragma once

#include <utility>

#include "capf/net/message_io.hpp"
#include "capf/protocol/wire.hpp"
#include "capf/util/result.hpp"

namespace capf::net {

/// Throws ProtocolError("expected COMMAND, got OTHER") unless `m` is a `command`.
inline void expect(const protocol::Message& m, protocol::Command command) {
  if (!m.is(command))
    throw ProtocolError("expected " + protocol::command_name(command) + ", got " + protocol::command_name(m.command));
}

/// The body of `m` as `parse` reads it, when `m` is a `command`; throws ProtocolError naming
/// the expected command, or with the parser's error, otherwise.
template <class T>
T expect(const protocol::Message& m, protocol::Command command, Result<T> (*parse)(const protocol::Message&)) {
  expect(m, command);
  auto body = parse(m);
  if (!body) throw ProtocolError(body.error().message);
  return std::move(*body);
}

}  // namespace capf::net
