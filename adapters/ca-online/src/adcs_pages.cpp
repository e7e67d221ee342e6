// Reading certsrv pages by scanning, never with std::regex: a page is up to 1 MiB from a peer
// (or a proxy in front of it), and libstdc++'s regex recurses per character. Every search here
// moves forward only, so a page costs time linear in its length whatever it holds.
#include "capf/ca_online/adcs_pages.hpp"

#include "capf/util/text.hpp"

namespace capf::ca_online::adcs {

namespace {

/// ReqIDs are 32-bit request numbers in AD CS; more digits than this are not a ReqID.
constexpr std::size_t kMaxReqIdDigits = 12;

bool contains(std::string_view text, std::string_view what) { return text.find(what) != std::string_view::npos; }

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_letter_or_dash(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-'; }

/// The run of digits at `pos` when it is 1–kMaxReqIdDigits long.
std::optional<std::string> digits_at(std::string_view text, std::size_t pos) {
  std::size_t end = pos;
  while (end < text.size() && is_digit(text[end]) && end - pos <= kMaxReqIdDigits) ++end;
  if (end == pos || end - pos > kMaxReqIdDigits) return std::nullopt;
  return std::string(text.substr(pos, end - pos));
}

/// The first `prefix` followed by a ReqID (and then `suffix`, when given).
std::optional<std::string> req_id_after(std::string_view text, std::string_view prefix, std::string_view suffix) {
  for (auto at = text.find(prefix); at != std::string_view::npos; at = text.find(prefix, at + 1)) {
    const std::size_t start = at + prefix.size();
    auto id = digits_at(text, start);
    if (!id) continue;
    if (!suffix.empty() && text.substr(start + id->size(), suffix.size()) != suffix) continue;
    return id;
  }
  return std::nullopt;
}

// The CA service (certsvc) is unreachable from IIS: the pages report the RPC error.
bool ca_unreachable(std::string_view lower) {
  return contains(lower, "0x800706ba") || contains(lower, "the rpc server is unavailable");
}

/// Longest text taken from a page into a message (the rest is cut with "…").
constexpr std::size_t kMaxText = 1000;

std::string collapse(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (out.size() >= kMaxText) {
      out += "…";
      break;
    }
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
  static constexpr std::string_view kLead = "The disposition message is \"";
  // An empty quotation is skipped: a later one may still hold the text.
  for (auto at = html.find(kLead); at != std::string_view::npos; at = html.find(kLead, at + 1)) {
    const std::size_t start = at + kLead.size();
    const std::size_t end = std::min(html.find('"', start), html.size());
    if (end > start) return collapse(util::trim(html.substr(start, end - start)));
  }
  return std::nullopt;
}

std::optional<std::string> labelled_value(std::string_view html, std::string_view label) {
  // "<label>:" … at least one non-tab … two tabs … the value (at least one character) to the end
  // of its line. When an occurrence fails at its first tab, every occurrence before that tab
  // reaches the same tab and fails too, so the search resumes after it.
  const std::string lead = std::string(label) + ":";
  std::size_t from = 0;
  for (;;) {
    const auto at = html.find(lead, from);
    if (at == std::string_view::npos) return std::nullopt;
    const std::size_t after = at + lead.size();
    const auto tab = html.find('\t', after);
    if (tab == std::string_view::npos) return std::nullopt;  // no tab anywhere later: no later match either
    if (tab == after) {
      from = after;
      continue;
    }
    if (tab + 1 < html.size() && html[tab + 1] == '\t') {
      const std::size_t start = tab + 2;
      const std::size_t end = std::min(html.find_first_of("\r\n", start), html.size());
      if (end > start) return collapse(util::trim(html.substr(start, end - start)));
    }
    from = tab + 1;
  }
}

std::string unreadable_reason(std::string_view html) {
  const std::string lower = util::to_lower(html);
  std::string reason;
  if (const auto t = lower.find("<title>"); t != std::string::npos) {
    const std::size_t start = t + 7;
    if (const auto end = html.find('<', start); end != std::string_view::npos) {
      const std::string title = collapse(util::trim(html.substr(start, end - start)));
      if (!title.empty()) reason = "title \"" + title + "\"";
    }
  }
  bool foreign = false;
  for (unsigned char c : html) foreign = foreign || c >= 0x80;
  for (auto at = lower.find("lang="); at != std::string::npos; at = lower.find("lang=", at + 1)) {
    std::size_t start = at + 5;
    if (start < html.size() && html[start] == '"') ++start;
    std::size_t end = start;
    while (end < html.size() && is_letter_or_dash(html[end])) ++end;
    if (end == start) continue;
    const std::string lang(html.substr(start, std::min<std::size_t>(end - start, 35)));
    if (util::to_lower(lang.substr(0, 2)) != "en") {
      foreign = true;
      reason += std::string(reason.empty() ? "" : ", ") + "lang=" + lang;
    }
    break;
  }
  if (foreign) reason += std::string(reason.empty() ? "" : ", ") + "not in English";
  return reason.empty() ? "no certsrv text found" : reason;
}

CertsrvPage read_submit_page(std::string_view html) {
  CertsrvPage page;
  // The issued page's links are not translated, so an issued certificate is readable in any language.
  if (auto id = req_id_after(html, "certnew.cer?ReqID=", "&")) {
    page.kind = CertsrvPage::Kind::issued;
    page.req_id = *id;
    return page;
  }
  auto id = req_id_after(html, "Your Request Id is ", "");
  if (id) page.req_id = *id;
  auto message = disposition_message(html);
  if (ca_unreachable(util::to_lower(html))) {
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
  const std::string lower = util::to_lower(html);
  auto message = labelled_value(html, "Disposition message");
  auto last = labelled_value(html, "LastStatus");
  std::string text = message.value_or("");
  if (last && !last->empty()) text += (text.empty() ? "" : " (") + *last + (text.empty() ? "" : ")");
  page.message = text;
  if (ca_unreachable(lower)) {
    page.kind = CertsrvPage::Kind::ca_unavailable;
    if (page.message.empty()) page.message = "The RPC server is unavailable. 0x800706ba";
  } else if (contains(html, "Taken Under Submission")) {
    page.kind = CertsrvPage::Kind::pending;
  } else if (contains(html, "Denied by")) {
    page.kind = CertsrvPage::Kind::denied;
  } else if (contains(lower, "0x80092004") || contains(html, "CRYPT_E_NOT_FOUND") || contains(lower, "0x80070005")) {
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
