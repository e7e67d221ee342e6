// Opening a store: locks, schema versions, and damaged values written behind the store's back.
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include "capf/store/store.hpp"
#include "store_test_util.hpp"

namespace capf::store {
namespace {

using testing::TempDir;

const std::string kInUse = " is in use by another process (is `capf serve` running?)";

// Writes `value` under `key` in column family `cf`, bypassing Store and its codec.
void write_raw(const std::string& path, const std::string& cf, const std::string& key, const std::string& value) {
  std::vector<std::string> names;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.reserve(names.size());
  for (const auto& n : names) descriptors.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), path, descriptors, &handles, &db).ok());
  rocksdb::Status s = rocksdb::Status::NotFound("column family " + cf);
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == cf) s = db->Put(rocksdb::WriteOptions(), handles[i], key, value);
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  delete db;
  ASSERT_TRUE(s.ok()) << s.ToString();
}

void create_store(const std::string& path) {
  auto s = Store::open(path);
  ASSERT_TRUE(s.ok()) << s.error().message;
}

TEST(StoreOpen, SecondOpenInTheSameProcessSaysInUse) {
  TempDir dir;
  auto first = Store::open(dir.db());
  ASSERT_TRUE(first.ok());
  auto second = Store::open(dir.db());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().message, "store at " + dir.db() + kInUse);
  first->reset();
  EXPECT_TRUE(Store::open(dir.db()).ok()) << "the lock is released on close";
}

TEST(StoreOpen, OpenWhileAnotherProcessHoldsItSaysInUse) {
  TempDir dir;
  int to_parent[2];
  int to_child[2];
  ASSERT_EQ(pipe(to_parent), 0);
  ASSERT_EQ(pipe(to_child), 0);
  const pid_t child = fork();
  ASSERT_NE(child, -1);
  if (child == 0) {
    // The child creates and holds the store until the parent has tried; it forks before this
    // test touches RocksDB and leaves by _exit, so no thread pool state crosses the fork.
    auto held = Store::open(dir.db());
    char c = held.ok() ? 'k' : 'x';
    (void)!write(to_parent[1], &c, 1);
    (void)!read(to_child[0], &c, 1);
    _exit(0);
  }
  char c = 0;
  ASSERT_EQ(read(to_parent[0], &c, 1), 1);
  ASSERT_EQ(c, 'k');
  auto second = Store::open(dir.db());
  (void)!write(to_child[1], &c, 1);
  int status = 0;
  waitpid(child, &status, 0);
  for (int fd : {to_parent[0], to_parent[1], to_child[0], to_child[1]}) close(fd);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().message, "store at " + dir.db() + kInUse);
}

TEST(StoreOpen, NewerSchemaVersionIsRefused) {
  TempDir dir;
  create_store(dir.db());
  write_raw(dir.db(), "meta", "schema_version", encode_meta("3"));
  auto s = Store::open(dir.db());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "store at " + dir.db() + " has schema version 3; this build understands up to 2");
}

TEST(StoreOpen, NewerEnvelopeVersionIsRefused) {
  TempDir dir;
  create_store(dir.db());
  write_raw(dir.db(), "meta", "schema_version", std::string("\x03") + "{\"v\":3}");
  auto s = Store::open(dir.db());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "store at " + dir.db() + " has schema version 3; this build understands up to 2");
}

TEST(StoreOpen, CurrentSchemaVersionOpensAgain) {
  TempDir dir;
  create_store(dir.db());
  create_store(dir.db());
  auto s = Store::open(dir.db());
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*(*s)->get_meta("schema_version"), std::optional<std::string>("2"));
}

