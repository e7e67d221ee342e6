// The administration operations behind the admin API: one implementation, reached over HTTP
// while the daemon runs and called in-process by the CLI when it does not, so both paths
// answer with the same JSON.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "capf/admin/router.hpp"
#include "capf/core/device.hpp"
#include "capf/engine/engine.hpp"
#include "capf/inventory/phones_csv.hpp"
#include "capf/inventory/query.hpp"
#include "capf/store/store.hpp"
#include "capf/util/time.hpp"

namespace capf::admin {

struct PageRequest;

/// Facts about the CAPF CA the service reports; filled by whoever loaded the CA.
struct CaInfo {
  std::string pem;
  std::string subject;
  std::string serial;
  std::string key;
  std::string fingerprint_sha256;
  util::UnixTime not_before = 0;
  util::UnixTime not_after = 0;
};

/// What the device templates did to one device a CSV import adds.
struct NewDeviceDefaultsApplied {
  std::string template_name;      ///< the template that matched, "" when none did
  bool generated_string = false;  ///< it made the device a new Authentication String (hand it out once)
};

/// Routes and runs admin requests against the store. Thread-safe; calls may block.
class AdminService {
 public:
  /// Where feature libraries' routes are added (router.hpp); add them before serving. They
  /// are asked after the service's own routes.
  Router& router() { return router_; }
  /// Settings for the devices a CSV import adds (device templates): called once per import, it
  /// returns what to apply to each new device after its row. Set before serving.
  using NewDeviceDefaults =
      std::function<Result<std::function<NewDeviceDefaultsApplied(Device&, const inventory::PhoneRow&)>>()>;
  void set_new_device_defaults(NewDeviceDefaults f) { new_device_defaults_ = std::move(f); }

  /// `engine` is null when no daemon runs (the CLI's in-process mode): job routes then answer 503.
  AdminService(store::Store& store, CaInfo ca, const util::Clock& clock, engine::Engine* engine = nullptr);

  /// Runs one request.
  Response handle(const Request& request);

 private:
  Response import_phones(const Request& r, const std::string& query);
  Response list_phones(const std::string& query);
  /// One page of the devices matching `q` (paging.hpp).
  Response page_of_phones(const inventory::Query& q, const PageRequest& request);
  Response show_phone(const std::string& name);
  Response set_phone(const Request& r, const std::string& name);
  Response list_certificates(const std::string& query);
  Response list_audit(const std::string& query);
  /// One page of the audit trail, newest first, through the store's audit cursor.
  Response page_of_audit(const PageRequest& request, const std::string& actor, const std::string& action,
                         const std::string& subject, util::UnixTime since);
  Response submit_job(const Request& r);
  Response list_jobs();
  /// With chart=1: the per-minute chart and the failure reasons too.
  Response show_job(const std::string& id, const std::string& query);
  Response job_devices(const std::string& id, const std::string& query);
  /// One page of a job's devices, filtered by state, reason and a part of the name (paging.hpp).
  Response page_of_job_devices(const std::string& id, const std::string& query, const PageRequest& request);
  Response control_job(const Request& r, const std::string& id, const std::string& action);
  /// What one CSV import did.
  struct CsvImport {
    std::size_t records = 0;  ///< data records in the file, good and bad
    std::size_t added = 0, updated = 0;
    std::vector<std::string> issues;  ///< "file:line:column: reason", in line order
    bool rejected_file = false;       ///< strict mode and an issue: nothing was written
    /// device → Authentication String a template generated for it (Generate String per phone);
    /// to be handed to the administrator once, never stored anywhere else.
    std::vector<std::pair<std::string, std::string>> generated_strings;
  };
  /// Parses CSV text and writes its good rows as one atomic write (nothing when strict and any
  /// row is bad), parsing on a second thread while the rows already parsed are looked up,
  /// applied and encoded. Appends the names written to `names`; `on_row` sees every good row
  /// first. Fails with Errc::invalid_argument on a file-level CSV problem, Errc::io when the
  /// store fails; then nothing is written and `names` is as it was. Used by phone import and
  /// job submission.
  Result<CsvImport> import_csv(std::string_view content, const std::string& file, bool strict, const std::string& actor,
                               std::vector<std::string>& names,
                               const std::function<void(const inventory::PhoneRow&)>& on_row = {});

  /// The cluster's time zone (service parameter `time-zone`) for Operation Completes By in
  /// Unified CM's YYYY:MM:DD:HH form; read fresh, so `capf config set` applies at once.
  std::string time_zone() const;

  store::Store& store_;
  CaInfo ca_;
  const util::Clock& clock_;
  engine::Engine* engine_;
  std::mutex write_mutex_;  ///< read-modify-write of devices by administrators is serialised
  Router router_;
  NewDeviceDefaults new_device_defaults_;
};

/// Digits of a string made by Generate String (a phone's, or a template's per phone).
inline constexpr std::size_t kGeneratedStringDigits = 8;

/// JSON view of a device for listings (the authentication string is never included).
nlohmann::json device_json(const Device& d);
/// JSON view of an audit entry.
nlohmann::json audit_json(const AuditEntry& a);
/// JSON view of a certificate record (without the DER).
nlohmann::json certificate_json(const CertificateRecord& c);

/// Reads the job spec of a submission (POST /v1/jobs): each field's type and text, with errors
/// naming the `capf job submit` option, then JobSpec::validate. Dates without a zone are read in
/// `time_zone`. The selection (csv, where) and the way to submit (dry_run, …) are not the spec's.
Result<engine::JobSpec> read_job_spec(const nlohmann::json& j, const std::string& time_zone);
/// JSON view of a job with its figures.
nlohmann::json job_json(const engine::JobView& v);
/// JSON view of one device of a job.
nlohmann::json job_device_json(const JobDevice& d);

/// Adds the serial of every revoked LSC (store meta kRevocationMetaPrefix) to `out`, for queries
/// that use lsc_status (inventory::Query::uses_revocation).
Result<void> read_revoked_serials(const store::Store& store, std::unordered_set<std::string>& out);
/// The context to evaluate `q` in at `now`; the revocations are read into `revoked` (which must
/// outlive the context) only when `q` uses them.
Result<inventory::EvalContext> query_context(const store::Store& store, const inventory::Query& q, util::UnixTime now,
                                             std::unordered_set<std::string>& revoked);
/// [{"device", "auth_string"}, …]: strings handed to the administrator once (the CLI writes them
/// to a 0600 file); never logged or audited.
nlohmann::json generated_strings_json(const std::vector<std::pair<std::string, std::string>>& strings);

/// Percent-encodes a query value.
std::string url_encode(const std::string& s);

}  // namespace capf::admin
