#include "capf/ca_online/adcs_pages.hpp"

#include <regex>

#include "capf/util/text.hpp"

namespace capf::ca_online::adcs {

namespace {

std::optional<std::string> first_match(std::string_view text, const std::regex& re) {
  std::match_results<std::string_view::const_iterator> m;
  if (!std::regex_search(text.begin(), text.end(), m, re)) return std::nullopt;
  const std::string value = m[1].str();
  return std::string(util::trim(value));
}

bool contains(std::string_view text, std::string_view what) { return text.find(what) != std::string_view::npos; }

bool contains_nocase(std::string_view text, std::string_view what) {
  return util::to_lower(text).find(util::to_lower(what)) != std::string::npos;
}

// The CA service (certsvc) is unreachable from IIS: the pages report the RPC error.
bool ca_unreachable(std::string_view html) {
  return contains_nocase(html, "0x800706ba") || contains_nocase(html, "The RPC server is unavailable");
}

std::string collapse(std::string s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == '\r' || c == '\n' || c == '\t' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

}  // namespace

std::optional<std::string> disposition_message(std::string_view html) {
  static const std::regex re(R"re(The disposition message is "([^"]+))re");
  auto m = first_match(html, re);
  if (m) *m = collapse(*m);
  return m;
}

std::optional<std::string> labelled_value(std::string_view html, std::string_view label) {
  const std::string pattern = std::string(label) + R"(:[^\t]+\t\t([^\r\n]+))";
  const std::regex re(pattern);
  return first_match(html, re);
}

std::string unreadable_reason(std::string_view html) {
  static const std::regex title_re(R"(<[Tt][Ii][Tt][Ll][Ee]>([^<]*)<)");
  static const std::regex lang_re(R"re([Ll][Aa][Nn][Gg]="?([A-Za-z-]+))re");
  std::string reason;
  if (auto title = first_match(html, title_re); title && !title->empty()) reason = "title \"" + collapse(*title) + "\"";
  bool foreign = false;
  for (unsigned char c : html) foreign = foreign || c >= 0x80;
  if (auto lang = first_match(html, lang_re); lang && util::to_lower(lang->substr(0, 2)) != "en") {
    foreign = true;
    reason += std::string(reason.empty() ? "" : ", ") + "lang=" + *lang;
  }
  if (foreign) reason += std::string(reason.empty() ? "" : ", ") + "not in English";
  return reason.empty() ? "no certsrv text found" : reason;
}

CertsrvPage read_submit_page(std::string_view html) {
  static const std::regex issued_re(R"(certnew\.cer\?ReqID=(\d+)&)");
  static const std::regex req_id_re(R"(Your Request Id is (\d+))");
  CertsrvPage page;
  // The issued page's links are not translated, so an issued certificate is readable in any language.
  if (auto id = first_match(html, issued_re)) {
    page.kind = CertsrvPage::Kind::issued;
    page.req_id = *id;
    return page;
  }
  auto id = first_match(html, req_id_re);
  if (id) page.req_id = *id;
  auto message = disposition_message(html);
  if (ca_unreachable(html)) {
    page.kind = CertsrvPage::Kind::ca_unavailable;
    page.message = message.value_or("The RPC server is unavailable. 0x800706ba");
    return page;
  }
  if (id && (contains(html, "Certificate Pending") || contains(html, "you must wait for an administrator"))) {
    page.kind = CertsrvPage::Kind::pending;
    return page;
  }
  if (message) {
    page.kind = CertsrvPage::Kind::denied;
    page.message = *message;
    return page;
  }
  if (contains(html, "Certificate Request Denied") || contains(html, "Your certificate request was denied")) {
    page.kind = CertsrvPage::Kind::denied;
    page.message = "Your certificate request was denied.";
    return page;
  }
  page.kind = CertsrvPage::Kind::unreadable;
  page.message = unreadable_reason(html);
  return page;
}

CertsrvPage read_retrieve_page(std::string_view html) {
  CertsrvPage page;
  auto message = labelled_value(html, "Disposition message");
  auto last = labelled_value(html, "LastStatus");
  std::string text = message.value_or("");
  if (last && !last->empty()) text += (text.empty() ? "" : " (") + *last + (text.empty() ? "" : ")");
  page.message = text;
  if (ca_unreachable(html)) {
    page.kind = CertsrvPage::Kind::ca_unavailable;
    if (page.message.empty()) page.message = "The RPC server is unavailable. 0x800706ba";
  } else if (contains(html, "Taken Under Submission")) {
    page.kind = CertsrvPage::Kind::pending;
  } else if (contains(html, "Denied by")) {
    page.kind = CertsrvPage::Kind::denied;
  } else if (contains_nocase(html, "0x80092004") || contains(html, "CRYPT_E_NOT_FOUND") ||
             contains_nocase(html, "0x80070005")) {
    page.kind = CertsrvPage::Kind::not_found;
  } else if (message || last) {
    page.kind = CertsrvPage::Kind::error;
  } else {
    page.kind = CertsrvPage::Kind::unreadable;
    page.message = unreadable_reason(html);
  }
  return page;
}

}  // namespace capf::ca_online::adcs
