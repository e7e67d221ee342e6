// Device templates: a phone a CSV import adds takes its template's settings unless its row sets
// them; the highest priority wins when several match; existing phones are left alone.
#include "capf/policy/template.hpp"

#include <map>

#include "capf/admin/admin_service.hpp"
#include "policy_fixture.hpp"

using namespace capf;
using namespace capf::policy_test;

namespace {

class TemplateTest : public PolicyTest {
 protected:
  void SetUp() override {
    PolicyTest::SetUp();
    service = std::make_unique<admin::AdminService>(*store, admin::CaInfo{}, clock);
    service->router().add(std::shared_ptr<policy::AdminRoutes>(routes.get(), [](auto*) {}));
    service->set_new_device_defaults(policy::new_device_defaults(*store, clock));
  }
  void TearDown() override {
    service.reset();
    PolicyTest::TearDown();
  }
  admin::Response import(const std::string& csv) {
    return service->handle(admin::Request{"POST", "/v1/phones/import?file=new.csv", csv, "admin"});
  }
  Device device(const std::string& name) { return store->get_device(name).value().value(); }
  std::unique_ptr<admin::AdminService> service;
};

}  // namespace

TEST_F(TemplateTest, AppliedOnImportAndRowValuesWin) {
  create_template({{"name", "hq"},
                   {"where", "device_pool = DP-HQ"},
                   {"auth_mode", "lsc"},
                   {"key_size", "3072"},
                   {"key_order", "ec-rsa"},
                   {"ec_key_size", "384"},
                   {"operation", "install"}});
  // An existing phone in DP-HQ is not touched by a later import that only updates it.
  store::Transition t;
  Device old;
  old.name = "SEP0A0A0A0A0A01";
  old.device_pool = "DP-HQ";
  t.put_devices.push_back(old);
  ASSERT_TRUE(store->apply(t).ok());

  const std::string csv =
      "Device Name,Device Pool,Key Size (Bits),Authentication Mode\n"
      "SEP0A0A0A0A0A01,DP-HQ,,\n"                    // existing: unchanged
      "SEP0A0A0A0A0A02,DP-HQ,,\n"                    // new: all from the template
      "SEP0A0A0A0A0A03,DP-HQ,1024,By Null String\n"  // new: the row wins
      "SEP0A0A0A0A0A04,DP-BRANCH,,\n";               // no template matches
  auto r = import(csv);
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["added"], 3);
  EXPECT_TRUE(r.body["issues"].empty()) << r.body.dump();

  const Device unchanged = device("SEP0A0A0A0A0A01");
  EXPECT_EQ(unchanged.rsa_key_bits, 2048);
  EXPECT_EQ(unchanged.auth_mode, AuthMode::null_string);
  EXPECT_FALSE(unchanged.armed());

  const Device from_template = device("SEP0A0A0A0A0A02");
  EXPECT_EQ(from_template.auth_mode, AuthMode::existing_cert_lsc);
  EXPECT_EQ(from_template.rsa_key_bits, 3072);
  EXPECT_EQ(from_template.key_order, KeyOrder::ec_preferred_rsa_backup);
  EXPECT_EQ(from_template.ec_key_bits, 384);
  EXPECT_EQ(from_template.operation, CertificateOperation::install_upgrade);
  EXPECT_EQ(from_template.status, OperationStatus::pending);

  const Device row_wins = device("SEP0A0A0A0A0A03");
  EXPECT_EQ(row_wins.rsa_key_bits, 1024);
  EXPECT_EQ(row_wins.auth_mode, AuthMode::null_string);
  EXPECT_EQ(row_wins.key_order, KeyOrder::ec_preferred_rsa_backup);  // not in the row: template

  const Device none = device("SEP0A0A0A0A0A04");
  EXPECT_EQ(none.rsa_key_bits, 2048);
  EXPECT_FALSE(none.armed());
}

TEST_F(TemplateTest, HighestPriorityThenNameWins) {
  create_template({{"name", "b-pool"}, {"where", "device_pool = DP-HQ"}, {"key_size", "3072"}});
  create_template({{"name", "a-pool"}, {"where", "device_pool = DP-HQ"}, {"key_size", "1024"}});
  create_template({{"name", "z-lobby"}, {"where", "name ~ SEP0B*"}, {"key_size", "4096"}, {"priority", 10}});
  auto r = import("Device Name,Device Pool\nSEP0B0000000001,DP-HQ\nSEP0C0000000001,DP-HQ\n");
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(device("SEP0B0000000001").rsa_key_bits, 4096);  // priority 10 beats 0
  EXPECT_EQ(device("SEP0C0000000001").rsa_key_bits, 1024);  // equal priority: a-pool before b-pool
}

