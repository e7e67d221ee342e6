// Reading the HTML pages of AD CS web enrollment (certsrv, online-ca.md §1.2–§1.3). The HTTP
// status is 200 for every outcome; what happened is only in the page text, and only in English.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace capf::ca_online::adcs {

/// What a certsrv page says.
struct CertsrvPage {
  enum class Kind {
    issued,          ///< submit: the "Certificate Issued" page; req_id is the ReqID of its certnew.cer link
    pending,         ///< submit: "Certificate Pending"; retrieve: "Taken Under Submission"
    denied,          ///< "Certificate Request Denied", the error page ("Error Parsing Request …"), or "Denied by …"
    ca_unavailable,  ///< the CA service behind IIS is not reachable ("The RPC server is unavailable. 0x800706ba")
    not_found,       ///< retrieve: the CA has no request under that ReqID visible to this account
    error,           ///< a disposition page with an outcome capf does not know (message holds its texts)
    unreadable,      ///< none of the English texts capf knows (another language, or not a certsrv page)
  };
  Kind kind = Kind::unreadable;
  std::string req_id;   ///< issued/pending/denied, when the page tells it
  std::string message;  ///< disposition message (plus LastStatus), or why the page is unreadable
};

/// Reads the page POST certfnsh.asp answered with.
CertsrvPage read_submit_page(std::string_view html);
/// Reads the HTML disposition page GET certnew.cer answers with when it has no certificate.
CertsrvPage read_retrieve_page(std::string_view html);

/// `The disposition message is "<text>"` of the result pages.
std::optional<std::string> disposition_message(std::string_view html);
/// The value after a labelled row of the certnew.cer disposition page ("Disposition message",
/// "LastStatus"): `<label>:` … two tabs … the value up to the end of its line.
std::optional<std::string> labelled_value(std::string_view html, std::string_view label);
/// Why capf cannot read a page, in words: its title and whether it looks non-English.
std::string unreadable_reason(std::string_view html);

}  // namespace capf::ca_online::adcs
