// CAPF-trust: the certificates a phone's existing certificate must chain to.
#include <set>

#include "ossl.hpp"

namespace capf::crypto {

struct TrustStore::Impl {
  ossl::X509StorePtr store{X509_STORE_new()};
  std::set<std::string> fingerprints;  // distinct certificates added, for size()
};

TrustStore::TrustStore() : impl_(std::make_unique<Impl>()) {}
TrustStore::~TrustStore() = default;
TrustStore::TrustStore(TrustStore&&) noexcept = default;
TrustStore& TrustStore::operator=(TrustStore&&) noexcept = default;

void TrustStore::add(const Certificate& ca) {
  ossl::ErrorQueueScope scope;
  if (!impl_ || !impl_->store || !ca.impl()) return;
  // X509_STORE_add_cert takes its own reference and ignores a certificate it already holds.
  if (X509_STORE_add_cert(impl_->store.get(), ca.impl()->with_key()) == 1)
    impl_->fingerprints.insert(ca.sha256_fingerprint());
}

std::size_t TrustStore::size() const {
  return impl_ ? impl_->fingerprints.size() : 0;
}

Result<void> TrustStore::verify(const Certificate& leaf, util::UnixTime now,
                                const std::vector<Certificate>& intermediates) const {
  ossl::ErrorQueueScope scope;
  if (!leaf.impl()) return make_error(Errc::internal, "no certificate to verify");
  if (!impl_ || !impl_->store) return ossl::error("the trust store was not allocated");
  ossl::X509StackPtr untrusted(sk_X509_new_null());
  if (!untrusted) return ossl::error("allocating the intermediate list failed");
  for (const auto& cert : intermediates) {
    if (cert.impl() && sk_X509_push(untrusted.get(), cert.impl()->with_key()) <= 0)
      return ossl::error("listing the intermediates failed");
  }
  ossl::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), impl_->store.get(), leaf.impl()->with_key(), untrusted.get()) != 1)
    return ossl::error("starting certificate verification failed");
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  // Validity is judged at the caller's clock, not the wall clock (tests and a skewed host).
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(now));
  // Any certificate in CAPF-trust is an anchor, so an imported intermediate CA is enough
  // without its root; the leaf must still chain to one of them.
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
  if (X509_verify_cert(ctx.get()) == 1) return ok();

  int code = X509_STORE_CTX_get_error(ctx.get());
  std::string message =
      "certificate " + leaf.subject() + " does not chain to CAPF-trust: " + X509_verify_cert_error_string(code);
  // A failure further up the chain (an expired intermediate) names the certificate at fault.
  if (int depth = X509_STORE_CTX_get_error_depth(ctx.get()); depth > 0) {
    if (X509* at = X509_STORE_CTX_get_current_cert(ctx.get()))
      message += " (at " + ossl::rfc2253(X509_get_subject_name(at)) + ")";
  }
  return make_error(Errc::crypto, std::move(message));
}

}  // namespace capf::crypto