TEST_F(TemplateTest, GenerateStringPerPhoneOrTheTemplatesOwnAndTheRowWins) {
  create_template({{"name", "per-phone"},
                   {"where", "device_pool = DP-HQ"},
                   {"auth_mode", "string"},
                   {"string_policy", "unique"},
                   {"operation", "install"}});
  auto held =
      call("POST", "/v1/templates",
           {{"name", "held"}, {"where", "device_pool = DP-LAB"}, {"auth_mode", "string"}, {"generate_string", true}});
  ASSERT_EQ(held.status, 200) << held.body.dump();
  const std::string lab = held.body["generated_auth_string"];
  EXPECT_EQ(lab.size(), 8u);
  EXPECT_FALSE(call("GET", "/v1/templates/held").body.contains("generated_auth_string"));  // once
  EXPECT_EQ(call("GET", "/v1/templates/held").body["auth_string_set"], true);

  auto r = import(
      "Device Name,Device Pool,Authentication String\n"
      "SEP0D0000000001,DP-HQ,\n"
      "SEP0D0000000002,DP-HQ,\n"
      "SEP0D0000000003,DP-HQ,13579\n"  // the row's string wins
      "SEP0D0000000004,DP-LAB,\n");
  ASSERT_EQ(r.status, 200) << r.body.dump();
  ASSERT_EQ(r.body["generated_strings"].size(), 2u) << r.body.dump();
  std::map<std::string, std::string> generated;
  for (const auto& g : r.body["generated_strings"]) generated[g["device"]] = g["auth_string"];
  EXPECT_EQ(device("SEP0D0000000001").auth_string, generated["SEP0D0000000001"]);
  EXPECT_EQ(device("SEP0D0000000002").auth_string, generated["SEP0D0000000002"]);
  EXPECT_NE(generated["SEP0D0000000001"], generated["SEP0D0000000002"]);
  EXPECT_EQ(device("SEP0D0000000003").auth_string, "13579");
  EXPECT_EQ(device("SEP0D0000000004").auth_string, lab);
  EXPECT_EQ(device("SEP0D0000000001").status, OperationStatus::pending);

  // A re-import updates existing phones: nothing is generated again.
  r = import("Device Name,Device Pool\nSEP0D0000000001,DP-HQ\n");
  EXPECT_TRUE(r.body["generated_strings"].empty()) << r.body.dump();
  // A strict import that is refused hands out no strings: no device got them.
  r = service->handle(admin::Request{"POST", "/v1/phones/import?file=s.csv&strict=1",
                                     "Device Name,Device Pool\nSEP0D0000000009,DP-HQ\nbad name,DP-HQ\n", "admin"});
  EXPECT_EQ(r.status, 422);
  EXPECT_TRUE(r.body["generated_strings"].empty()) << r.body.dump();
  EXPECT_FALSE(store->get_device("SEP0D0000000009").value().has_value());
  // Policies run unattended: a per-phone template is refused, one with its own string is fine.
  EXPECT_EQ(call("POST", "/v1/policies", {{"name", "p1"}, {"where", "all"}, {"template", "per-phone"}}).status, 400);
  EXPECT_EQ(
      call("POST", "/v1/policies", {{"name", "p2"}, {"where", "device_pool = DP-LAB"}, {"template", "held"}}).status,
      200);
  // Where the strings come from is checked when the template is made.
  EXPECT_EQ(call("POST", "/v1/templates", {{"name", "none"}, {"where", "all"}, {"auth_mode", "string"}}).status, 400);
  EXPECT_EQ(call("POST", "/v1/templates",
                 {{"name", "short"}, {"where", "all"}, {"auth_mode", "string"}, {"auth_string", "12"}})
                .status,
            400);
  EXPECT_EQ(call("POST", "/v1/templates", {{"name", "nomode"}, {"where", "all"}, {"auth_string", "1234"}}).status, 400);
}

TEST_F(TemplateTest, RoutesValidateListAndGuardDeletion) {
  EXPECT_EQ(call("POST", "/v1/templates", {{"name", "bad name"}, {"where", "all"}}).status, 400);
  EXPECT_EQ(call("POST", "/v1/templates", {{"name", "t"}, {"where", "pool = x"}}).status, 400);
  EXPECT_EQ(call("POST", "/v1/templates", {{"name", "t"}, {"where", "all"}, {"key_size", "1000"}}).status, 400);
  create_template({{"name", "t"}, {"where", "all"}, {"auth_mode", "string"}, {"string_policy", "unique"}});
  EXPECT_EQ(call("POST", "/v1/templates", {{"name", "t"}, {"where", "all"}}).status, 409);
  EXPECT_EQ(call("GET", "/v1/templates").body["templates"].size(), 1u);
  EXPECT_EQ(call("GET", "/v1/templates/t").body["string_policy"], "unique");
  // Unattended policies cannot hand out generated strings.
  auto refused = call("POST", "/v1/policies", {{"name", "p"}, {"where", "all"}, {"template", "t"}});
  EXPECT_EQ(refused.status, 400);
  create_template({{"name", "lsc"}, {"where", "all"}, {"auth_mode", "lsc"}});
  create_policy({{"name", "p"}, {"where", "all"}, {"template", "lsc"}});
  EXPECT_EQ(call("POST", "/v1/templates/lsc/delete").status, 409);  // in use
  EXPECT_EQ(call("POST", "/v1/policies/p/delete").status, 200);
  EXPECT_EQ(call("POST", "/v1/templates/lsc/delete").status, 200);
  EXPECT_EQ(call("GET", "/v1/templates/lsc").status, 404);
  // Codec round trip.
  policy::DeviceTemplate d;
  d.name = "x";
  d.key_order = KeyOrder::rsa_preferred_ec_backup;
  d.issuer = IssuerKind::offline_ca;
  auto back = policy::decode_template(policy::encode_template(d)).value();
  EXPECT_EQ(back.key_order, d.key_order);
  EXPECT_EQ(back.issuer, d.issuer);
  EXPECT_FALSE(back.auth_mode.has_value());
}