TEST(StoreOpen, VersionOneStoreIsUpgradedAndItsJsonDevicesStillRead) {
  // A store as a build before binary device records left it: schema 1, devices in JSON.
  TempDir dir;
  create_store(dir.db());
  write_raw(dir.db(), "meta", "schema_version", std::string("\x01") + "\"1\"");
  const std::string v1 =
      "\x01{\"auth_failures\":0,\"auth_mode\":\"By Authentication String\",\"auth_string\":\"12345\","
      "\"completes_by\":1900000000,\"description\":\"Lobby \\u00fc\",\"device_pool\":\"DP-HQ\","
      "\"device_type\":\"Cisco 8841\",\"ec_key_bits\":384,\"fetched_cert_pem\":\"\",\"ipv4\":\"10.0.0.9\","
      "\"ipv6\":\"\",\"job_id\":\"j-1\",\"key_order\":\"EC Only\",\"last_seen\":0,\"lsc_issuer\":\"\","
      "\"lsc_not_after\":0,\"lsc_serial\":\"\",\"name\":\"SEP0000000000AA\",\"operation\":\"Install/Upgrade\","
      "\"rsa_key_bits\":2048,\"security_profile\":\"p\",\"status\":\"pending\",\"status_reason\":\"\","
      "\"updated_at\":1700000000}";
  write_raw(dir.db(), "devices", "SEP0000000000AA", v1);
  auto s = Store::open(dir.db());
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(*(*s)->get_meta("schema_version"), std::optional<std::string>("2"));
  auto d = (*s)->get_device("SEP0000000000AA");
  ASSERT_TRUE(d.ok()) << d.error().message;
  ASSERT_TRUE(d->has_value());
  EXPECT_EQ((*d)->description, "Lobby \xc3\xbc");
  EXPECT_EQ((*d)->auth_string, "12345");
  EXPECT_EQ((*d)->key_order, KeyOrder::ec_only);
  EXPECT_EQ((*d)->ec_key_bits, 384);
  EXPECT_EQ((*d)->completes_by, std::optional<util::UnixTime>(1900000000));
  EXPECT_EQ((*d)->job_id, "j-1");
  // Written back, it is a binary record and reads the same.
  Transition t;
  t.put_devices.push_back(**d);
  ASSERT_TRUE((*s)->apply(t).ok());
  auto again = (*s)->get_device("SEP0000000000AA");
  ASSERT_TRUE(again.ok() && again->has_value());
  EXPECT_EQ((*again)->description, "Lobby \xc3\xbc");
  EXPECT_EQ((*again)->completes_by, std::optional<util::UnixTime>(1900000000));
}

TEST(StoreOpen, DamagedValueIsAnErrorNamingKeyAndFamily) {
  TempDir dir;
  {
    auto s = Store::open(dir.db());
    ASSERT_TRUE(s.ok());
    Transition t;
    t.put_devices.push_back(testing::full_device("SEP0000000000AA"));
    ASSERT_TRUE((*s)->apply(t).ok());
  }
  write_raw(dir.db(), "devices", "SEP0000000000BB", std::string("\x01{broken"));
  write_raw(dir.db(), "certificates", "0c", std::string("\x07{}"));
  auto s = Store::open(dir.db());
  ASSERT_TRUE(s.ok());
  Store& store = **s;

  EXPECT_TRUE(store.get_device("SEP0000000000AA").ok());
  auto bad = store.get_device("SEP0000000000BB");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::io);
  EXPECT_NE(bad.error().message.find("devices[SEP0000000000BB]"), std::string::npos) << bad.error().message;

  auto scan = store.for_each_device([](const Device&) { return true; });
  ASSERT_FALSE(scan.ok());
  EXPECT_NE(scan.error().message.find("devices[SEP0000000000BB]"), std::string::npos);

  auto cert = store.get_certificate("0c");
  ASSERT_FALSE(cert.ok());
  EXPECT_NE(cert.error().message.find("certificates[0c]"), std::string::npos);
  EXPECT_NE(cert.error().message.find("schema version 7"), std::string::npos);
  EXPECT_EQ(*store.count_devices(), 2u);  // counting reads keys only
}

TEST(StoreOpen, UnopenablePathIsAClearError) {
  TempDir dir;
  FILE* f = std::fopen((dir.path() + "/file").c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fclose(f);
  auto s = Store::open(dir.path() + "/file/db");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::io);
}

}  // namespace
}  // namespace capf::store
