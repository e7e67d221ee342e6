#include <fmt/format.h>

#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>

#include "capf/sim/simulator.hpp"
#include "capf/util/files.hpp"

namespace capf::sim {

namespace {
std::mutex g_ca_mutex;
// Every phone's flash is in one directory. Creates and renames there from 32 sessions at once
// queue on the directory's lock, where the kernel spins: a quarter of the simulator's CPU in
// the enroll bench. Taking turns here costs no CPU while waiting.
std::mutex g_flash_mutex;

std::string phone_path(const std::string& state_dir, const std::string& device) {
  return state_dir + "/phones/" + device + ".json";
}

Result<crypto::CertificateAuthority> manufacturer_ca(const std::string& state_dir) {
  std::lock_guard lock(g_ca_mutex);
  crypto::CaOptions options;
  options.common_name = "Simulated Manufacturing CA";
  options.organization = "capf simulated phones";
  options.validity_days = 7300;
  // The manufacturer CA lives beside the phones; load_or_create keeps its key 0600.
  if (auto r = util::make_dirs(state_dir, 0700); !r) return r.error();
  return crypto::CertificateAuthority::load_or_create(state_dir + "/manufacturer", options);
}
}  // namespace

Result<std::string> init_manufacturer_ca(const std::string& state_dir) {
  auto ca = manufacturer_ca(state_dir);
  if (!ca) return ca.error();
  return state_dir + "/manufacturer/capf-ca.pem";
}

Result<PhoneFlash> load_flash(const std::string& state_dir, const std::string& device, const KeySpec& mic_key) {
  const auto path = phone_path(state_dir, device);
  if (util::exists(path)) {
    auto text = util::read_file(path);
    if (!text) return text.error();
    auto j = nlohmann::json::parse(*text, nullptr, false);
    if (j.is_discarded()) return make_error(Errc::io, path + ": not valid JSON");
    PhoneFlash f;
    f.mic_pem = j.value("mic", "");
    f.mic_key_pem = j.value("mic_key", "");
    f.lsc_pem = j.value("lsc", "");
    f.lsc_key_pem = j.value("lsc_key", "");
    f.pending_key_pem = j.value("pending_key", "");
    return f;
  }
  // First boot of this phone: the factory installs a MIC.
  auto ca = manufacturer_ca(state_dir);
  if (!ca) return ca.error();
  auto key = crypto::PrivateKey::generate(mic_key);
  if (!key) return key.error();
  auto mic = ca->issue_mic(device, key->public_key_der(), 7300, util::now());
  if (!mic) return mic.error();
  PhoneFlash f{mic->to_pem(), key->to_pem(), "", "", ""};
  if (auto r = save_flash(state_dir, device, f); !r) return r.error();
  return f;
}

Result<void> save_flash(const std::string& state_dir, const std::string& device, const PhoneFlash& flash) {
  if (auto r = util::make_dirs(state_dir + "/phones", 0700); !r) return r;
  nlohmann::json j{{"mic", flash.mic_pem},
                   {"mic_key", flash.mic_key_pem},
                   {"lsc", flash.lsc_pem},
                   {"lsc_key", flash.lsc_key_pem},
                   {"pending_key", flash.pending_key_pem}};
  // A phone's flash outlives a killed simulator (the page cache does); fsync per phone would
  // only spend the CPU the daemon under test shares.
  constexpr auto kFlash = util::Durability::page_cache;
  const std::string text = j.dump(1);
  std::lock_guard lock(g_flash_mutex);
  if (auto r = util::write_file_atomic(phone_path(state_dir, device), text, 0600, kFlash); !r) return r;
  // The LSC also as a plain PEM file, for `openssl verify` by the administrator.
  const auto pem_path = state_dir + "/phones/" + device + ".lsc.pem";
  if (flash.lsc_pem.empty()) {
    std::remove(pem_path.c_str());
    return ok();
  }
  return util::write_file_atomic(pem_path, flash.lsc_pem, 0644, kFlash);
}

std::vector<std::string> generated_names(std::size_t count, std::uint64_t first_mac) {
  std::vector<std::string> names;
  names.reserve(count);
  for (std::size_t i = 0; i < count; ++i)
    names.push_back(fmt::format("SEP{:012X}", static_cast<unsigned long long>((first_mac + i) & 0xFFFFFFFFFFFFull)));
  return names;
}

}  // namespace capf::sim
