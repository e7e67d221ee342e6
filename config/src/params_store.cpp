#include "capf/config/params.hpp"

namespace capf::config {

Result<ServiceParams> load(const store::Store& store) {
  auto doc = store.get_doc(store::Family::params, std::string(kParamsKey));
  if (!doc) return doc.error();
  if (!*doc) return ServiceParams{};
  auto p = decode_params(**doc);
  if (!p) return make_error(p.error().code, "stored service parameters: " + p.error().message);
  return p;
}

store::Doc params_doc(const ServiceParams& p) {
  return store::Doc{store::Family::params, std::string(kParamsKey), encode_params(p)};
}

Result<void> save(store::Store& store, const ServiceParams& p, std::vector<AuditEntry> audit) {
  if (auto v = validate(p); !v) return v.error();
  store::Transition t;
  t.put_docs.push_back(params_doc(p));
  t.audit = std::move(audit);
  return store.apply(t, store::Sync::yes);
}

}  // namespace capf::config
