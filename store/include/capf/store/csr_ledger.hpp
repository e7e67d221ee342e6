// The CSR ledger: typed access to the `csrs` family (and `csr_by_device`, a device's newest
// CSR) for the CAPF service, the Online CA coordinator, the Offline CA import and the engine.
// Every change of a CSR goes through move(), which follows core's pure CSR state machine, so
// no caller writes a state by hand. Callers hold the device's claim while they read and change
// its CSRs (claims.hpp).
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "capf/core/csr.hpp"
#include "capf/store/store.hpp"

namespace capf::store {

class CsrLedger {
 public:
  explicit CsrLedger(const Store& store) : store_(store) {}

  /// The CSR with this id; nullopt when there is none. A stored record that does not decode
  /// is an error naming it.
  Result<std::optional<CsrRecord>> get(const std::string& id) const;
  /// The device's newest CSR, if any.
  Result<std::optional<CsrRecord>> latest(const std::string& device) const;
  /// What for_each does with a stored record that does not decode.
  enum class Undecodable {
    end_scan,  ///< end the scan with an error naming the record
    skip,      ///< pass over it (a look that must not fail on one bad record)
  };
  /// Every CSR in id order; stop early by returning false.
  Result<void> for_each(const std::function<bool(const CsrRecord&)>& fn,
                        Undecodable undecodable = Undecodable::end_scan) const;

  /// Adds a new CSR (state pending) to `t` as the device's newest.
  static void add_new(const CsrRecord& csr, Transition& t);
  /// Moves `csr` by `e` (next_csr_state), stamps `now`, and adds the record to `t`; an event
  /// that cannot happen in the CSR's state changes nothing and returns the error.
  static Result<void> move(CsrRecord& csr, CsrEvent e, util::UnixTime now, Transition& t);
  /// Adds `csr` as it is (its state unchanged: a new error text, backoff or handle) to `t`.
  static void note(const CsrRecord& csr, Transition& t);

 private:
  const Store& store_;
};

}  // namespace capf::store
