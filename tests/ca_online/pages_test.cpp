// Reading certsrv pages: the English texts real clients match, and what capf makes of the rest.
#include <gtest/gtest.h>

#include "capf/ca_online/adcs_pages.hpp"

namespace capf::ca_online::adcs {
namespace {

TEST(CertsrvPages, IssuedPendingDenied) {
  auto issued = read_submit_page("<P>The certificate you requested was issued to you.\r\n"
                                 "location=\"certnew.cer?ReqID=17&\"+getEncoding();");
  EXPECT_EQ(issued.kind, CertsrvPage::Kind::issued);
  EXPECT_EQ(issued.req_id, "17");
  auto link = read_submit_page("<A Href=\"certnew.cer?ReqID=18&amp;Enc=b64\">Download certificate</A>");
  EXPECT_EQ(link.req_id, "18");

  auto pending = read_submit_page("<B> Certificate Pending </B> ... Your Request Id is 19.\r\n");
  EXPECT_EQ(pending.kind, CertsrvPage::Kind::pending);
  EXPECT_EQ(pending.req_id, "19");

  auto denied = read_submit_page(
      "<B> Certificate Request Denied </B><P>Your certificate request was denied.<P>Your Request Id is 20. The "
      "disposition message is \"Denied by Policy Module  0x80094800, The request was for a certificate template "
      "that is not supported by the Active Directory Certificate Services policy: X.\".");
  EXPECT_EQ(denied.kind, CertsrvPage::Kind::denied);
  EXPECT_EQ(denied.req_id, "20");
  EXPECT_NE(denied.message.find("0x80094800"), std::string::npos);

  auto rpc = read_submit_page("The disposition message is \"The RPC server is unavailable. 0x800706ba\".");
  EXPECT_EQ(rpc.kind, CertsrvPage::Kind::ca_unavailable);
}

TEST(CertsrvPages, RetrievePageTwoTabLayout) {
  const std::string page =
      "<DT ID=locDispMsgLabel><Font Size=-1><B>Disposition message:</B></Font></DT><DD>\r\n"
      "\t\tDenied by EMU\\Administrator\r\n\t</DD>\r\n"
      "<DT ID=locLastStatLabel><Font Size=-1><B>LastStatus:</B></Font></DT><DD>\r\n"
      "\t\tThe request was denied by a certificate manager or CA administrator. 0x80094014\r\n\t</DD>";
  EXPECT_EQ(labelled_value(page, "Disposition message"), "Denied by EMU\\Administrator");
  auto denied = read_retrieve_page(page);
  EXPECT_EQ(denied.kind, CertsrvPage::Kind::denied);
  EXPECT_EQ(denied.message,
            "Denied by EMU\\Administrator (The request was denied by a certificate manager or CA administrator. "
            "0x80094014)");
  EXPECT_EQ(read_retrieve_page("Disposition message:</B>\r\n\t\tTaken Under Submission\r\n").kind,
            CertsrvPage::Kind::pending);
  EXPECT_EQ(read_retrieve_page("LastStatus:</B>\r\n\t\tCannot find object or property. 0x80092004\r\n").kind,
            CertsrvPage::Kind::not_found);
  EXPECT_EQ(read_retrieve_page("LastStatus:</B>\r\n\t\tSomething else 0x1\r\n").kind, CertsrvPage::Kind::error);
}

TEST(CertsrvPages, OtherLanguagesAreUnreadableAndSaySo) {
  auto ja = read_submit_page("<HTML lang=\"ja\"><Title>証明書は保留中です</Title>要求 ID は 5 です。");
  EXPECT_EQ(ja.kind, CertsrvPage::Kind::unreadable);
  EXPECT_NE(ja.message.find("not in English"), std::string::npos) << ja.message;
  EXPECT_NE(ja.message.find("lang=ja"), std::string::npos) << ja.message;
  auto other = read_submit_page("<html><title>Welcome to nginx!</title></html>");
  EXPECT_EQ(other.kind, CertsrvPage::Kind::unreadable);
  EXPECT_EQ(other.message, "title \"Welcome to nginx!\"");
}

TEST(CertsrvPages, A100KbErrorPageWithoutATabIsRead) {
  // A proxy's or WAF's error page that happens to say "Disposition message:": std::regex
  // recursed per character over it and overflowed the stack at about 40 KB.
  const std::string page = "<html><title>Request blocked</title>Disposition message: " + std::string(100 * 1024, 'x');
  EXPECT_FALSE(labelled_value(page, "Disposition message"));
  auto r = read_retrieve_page(page);
  EXPECT_EQ(r.kind, CertsrvPage::Kind::unreadable);
  EXPECT_EQ(r.message, "title \"Request blocked\"");
  auto s = read_submit_page(page + "The disposition message is \"" + std::string(100 * 1024, 'y'));
  EXPECT_EQ(s.kind, CertsrvPage::Kind::denied);
  EXPECT_LE(s.message.size(), 1004u);  // a page's text is cut to 1,000 characters in messages
}

TEST(CertsrvPages, OneMebibyteOfRepeatedLabelsAndLinksIsReadInOnePass) {
  // Shapes that make a search that restarts at every occurrence quadratic.
  std::string labels, tabs, links;
  while (labels.size() < 1024 * 1024) labels += "Disposition message:";
  while (tabs.size() < 1024 * 1024) tabs += "LastStatus:x\t";
  while (links.size() < 1024 * 1024) links += "certnew.cer?ReqID=1234567890123&Your Request Id is ";
  EXPECT_FALSE(labelled_value(labels, "Disposition message"));
  EXPECT_FALSE(labelled_value(tabs, "LastStatus"));
  EXPECT_EQ(read_retrieve_page(labels).kind, CertsrvPage::Kind::unreadable);
  auto p = read_submit_page(links);
  EXPECT_EQ(p.kind, CertsrvPage::Kind::unreadable);  // 13 digits is no ReqID
  EXPECT_TRUE(p.req_id.empty());
  EXPECT_EQ(labelled_value(tabs + "LastStatus:</B>\r\n\t\tDone 0x0\r\n", "LastStatus"), "Done 0x0");
}

TEST(CertsrvPages, EmptyCapturesDoNotHideALaterOne) {
  EXPECT_EQ(disposition_message(R"(The disposition message is "". The disposition message is "Denied 0x1".)"),
            "Denied 0x1");
  EXPECT_EQ(labelled_value("LastStatus:x\t\t\r\nLastStatus:y\t\tSecond\r\n", "LastStatus"), "Second");
  EXPECT_EQ(read_submit_page("certnew.cer?ReqID=&x certnew.cer?ReqID=42&").req_id, "42");
}

}  // namespace
}  // namespace capf::ca_online::adcs
