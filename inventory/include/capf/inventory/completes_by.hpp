// Operation Completes By as administrators write it: Unified CM's bulk form "YYYY:MM:DD:HH" (an
// hour in the cluster's time zone, the `time-zone` service parameter) or an ISO 8601 date/time.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "capf/util/result.hpp"
#include "capf/util/time.hpp"

namespace date {
class time_zone;
}

namespace capf::inventory {

/// The forms parse_completes_by accepts, for error messages.
extern const char* const kCompletesByForms;

/// The IANA zone named `name` ("UTC", "Europe/Berlin"), or an error naming it.
Result<const date::time_zone*> find_time_zone(std::string_view name);

/// "YYYY:MM:DD:HH" read as that hour in `zone` (a nonexistent hour on a spring-forward day is
/// the end of the gap, a repeated one on a fall-back day its first occurrence); nullopt when the
/// text is not in that form or not a real date and hour.
std::optional<util::UnixTime> parse_ucm_completes_by(std::string_view text, const date::time_zone& zone);

/// Operation Completes By in either form: "YYYY:MM:DD:HH" in the zone named `time_zone`, or
/// what util::parse_iso8601 reads (UTC unless it carries an offset). The error quotes the text
/// and names the accepted forms.
Result<util::UnixTime> parse_completes_by(std::string_view text, std::string_view time_zone);

}  // namespace capf::inventory
