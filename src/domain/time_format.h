// RFC 3339 rendering and parsing of instants.
#pragma once

#include "domain/civil.h"
#include "domain/clock.h"

#include <optional>
#include <string>
#include <string_view>

namespace todo::domain {

struct LocalDateTime;  // domain/time_zone.h
class TimeZone;

// "2026-11-27T09:30:00.123Z": UTC, millisecond precision, always with Z.
std::string format_rfc3339(Timestamp t);
// The same, appended to `out`.
void append_rfc3339(std::string& out, Timestamp t);

// Accepts "YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)"; nullopt when malformed or out of range.
// Input without an offset is not an instant and is rejected here (wall times are resolved in a
// time zone elsewhere).
std::optional<Timestamp> parse_rfc3339(std::string_view text);

// Exactly `count` decimal digits at `pos`; nullopt when one is not a digit or the text ends.
std::optional<int> read_digits(std::string_view text, std::size_t pos, std::size_t count);

// "YYYY-MM-DD", a real calendar date, and nothing more.
std::optional<LocalDate> parse_date(std::string_view text);

// "2026-03-29T09:00:00", with ".123456" when the microseconds are not zero: a wall time without
// a zone, as a recurring task's series anchor is stored.
std::string format_local_date_time(const LocalDateTime& local);
// The inverse of format_local_date_time (the fraction may have 1 to 6 digits); nullopt unless a
// real calendar date and time.
std::optional<LocalDateTime> parse_local_date_time(std::string_view text);

// "2026-03-29T09:00:00+02:00": the instant as wall time in `zone` with that zone's offset then;
// ".123" when the milliseconds are not zero. (An offset with seconds, only found in local mean
// time before 1900, is shown to the minute.)
std::string format_rfc3339_in_zone(Timestamp t, const TimeZone& zone);

inline std::int64_t to_micros(Timestamp t) { return t.time_since_epoch().count(); }
inline Timestamp from_micros(std::int64_t micros) {
  return Timestamp(std::chrono::microseconds(micros));
}

}  // namespace todo::domain
