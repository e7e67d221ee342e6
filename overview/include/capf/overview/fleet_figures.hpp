// The fleet at a glance, for the dashboard's overview page: devices by the status of their LSC
// and by who issued it, and when the LSCs expire. Every figure comes with the device query
// (jobs/query.hpp) that lists exactly the devices it counts, so a count on the page links to them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "capf/core/device.hpp"
#include "capf/core/vocabulary.hpp"
#include "capf/util/time.hpp"

namespace capf::overview {

/// A device's LSC status: the first that holds, in this order. The device query of each
/// (status_query) uses the same order, through lsc_status's own precedence.
enum class Status : std::uint8_t { none, revoked, expired, expiring, valid };
inline constexpr std::size_t kStatuses = 5;
/// "none", "revoked", "expired", "expiring", "valid".
std::string_view to_string(Status s);

/// Who issued a device's LSC.
enum class Issuer : std::uint8_t { capf_ca, retired_capf_ca, online_ca, offline_ca, other };
inline constexpr std::size_t kIssuers = 5;
/// "capf-ca", "retired-capf-ca", "online-ca", "offline-ca", "other".
std::string_view to_string(Issuer i);
/// "CAPF CA", "retired CAPF CA", "Online CA", "Offline CA", "other issuer".
std::string_view label(Issuer i);

/// What the figures depend on besides the devices.
struct FleetFacts {
  util::UnixTime now = 0;
  int notice_days = 30;                     ///< service parameter expiry-notice-days
  std::string ca_subject;                   ///< the CAPF CA's subject DN
  std::set<std::string> retired_subjects;   ///< subjects of retired CAPF CAs
  std::unordered_set<std::string> revoked;  ///< serials of revoked LSCs
  /// Issuer DNs of LSCs an external CA issued → which kind of CA (online_ca or offline_ca).
  std::map<std::string, IssuerKind> external;
  /// From here on an LSC is no longer "expiring".
  util::UnixTime notice_at() const { return now + static_cast<util::UnixTime>(notice_days) * 86400; }
};

/// One bar of the expiry histogram: LSCs whose notAfter lies in [from, to); the first bar
/// starts just after `now` (an LSC expiring at `now` has expired).
struct Bucket {
  util::UnixTime from = 0, to = 0;
  bool weekly = true;  ///< a week; else a calendar month
  std::size_t count = 0;
};
/// 26 weeks from `now`, then months (the same day of each following month, the 28th when the
/// month is shorter) up to five years after `now`.
std::vector<Bucket> expiry_buckets(util::UnixTime now);

/// The figures over a set of devices.
struct FleetSummary {
  std::size_t devices = 0;
  std::array<std::size_t, kStatuses> by_status{};
  std::array<std::size_t, kIssuers> by_issuer{};
  std::array<std::set<std::string>, kIssuers> issuer_subjects;  ///< the DNs counted in each class
  std::vector<Bucket> expiry;                                   ///< expiry_buckets(now), counted
  std::size_t expired = 0;                                      ///< LSCs at or past notAfter (in no bucket)
  std::size_t later = 0;                                        ///< LSCs expiring after the last bucket
};

Status status_of(const Device& d, const FleetFacts& f);
Issuer issuer_of(const std::string& issuer_dn, const FleetFacts& f);

/// Counts devices into figures: add() every device, then finish(). Issuers are counted per DN
/// and classified at the end, so FleetFacts::external may be filled in between from the
/// devices of the DNs that are neither the CAPF CA nor a retired one (samples()).
class FleetCounter {
 public:
  explicit FleetCounter(const FleetFacts& facts);
  void add(const Device& d);
  /// Up to 8 (device, LSC serial) of each issuer DN that is not a CAPF CA's, current or retired.
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> samples() const;
  /// The figures, issuers classified with `facts`.
  FleetSummary finish(const FleetFacts& facts) const;

 private:
  struct Tally {
    std::size_t count = 0;
    std::vector<std::pair<std::string, std::string>> samples;
  };
  const FleetFacts& facts_;
  FleetSummary summary_;
  std::map<std::string, Tally> by_dn_;
  std::vector<util::UnixTime> ends_;  ///< bucket ends, ascending, for the binary search
};

/// The device queries that select exactly what a figure counts.
std::string status_query(Status s, const FleetFacts& f);
/// lsc_issuer in (...) of the subjects; "" for none.
std::string issuer_query(const std::set<std::string>& subjects);
std::string bucket_query(const Bucket& b, util::UnixTime now);
/// `s` as a quoted value of the query language.
std::string quoted(std::string_view s);

}  // namespace capf::overview
