// The phone-fleet simulator: phones with MICs from a simulated manufacturer CA that speak the
// CAPF protocol to a daemon over TLS, keep their keys and LSCs between runs, and check what
// they are given.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "capf/core/vocabulary.hpp"
#include "capf/crypto/crypto.hpp"
#include "capf/util/result.hpp"

namespace capf::sim {

/// Which IP stacks a phone has (the seed's "IP Mode of Phone" / "IP Addresses on Phone").
enum class IpMode : std::uint8_t {
  dual,  ///< IPv4 and IPv6: tries CAPF's IPv6 addresses first, then its IPv4 ones
  ipv4,  ///< IPv4 only
  ipv6,  ///< IPv6 only
};
/// "dual", "ipv4", "ipv6".
std::string_view to_string(IpMode m);
/// Accepts "dual" (also "dual-stack", "both"), "ipv4"/"v4", "ipv6"/"v6".
std::optional<IpMode> parse_ip_mode(std::string_view text);
/// From a phone's addresses (the CSV's IPv4/IPv6 columns): only an IPv4 address → ipv4, only an
/// IPv6 address → ipv6, both or neither → dual.
IpMode ip_mode_from_addresses(const std::string& ipv4, const std::string& ipv6);

/// Something that goes wrong on the phone's side of a session (tests and demos).
enum class PhoneFault : std::uint8_t {
  none,
  /// The phone loses power just as its LSC arrives: the certificate is never stored and never
  /// confirmed, the connection just drops (the seed's "Power Failures").
  power_cut_at_store,
  /// The user aborts the certificate operation on the phone while its key is being generated:
  /// the phone ends the session itself with END_SESSION {REASON 7, REASON_INFO "user abort"}.
  user_abort_at_keygen,
};
/// "none", "power-cut-at-store", "user-abort-at-keygen".
std::string_view to_string(PhoneFault f);
std::optional<PhoneFault> parse_phone_fault(std::string_view text);

/// What a phone returns to Troubleshoot (FETCH_CERTIFICATE_REQUEST). How a real phone returns
/// a MIC, or two certificates, is not confirmed (capf-protocol.md §5.5); the forms cover what
/// the server must read.
enum class TroubleshootAnswer : std::uint8_t {
  lsc,          ///< its LSC (inner type 1), REASON 7 when it has none: capfc's answer
  mic,          ///< its MIC alone (inner type 2)
  both,         ///< its LSC and its MIC, one CERTIFICATE element each; the MIC alone without an LSC
  both_in_one,  ///< as `both`, the two wrapped records back to back in one CERTIFICATE element
  none,         ///< REASON 7 and no certificate, whatever it has
};
/// "lsc", "mic", "both", "both-in-one", "none".
std::string_view to_string(TroubleshootAnswer a);
std::optional<TroubleshootAnswer> parse_troubleshoot_answer(std::string_view text);

/// How one simulated phone behaves.
struct PhoneProfile {
  std::string name;
  AuthMode auth_mode = AuthMode::null_string;  ///< what the phone's configuration says
  std::string auth_string;                     ///< what the user typed on the phone
  bool jabber = false;     ///< VERSION 2, no PASSWORD, no REQUEST_IN_PROGRESS
  bool ec_capable = true;  ///< false: answers an EC key request with no key
  IpMode ip_mode = IpMode::dual;  ///< which of CAPF's addresses the phone can use
  PhoneFault fault = PhoneFault::none;
  /// Seconds the phone takes to generate a key after REQUEST_IN_PROGRESS, silent meanwhile (an
  /// old phone generating RSA at low priority).
  double keygen_seconds = 0;
  TroubleshootAnswer troubleshoot = TroubleshootAnswer::lsc;  ///< what it returns to Troubleshoot
};

/// What a phone keeps in flash, persisted in the state directory.
struct PhoneFlash {
  std::string mic_pem, mic_key_pem;
  std::string lsc_pem, lsc_key_pem;
  /// CA modes: the key generated for a CSR still with the CA, kept until its LSC arrives.
  std::string pending_key_pem;
};

/// The result of one phone's session.
struct Outcome {
  std::string device;
  std::string operation = "-";  ///< what CAPF asked for: Install/Upgrade, Troubleshoot, Delete
  std::string result;   ///< installed, deleted, fetched, no-action, refused, unknown-device, bad-certificate, error
  int reason = -1;      ///< END_SESSION reason, -1 when the session broke
  std::string detail;   ///< error text or the key type installed
  std::string lsc_serial;
  double seconds = 0;
  std::string connected_via;  ///< "IPv6 [::1]:3804" / "IPv4 127.0.0.1:3804"; "" when it never connected
};

/// Totals of a run.
struct Summary {
  std::vector<Outcome> outcomes;
  double elapsed_seconds = 0;
  std::map<std::string, std::size_t> by_result;  ///< "installed" → n, "refused (reason 7)" → n
  std::size_t enrollments = 0;                   ///< LSCs installed and verified
  double enrollments_per_second() const { return elapsed_seconds > 0 ? enrollments / elapsed_seconds : 0; }
};

/// Phone keys made before a run (benchmarks): a phone asked for a key takes one of that kind
/// from here instead of generating it in its session, so the phones' key generation stays out
/// of what is timed. Safe to share between sessions.
class KeyStash {
 public:
  void add(crypto::PrivateKey key);
  /// A key of `spec`'s kind, or nullopt when none is left.
  std::optional<crypto::PrivateKey> take(const KeySpec& spec);
  std::size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::vector<crypto::PrivateKey> keys_;
};

/// Run settings.
struct SimOptions {
  std::string server_host = "127.0.0.1";
  unsigned short server_port = 3804;
  /// Further CAPF addresses ("HOST:PORT", "[V6]:PORT"), e.g. its IPv6 address beside an IPv4
  /// server_host; a host name resolves to all its addresses.
  std::vector<std::string> more_servers;
  /// The local address every phone connects from ("" = the system's choice): on loopback,
  /// 127.0.0.2 etc. make a fleet look like phones at another address.
  std::string source_address;
  std::string ca_pem;        ///< the CAPF CA the phones trust (their ITL's CAPF entry)
  std::string lsc_ca_pem;    ///< CA modes: the external CA chain an LSC may also chain to (the phones' CTL)
  std::string state_dir;     ///< manufacturer CA and per-phone flash
  std::size_t concurrency = 64;
  unsigned key_threads = 2;  ///< threads generating phone keys
  crypto::RsaDigestForm rsa_form = crypto::RsaDigestForm::bare_digest;
  double timeout_seconds = 60;  ///< per phone session
  /// Key of a MIC made at a phone's first boot: RSA-2048 like real phones; P-256 makes thousands
  /// of phones boot in seconds for load and crash tests (the MIC only signs in MIC modes).
  KeySpec mic_key{KeyAlgorithm::rsa, 2048, EcCurve::p256};
  /// Keys made before the run; a phone generates its own when none of the kind is left.
  std::shared_ptr<KeyStash> prepared_keys;
};

/// Creates (or loads) the simulated manufacturer CA in `state_dir`; returns its PEM path.
Result<std::string> init_manufacturer_ca(const std::string& state_dir);

/// Runs every phone once, `concurrency` at a time, and summarises.
Result<Summary> run_fleet(const SimOptions& options, const std::vector<PhoneProfile>& phones);

/// Control mode (`capf sim --control`): phones connect only when triggered over HTTP.
struct ControlOptions {
  std::string listen = "127.0.0.1:0";  ///< loopback HOST:PORT of the trigger endpoint (port 0 picks one)
  std::string port_file;               ///< when set, {"port": N} is written here atomically once listening
  double idle_exit_seconds = 0;        ///< exit once this long passed with no session running; 0 = until SIGINT/SIGTERM
  double fail_percent = 0;             ///< answer this share of triggers with 503 + Retry-After: 1 (retry tests)
  std::uint64_t seed = 1;              ///< seed of the failure injection, for repeatable runs
  std::function<void(unsigned short port)> on_listening;  ///< called once listening, before any trigger is served
};

/// Serves HTTP/1.1 on a loopback address (a non-loopback `listen` is refused):
/// `POST /trigger/{device}` → 202 {"accepted": device} and that phone runs a CAPF session (one
/// more after the current one when it is in a session; triggers beyond that coalesce);
/// unknown phone → 404; injected failure → 503 with Retry-After: 1. `GET /status` → {"phones",
/// "sessions" (started), "in_session", "queued", "by_result"}. At most options.concurrency
/// sessions run at once; further triggers wait their turn. Returns on SIGINT/SIGTERM or after
/// idle_exit_seconds without a session running, with the Summary of every session that ended
/// (a phone triggered twice appears twice).
Result<Summary> run_controlled(const SimOptions& options, const std::vector<PhoneProfile>& phones,
                               const ControlOptions& control);

/// Loads one phone's flash from the state directory (creating a MIC with a `mic_key` key on
/// first use).
Result<PhoneFlash> load_flash(const std::string& state_dir, const std::string& device,
                              const KeySpec& mic_key = {KeyAlgorithm::rsa, 2048, EcCurve::p256});
/// Saves one phone's flash in the state directory (atomic writes, keys 0600).
Result<void> save_flash(const std::string& state_dir, const std::string& device, const PhoneFlash& flash);

/// Phone names for --phones N: SEP + 12 hex digits counting up from `first_mac`.
std::vector<std::string> generated_names(std::size_t count, std::uint64_t first_mac);

}  // namespace capf::sim
