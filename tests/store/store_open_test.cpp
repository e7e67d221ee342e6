// Opening a store: locks, schema versions, and damaged values written behind the store's back.
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <functional>

#include "capf/store/store.hpp"
#include "store_test_util.hpp"

namespace capf::store {
namespace {

using testing::TempDir;

const std::string kInUse = " is in use by another process (is `capf serve` running?)";

// Opens the store at `path` with RocksDB alone (no Store, no codec) and calls `fn` with the
// handle of column family `cf`; the status `fn` returns, or NotFound when there is no such family.
rocksdb::Status with_family(const std::string& path, const std::string& cf,
                            const std::function<rocksdb::Status(rocksdb::DB&, rocksdb::ColumnFamilyHandle*)>& fn) {
  std::vector<std::string> names;
  if (auto s = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names); !s.ok()) return s;
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.reserve(names.size());
  for (const auto& n : names) descriptors.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  if (auto s = rocksdb::DB::Open(rocksdb::DBOptions(), path, descriptors, &handles, &db); !s.ok()) return s;
  rocksdb::Status s = rocksdb::Status::NotFound("column family " + cf);
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == cf) s = fn(*db, handles[i]);
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  delete db;
  return s;
}

// Writes `value` under `key` in column family `cf`, bypassing Store and its codec.
void write_raw(const std::string& path, const std::string& cf, const std::string& key, const std::string& value) {
  const auto s = with_family(path, cf, [&](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* h) {
    return db.Put(rocksdb::WriteOptions(), h, key, value);
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
}

// The value under `key` in column family `cf`, bypassing Store and its codec; "" when absent.
std::string read_raw(const std::string& path, const std::string& cf, const std::string& key) {
  std::string value;
  const auto s = with_family(path, cf, [&](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* h) {
    return db.Get(rocksdb::ReadOptions(), h, key, &value);
  });
  EXPECT_TRUE(s.ok() || s.IsNotFound()) << s.ToString();
  return value;
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
  write_raw(dir.db(), "meta", "schema_version", encode_meta("4"));
  auto s = Store::open(dir.db());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "store at " + dir.db() + " has schema version 4; this build understands up to 3");
}

TEST(StoreOpen, NewerEnvelopeVersionIsRefused) {
  TempDir dir;
  create_store(dir.db());
  write_raw(dir.db(), "meta", "schema_version", std::string("\x04") + "{\"v\":4}");
  auto s = Store::open(dir.db());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "store at " + dir.db() + " has schema version 4; this build understands up to 3");
}

TEST(StoreOpen, CurrentSchemaVersionOpensAgain) {
  TempDir dir;
  create_store(dir.db());
  create_store(dir.db());
  auto s = Store::open(dir.db());
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*(*s)->get_meta("schema_version"), std::optional<std::string>("3"));
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
  EXPECT_EQ(*(*s)->get_meta("schema_version"), std::optional<std::string>("3"));
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

// Schema 2 kept an LSC's DER inside its record. Such a record still reads with its DER, and
// written back (a change of state) its DER moves beside it, under its serial, and reads the same.
TEST(StoreOpen, SchemaTwoCertificateReadsWithItsDerAndMovesItOutWhenWritten) {
  TempDir dir;
  create_store(dir.db());
  write_raw(dir.db(), "meta", "schema_version", std::string("\x02") + "\"2\"");
  const std::string der_hex = "3082010a0282010100";
  write_raw(dir.db(), "certificates", "0d",
            std::string("\x02") + "{\"delivered_at\":1700000020,\"der_hex\":\"" + der_hex +
                "\",\"device\":\"SEP0000000000AA\",\"issued_at\":1700000010,\"issuer\":\"CN=CAPF-1\","
                "\"key\":\"EC-P256\",\"not_after\":1857000000,\"serial\":\"0d\",\"state\":\"delivered\"}");
  {
    auto s = Store::open(dir.db());
    ASSERT_TRUE(s.ok()) << s.error().message;
    Store& store = **s;
    EXPECT_EQ(*store.get_meta("schema_version"), std::optional<std::string>("3"));
    auto old = store.get_certificate("0d");
    ASSERT_TRUE(old.ok() && old->has_value());
    EXPECT_EQ((*old)->der_hex, der_hex);
    EXPECT_EQ((*old)->state, CertificateState::delivered);
    Transition t;
    CertificateRecord replaced = **old;
    replaced.state = CertificateState::replaced;
    t.put_certificates.push_back(replaced);
    ASSERT_TRUE(store.apply(t).ok());
  }
  const std::string record = read_raw(dir.db(), "certificates", "0d");
  ASSERT_FALSE(record.empty());
  EXPECT_EQ(record.front(), static_cast<char>(kSchemaVersion));
  EXPECT_EQ(record.find("der_hex"), std::string::npos) << record;
  EXPECT_EQ(read_raw(dir.db(), "certificate_der", "0d"), std::string("\x03\x30\x82\x01\x0a\x02\x82\x01\x01\x00", 10));
  auto s = Store::open(dir.db());
  ASSERT_TRUE(s.ok()) << s.error().message;
  auto again = (*s)->get_certificate("0d");
  ASSERT_TRUE(again.ok() && again->has_value());
  EXPECT_EQ((*again)->der_hex, der_hex);
  EXPECT_EQ((*again)->state, CertificateState::replaced);
}

TEST(StoreOpen, DamagedValueIsAnErrorNamingKeyAndFamily) {
  TempDir dir;
  {
    auto s = Store::open(dir.db());
    ASSERT_TRUE(s.ok());
    Transition t;
    t.put_devices.push_back(testing::full_device("SEP0000000000AA"));
    t.put_certificates.push_back(testing::full_certificate("0e", "SEP0000000000AA"));
    ASSERT_TRUE((*s)->apply(t).ok());
  }
  write_raw(dir.db(), "devices", "SEP0000000000BB", std::string("\x01{broken"));
  write_raw(dir.db(), "certificates", "0c", std::string("\x07{}"));
  write_raw(dir.db(), "certificate_der", "0e", std::string("\x07\x30\x01"));
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
  auto der = store.get_certificate("0e");
  ASSERT_FALSE(der.ok());
  EXPECT_NE(der.error().message.find("certificate_der[0e]"), std::string::npos) << der.error().message;
  EXPECT_NE(der.error().message.find("schema version 7"), std::string::npos);
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
