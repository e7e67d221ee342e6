// net::expect (net/expect.hpp): the check of a received message's command and body that the
// daemon's sessions and the simulated phone share, against messages a hostile peer could send.
#include "capf/net/expect.hpp"

#include <gtest/gtest.h>

#include <string>

#include "capf/protocol/messages.hpp"

namespace capf::net {
namespace {

using protocol::Command;
using protocol::Message;
using protocol::Tag;

protocol::Message auth_response(const std::string& device) {
  protocol::AuthResponse a;
  a.device_name = device;
  a.password = "123456";
  return protocol::build(a, 42);
}

TEST(Expect, TheExpectedCommandGivesItsBody) {
  const auto auth = expect(auth_response("SEP001122334455"), Command::auth_response, protocol::parse_auth_response);
  EXPECT_EQ(auth.device_name, "SEP001122334455");
  ASSERT_TRUE(auth.password.has_value());
  EXPECT_EQ(*auth.password, "123456");
  EXPECT_NO_THROW(expect(Message(Command::auth_request, 1), Command::auth_request));
}

struct Case {
  std::string name;
  Message message;
  std::string error_has;
};

TEST(Expect, EveryOtherMessageIsAProtocolErrorNamingWhatWasWrong) {
  Message no_version(Command::auth_response, 42);
  no_version.add_string(Tag::device_name, "SEP001122334455");
  Message bad_version = auth_response("SEP001122334455");
  bad_version.elements.front().value = {9};
  Message nul_name(Command::auth_response, 42);
  nul_name.add_u8(Tag::version, 3).add_bytes(Tag::device_name, protocol::ByteView(reinterpret_cast<const std::uint8_t*>("SEP\0x\0"), 6));
  Message empty_key(Command::key_generate_response, 42);
  empty_key.add_bytes(Tag::public_key, {});
  Message unknown;
  unknown.command = 0xee;

  const Case cases[] = {
      {"another command", Message(Command::key_generate_response, 42), "expected AUTH_RESPONSE, got KEY_GENERATE_RESPONSE"},
      {"an unknown command", unknown, "expected AUTH_RESPONSE, got COMMAND_238"},
      {"the phone's end", protocol::build_end_session(protocol::Reason::refused, 42), "expected AUTH_RESPONSE, got END_SESSION"},
      {"no VERSION", no_version, "VERSION"},
      {"VERSION out of range", bad_version, "VERSION"},
      {"a NUL inside DEVICE_NAME", nul_name, "DEVICE_NAME"},
      {"an empty body", Message(Command::auth_response, 42), "VERSION"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    try {
      (void)expect(c.message, Command::auth_response, protocol::parse_auth_response);
      ADD_FAILURE() << "accepted";
    } catch (const ProtocolError& e) {
      EXPECT_NE(std::string(e.what()).find(c.error_has), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW((void)expect(empty_key, Command::key_generate_response, protocol::parse_key_generate_response), ProtocolError);
  EXPECT_THROW(expect(unknown, Command::auth_request), ProtocolError);
}

}  // namespace
}  // namespace capf::net
