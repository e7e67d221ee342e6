#include "capf/store/csr_ledger.hpp"

namespace capf::store {

Result<std::optional<CsrRecord>> CsrLedger::get(const std::string& id) const {
  auto json = store_.get_doc(Family::csrs, id);
  if (!json) return json.error();
  if (!json->has_value()) return std::optional<CsrRecord>{};
  auto r = decode_csr(**json);
  if (!r) return make_error(Errc::io, "store at " + store_.path() + ": CSR " + id + ": " + r.error().message);
  return std::optional<CsrRecord>{std::move(*r)};
}

Result<std::optional<CsrRecord>> CsrLedger::latest(const std::string& device) const {
  auto id = store_.get_doc(Family::csr_by_device, device);
  if (!id) return id.error();
  if (!id->has_value()) return std::optional<CsrRecord>{};
  return get(**id);
}

Result<void> CsrLedger::for_each(const std::function<bool(const CsrRecord&)>& fn, Undecodable undecodable) const {
  std::optional<Error> failure;
  auto r = store_.for_each_doc(Family::csrs, "", [&](const std::string& key, const std::string& json) {
    auto c = decode_csr(json);
    if (!c) {
      if (undecodable == Undecodable::skip) return true;
      failure = make_error(Errc::io, "store at " + store_.path() + ": CSR " + key + ": " + c.error().message);
      return false;
    }
    return fn(*c);
  });
  if (!r) return r;
  if (failure) return *failure;
  return ok();
}

void CsrLedger::add_new(const CsrRecord& csr, Transition& t) {
  note(csr, t);
  t.put_docs.push_back(Doc{Family::csr_by_device, csr.device, csr.id});
}

Result<void> CsrLedger::move(CsrRecord& csr, CsrEvent e, util::UnixTime now, Transition& t) {
  auto next = next_csr_state(csr.state, e);
  if (!next) return make_error(next.error().code, "CSR " + csr.id.substr(0, 12) + ": " + next.error().message);
  csr.state = *next;
  csr.updated_at = now;
  note(csr, t);
  return ok();
}

void CsrLedger::note(const CsrRecord& csr, Transition& t) {
  t.put_docs.push_back(Doc{Family::csrs, csr.id, encode_csr(csr)});
}

}  // namespace capf::store
