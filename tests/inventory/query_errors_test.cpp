// The device query language: parse errors with their positions, and the limits on untrusted
// input.
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "capf/inventory/query.hpp"
#include "capf/util/time.hpp"
#include "query_test_util.hpp"

using namespace capf;
using namespace capf::inventory;
using namespace capf::inventory::query_test;

namespace {

// ---- parse errors: position (1-based) and what was expected

struct ErrorCase {
  const char* query;
  const char* message;
};

void PrintTo(const ErrorCase& c, std::ostream* os) {
  *os << "`" << c.query << "`";
}

class QueryError : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(QueryError, NamesPositionAndExpectation) {
  EXPECT_EQ(parse_error(GetParam().query), GetParam().message) << GetParam().query;
}

const ErrorCase kErrorCases[] = {
    // missing pieces
    {"device_pool =", "query:14: expected a value after 'device_pool ='"},
    {"name = a AND device_pool =", "query:27: expected a value after 'device_pool ='"},
    {"device_pool = \"DP HQ\" Annex",
     "query:23: expected AND, OR or the end of the query, found 'Annex' (join conditions with AND / OR; put a value "
     "containing spaces in double quotes)"},
    {"device_pool = )", "query:15: expected a value after 'device_pool =', found ')'"},
    {"name = AND", "query:8: expected a value after 'name =', found 'AND' (quote it to use it as a value)"},
    {"device_pool DP-HQ",
     "query:13: expected an operator after 'device_pool' (=, !=, ~, !~, in, not in), found 'DP-HQ'"},
    {"lsc_expires", "query:12: expected an operator after 'lsc_expires' (=, !=, <, <=, >, >=, before, after)"},
    {"name not like x", "query:6: expected an operator after 'name' (=, !=, ~, !~, in, not in), found 'not'"},
    {"name = a AND", "query:13: expected a field name, NOT or '(' after 'AND'"},
    {"name = a OR NOT", "query:16: expected a field name, NOT or '(' after 'NOT'"},
    {"AND name = a", "query:1: expected a field name, NOT or '(', found 'AND'"},
    {"name = a AND OR name = b", "query:14: expected a field name, NOT or '(' after 'AND', found 'OR'"},
    {"()", "query:2: expected a field name, NOT or '(' after '(', found ')'"},
    {"= x", "query:1: expected a field name, NOT or '(', found '='"},
    {"\"name\" = x", "query:1: expected a field name, NOT or '(', found \"name\""},
    {"name = a b",
     "query:10: expected AND, OR or the end of the query, found 'b' (join conditions with AND / OR; put a value "
     "containing spaces in double quotes)"},
    {"name = a name = b",
     "query:10: expected AND, OR or the end of the query, found 'name' (join conditions with AND / OR; put a value "
     "containing spaces in double quotes)"},
    {"(name = a", "query:10: expected AND, OR or ')' to close the '(' at position 1"},
    {"(name = a OR (name = b) name = c)",
     "query:25: expected AND, OR or ')' to close the '(' at position 1, found 'name'"
     " (join conditions with AND / OR; put a value containing spaces in double quotes)"},
    {"name = a)", "query:9: ')' without a matching '('"},
    {"lsc_expires_before", "query:19: expected a value after 'lsc_expires_before'"},
    {"lsc_expires_before = 2027-01-01", "query:20: expected a value after 'lsc_expires_before', found '='"},
    // lists
    {"name in a", "query:9: expected '(' after 'name in', found 'a'"},
    {"name in (a b)", "query:12: expected ',' or ')' in the list after 'name in', found 'b'"},
    {"name in ()", "query:10: expected a value after 'name in (', found ')'"},
    {"name in (a,)", "query:12: expected a value after ',', found ')'"},
    {"name in (a", "query:11: expected ',' or ')' in the list after 'name in'"},
    {"name NOT IN (a, AND)", "query:17: expected a value after ',', found 'AND' (quote it to use it as a value)"},
    // unknown fields and values
    {"pool = DP-HQ",
     "query:1: unknown field 'pool' (fields: name, description, device_type, device_pool, "
     "security_profile, operation, auth_mode, operation_status, lsc_status, lsc_expires, lsc_issuer, "
     "last_seen, completes_by, security_mode; shorthands: lsc_expires_before, lsc_expires_after, last_seen_before, "
     "last_seen_after)"},
    {"operation = instal",
     "query:13: unknown value 'instal' for operation (accepted: none, install, delete, troubleshoot, "
     "\"No Pending Operation\", \"Install/Upgrade\")"},
    {"operation_status = busy",
     "query:20: unknown value 'busy' for operation_status (accepted: none, pending, in-progress, "
     "success, failed, locked, expired)"},
    {"lsc_status = stale", "query:14: unknown value 'stale' for lsc_status (accepted: none, valid, expired, revoked)"},
    {"auth_mode in (string, pin)",
     "query:23: unknown value 'pin' for auth_mode (accepted: string, null, lsc, mic, \"By Authentication "
     "String\", \"By Null String\", \"By Existing Certificate (Precedence to LSC)\", \"By Existing "
     "Certificate (Precedence to MIC)\")"},
    {"lsc_status = \"\"", "query:14: unknown value '' for lsc_status (accepted: none, valid, expired, revoked)"},
    // operators a field's kind does not take
    {"device_pool < 2027-01-01",
     "query:13: '<' compares dates, but 'device_pool' is a text field (use =, !=, ~, !~, in, not in)"},
    {"name before x", "query:6: 'before' compares dates, but 'name' is a text field (use =, !=, ~, !~, in, not in)"},
    {"lsc_issuer >= a",
     "query:12: '>=' compares dates, but 'lsc_issuer' is a text field (use =, !=, ~, !~, in, not in)"},
    {"operation_status < pending",
     "query:18: '<' compares dates, but 'operation_status' is a field with fixed values (use =, !=, in, not in)"},
    {"operation ~ inst*",
     "query:11: '~' matches text patterns, but 'operation' is a field with fixed values (use =, !=, in, not in)"},
    {"lsc_expires ~ 2027*",
     "query:13: '~' matches text patterns, but 'lsc_expires' is a date field (use =, !=, <, <=, >, >=, before, after)"},
    {"last_seen !~ x",
     "query:11: '!~' matches text patterns, but 'last_seen' is a date field (use =, !=, <, <=, >, >=, before, after)"},
    {"last_seen in (now)",
     "query:11: 'in' takes a list of values, but 'last_seen' is a date field (use =, !=, <, <=, >, >=, before, after)"},
    {"completes_by not in (now)",
     "query:14: 'not in' takes a list of values, but 'completes_by' is a date field (use =, !=, <, <=, >, >=, before, "
     "after)"},
    // dates
    {"lsc_expires < tomorrow",
     "query:15: bad date 'tomorrow' after 'lsc_expires <' (use YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ, now, "
     "now+30d, now-12h (units s, m, h, d, w))"},
    {"lsc_expires_before 2027-13-01",
     "query:20: bad date '2027-13-01' after 'lsc_expires_before' (use YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ, "
     "now, now+30d, now-12h (units s, m, h, d, w))"},
    {"last_seen after now+30x",
     "query:17: bad date 'now+30x' after 'last_seen after' (use YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ, now, "
     "now+30d, now-12h (units s, m, h, d, w))"},
    {"last_seen > now+d",
     "query:13: bad date 'now+d' after 'last_seen >' (use YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ, now, now+30d, "
     "now-12h (units s, m, h, d, w))"},
    {"last_seen > now30d",
     "query:13: bad date 'now30d' after 'last_seen >' (use YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ, now, now+30d, "
     "now-12h (units s, m, h, d, w))"},
    {"last_seen > now+1234567890d",
     "query:13: bad date 'now+1234567890d' after 'last_seen >' (use YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ, now, "
     "now+30d, now-12h (units s, m, h, d, w))"},
    {"last_seen < never", "query:13: 'never' only works with = and != (after 'last_seen <')"},
    {"completes_by after none", "query:20: 'none' only works with = and != (after 'completes_by after')"},
    // characters and quoting
    {"name = \"abc", "query:8: unterminated quoted value (missing '\"')"},
    {"name = \"abc\\", "query:8: unterminated quoted value (missing '\"')"},
    {"name = \"a\\nb\"", "query:10: unknown escape '\\n' in a quoted value (only \\\" and \\\\)"},
    {"name = a & b", "query:10: unexpected character '&' (use AND / OR)"},
    {"name = a || name = b", "query:10: unexpected character '|' (use AND / OR)"},
    {"name = 'x'", "query:8: unexpected character ''' (quote values with double quotes)"},
    {"name ! a", "query:6: expected '=' or '~' after '!'"},
    {"name = a;", "query:9: unexpected character ';'"},
    // DNs hold '=' and ',', so they are quoted.
    {"lsc_issuer = CN=Lab",
     "query:16: expected AND, OR or the end of the query, found '=' (put a value containing '=', '<', '>', '!' or '~' "
     "in double quotes)"},
    {"name = caf\xC3\xA9", "query:11: unexpected character '\\xC3'"},
    {"name = a\x01", "query:9: unexpected character '\\x01'"},
    {"a_very_long_field_name_that_goes_on_and_on_and_on = 1",
     "query:1: unknown field 'a_very_long_field_name_that_goes_on_and_...' (fields: name, description, "
     "device_type, device_pool, security_profile, operation, auth_mode, operation_status, lsc_status, "
     "lsc_expires, lsc_issuer, last_seen, completes_by, security_mode; shorthands: lsc_expires_before, "
     "lsc_expires_after, "
     "last_seen_before, last_seen_after)"},
};
INSTANTIATE_TEST_SUITE_P(ParseErrors, QueryError, ::testing::ValuesIn(kErrorCases));

// ---- limits on untrusted input

std::string nested(int depth) {
  return std::string(static_cast<std::size_t>(depth), '(') + "device_pool = DP-LAB" +
         std::string(static_cast<std::size_t>(depth), ')');
}

TEST(QueryLimits, TextUpTo4096CharactersIsAccepted) {
  std::string at_limit = "name = ";
  at_limit += std::string(kMaxQueryLength - at_limit.size(), 'x');
  ASSERT_EQ(at_limit.size(), 4096u);
  EXPECT_EQ(select(at_limit), "");
  EXPECT_EQ(select(std::string(4096, ' ')), all_tags());
  EXPECT_EQ(parse_error(at_limit + "x"), "query:4097: query longer than 4096 characters (4097)");
  EXPECT_EQ(parse_error(std::string(100000, '(')), "query:4097: query longer than 4096 characters (100000)");
}

TEST(QueryLimits, NestingUpTo32LevelsIsAccepted) {
  EXPECT_EQ(select(nested(32)), "d14 d15 d16 d17");
  EXPECT_EQ(parse_error(nested(33)), "query:33: parentheses nested deeper than 32 levels");
  EXPECT_EQ(parse_error(std::string(4096, '(')), "query:33: parentheses nested deeper than 32 levels");
  std::string deep_nots;
  for (int i = 0; i < 32; ++i) deep_nots += "NOT (";
  deep_nots += "device_pool = DP-LAB" + std::string(32, ')');
  EXPECT_EQ(select(deep_nots), "d14 d15 d16 d17");  // 32 NOTs cancel out
}

TEST(QueryLimits, LongFlatChainsDoNotRecurse) {
  std::string nots;
  while (nots.size() + 8 + 20 <= kMaxQueryLength) nots += "NOT NOT ";
  ASSERT_GT(nots.size(), 4000u);
  EXPECT_EQ(select(nots + "device_pool = DP-LAB"), "d14 d15 d16 d17");
  EXPECT_EQ(select("NOT " + nots + "device_pool = DP-LAB"),
            "d01 d02 d03 d04 d05 d06 d07 d08 d09 d10 d11 d12 d13 d18 d19 d20");

  std::string ors = "name = CSFJDOE";
  while (ors.size() + 18 <= kMaxQueryLength) ors += " OR name = zzzzzz";
  EXPECT_EQ(select(ors), "d12");
  std::string list = "device_pool in (DP-LAB";
  while (list.size() + 8 <= kMaxQueryLength) list += ", x";
  EXPECT_EQ(select(list + ")"), "d14 d15 d16 d17");
}

}  // namespace
