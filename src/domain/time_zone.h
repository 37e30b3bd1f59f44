// IANA time zones: parses TZif bytes (RFC 8536) and POSIX TZ strings, converts instants to wall
// time and back. GCC 12's libstdc++ has no std::chrono::locate_zone, so this is our own; the bytes
// come from outside (app/system_zones.cpp reads /usr/share/zoneinfo), domain does no I/O.
#pragma once

#include <chrono>
#include <compare>
#include <memory>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/civil.h"
#include "domain/clock.h"
#include "domain/error.h"

namespace todo::domain {

// A wall-clock reading in some zone. Fields outside their usual range are normalised by to_utc,
// is_gap and is_ambiguous the way mktime does (31 April is 1 May).
struct LocalDateTime {
  int year = 1970;
  int month = 1;
  int day = 1;
  int hour = 0;
  int minute = 0;
  int second = 0;
  int microsecond = 0;

  LocalDate date() const { return LocalDate{year, month, day}; }
  friend bool operator==(const LocalDateTime&, const LocalDateTime&) = default;
  friend auto operator<=>(const LocalDateTime&, const LocalDateTime&) = default;
};

// Which instant an ambiguous wall time (the repeated hour when clocks go back) means.
enum class Ambiguity { kEarliest, kLatest };

class TimeZone {
 public:
  static TimeZone utc();

  // Parses TZif version 1 to 4 bytes: the 64-bit block when present, and its footer TZ string
  // from the last transition on (RFC 8536 §3.2). Leap-second ("right/") files are refused.
  // Malformed bytes give kValidation with a detail naming the zone and the problem.
  static Result<TimeZone> from_tzif(std::string name, std::string_view bytes);

  // A zone given by a POSIX TZ string alone, e.g. "CET-1CEST,M3.5.0,M10.5.0/3", with the
  // RFC 8536 §3.3.1 extensions (rule times from -167 to 167 hours).
  static Result<TimeZone> from_posix_tz(std::string name, std::string_view tz);

  const std::string& name() const { return name_; }

  // Seconds east of UTC at this instant, e.g. +3600s for Europe/Berlin in winter.
  std::chrono::seconds utc_offset(Timestamp instant) const;
  std::string abbreviation(Timestamp instant) const;  // "CET", "+0530"… as tzdata spells it
  bool is_dst(Timestamp instant) const;

  LocalDateTime to_local(Timestamp instant) const;

  // Wall time to instant. A wall time in a spring-forward gap moves forward by the length of the
  // gap (02:30 on the spring day in New York is 03:30 EDT); an ambiguous one (the repeated hour)
  // takes the earliest or the latest of its instants. Saturates at the ends of Timestamp.
  Timestamp to_utc(const LocalDateTime& local, Ambiguity ambiguity = Ambiguity::kEarliest) const;

  // True when the wall time does not exist / happens twice in this zone.
  bool is_gap(const LocalDateTime& local) const;
  bool is_ambiguous(const LocalDateTime& local) const;

  // One local time type of the zone: offset, daylight saving flag and abbreviation.
  struct Type {
    std::int32_t utc_offset = 0;  // seconds east of UTC
    bool is_dst = false;
    std::string abbreviation;
  };
  // A POSIX TZ rule date: Jn (1..365, 29 February never counted), n (0..365, counted), or the
  // d'th weekday (0 = Sunday) of week w (1..4, 5 = last) of month m; at `time` seconds after
  // local midnight (may be negative or beyond 24 hours).
  struct RuleDate {
    enum class Kind { kJulianNoLeap, kJulianZeroBased, kMonthWeekDay };
    Kind kind = Kind::kMonthWeekDay;
    int day = 0;  // Jn / n: n; Mm.w.d: d
    int month = 0;
    int week = 0;
    std::int32_t time = 2 * 3600;
  };
  // A parsed POSIX TZ string; has_dst false means standard time all year.
  struct PosixRule {
    Type standard;
    bool has_dst = false;
    Type daylight;
    RuleDate start;  // daylight saving starts, in standard local time
    RuleDate end;    // daylight saving ends, in daylight local time
  };

 private:
  struct Transition {
    std::int64_t at = 0;     // seconds since the epoch, UTC
    std::uint16_t type = 0;  // index into types_
  };
  struct LocalInfo;

  TimeZone() = default;
  void finish(std::optional<PosixRule> rule);

  std::uint16_t type_index_at(std::int64_t utc_seconds) const;
  std::uint16_t rule_type_at(std::int64_t utc_seconds) const;
  const Type& type_at(Timestamp instant) const;
  template <class Visit>
  void for_each_transition(std::int64_t after, std::int64_t up_to, Visit&& visit) const;
  LocalInfo local_info(const LocalDateTime& local) const;

  std::string name_;
  std::vector<Type> types_;  // the file's types, then the rule's standard and daylight types
  std::vector<Transition> transitions_;  // ascending by `at`
  std::optional<PosixRule> rule_;        // from the last transition on
  std::uint16_t rule_standard_ = 0;      // indexes of the rule's types in types_
  std::uint16_t rule_daylight_ = 0;
  std::int32_t min_offset_ = 0;  // over all types, bounds the search in to_utc
  std::int32_t max_offset_ = 0;
};

// Exposed for tests and for callers that hold a TZ string: parses a POSIX TZ string.
Result<TimeZone::PosixRule> parse_posix_tz(std::string_view tz);

// Knows the IANA time zones (the system's tzdata). Injected so domain code does no I/O.
class ZoneCatalog {
 public:
  virtual ~ZoneCatalog() = default;
  // The zone called `name` ("Europe/Berlin", "UTC"), or nullptr when there is none.
  virtual std::shared_ptr<const TimeZone> find(std::string_view name) const = 0;
  virtual bool contains(std::string_view name) const { return find(name) != nullptr; }
};

}  // namespace todo::domain
