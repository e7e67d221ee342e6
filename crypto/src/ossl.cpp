#include "ossl.hpp"

#include <climits>

#include "capf/util/text.hpp"

namespace capf::crypto::ossl {

Error error(std::string_view what) {
  std::string detail;
  while (unsigned long code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    if (!detail.empty()) detail += "; ";
    detail += buf;
  }
  std::string message(what);
  // An empty queue still gets the separator-free form rather than a dangling ": ".
  if (!detail.empty()) message += ": " + detail;
  return make_error(Errc::crypto, std::move(message));
}

Result<void> add_ext(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  X509ExtPtr ext(X509V3_EXT_nconf_nid(nullptr, ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1)
    return error(std::string("adding the ") + OBJ_nid2ln(nid) + " extension \"" + util::escape_control(value) +
                 "\" failed");
  return ok();
}

BioPtr mem_bio(std::string_view data) {
  // BIO_new_mem_buf takes an int length; a larger input is treated as empty and fails to parse.
  int len = data.size() > static_cast<std::size_t>(INT_MAX) ? 0 : static_cast<int>(data.size());
  return BioPtr(BIO_new_mem_buf(data.data(), len));
}

BioPtr mem_bio() {
  return BioPtr(BIO_new(BIO_s_mem()));
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  if (len <= 0 || data == nullptr) return {};
  return std::string(data, static_cast<std::size_t>(len));
}

Certificate wrap(X509Ptr x509) {
  auto impl = std::make_shared<Certificate::Impl>();
  impl->x509 = std::move(x509);
  return Certificate::from_impl(std::move(impl));
}

Certificate wrap_built(X509Ptr x509) {
  auto impl = std::make_shared<Certificate::Impl>();
  impl->x509 = std::move(x509);
  impl->key_as_bytes = true;
  return Certificate::from_impl(std::move(impl));
}

}  // namespace capf::crypto::ossl
