// TZif (RFC 8536) and POSIX TZ string parsing; instant <-> wall time conversion.
#include "domain/time_zone.h"

#include <algorithm>
#include <array>
#include <limits>
#include <utility>

namespace todo::domain {
namespace {

constexpr std::int64_t kSecondsPerDay = 86400;
constexpr std::int64_t kMicrosPerSecond = 1'000'000;
// No Timestamp lies beyond ±2^44 seconds (about 557,000 years), so clamping transition times and
// wall times there keeps every sum with an offset far from overflow without changing an answer.
constexpr std::int64_t kFarSeconds = std::int64_t{1} << 44;
// RFC 8536 asks for offsets in -25:59:59..+25:59:59; anything larger is corrupt data.
constexpr std::int32_t kMaxTypeOffset = 26 * 3600 - 1;
constexpr int kMaxTypes = 256;  // a transition names its type in one byte

constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

constexpr std::int64_t clamp_seconds(std::int64_t s) {
  return std::clamp(s, -kFarSeconds, kFarSeconds);
}

std::int64_t utc_seconds(Timestamp instant) {
  return floor_div(instant.time_since_epoch().count(), kMicrosPerSecond);
}

int year_of(std::int64_t seconds) {
  return civil_from_days(floor_div(seconds, kSecondsPerDay)).year;
}

Error tz_error(std::string detail) { return make_error(ErrorCode::kValidation, std::move(detail)); }

// ---- POSIX TZ strings -----------------------------------------------------------------------

using PosixRule = TimeZone::PosixRule;
using RuleDate = TimeZone::RuleDate;

// Recursive descent over `std offset [dst [offset] [,start[/time],end[/time]]]`.
class PosixParser {
 public:
  explicit PosixParser(std::string_view text) : text_(text) {}

  Result<PosixRule> parse() {
    if (text_.empty()) return fail("is empty");
    if (text_.front() == ':') return fail("uses the implementation-defined ':' form");
    PosixRule rule;
    auto std_name = name();
    if (!std_name) return fail("needs a standard-time name of 3+ letters or <...>");
    auto std_offset = hms(24, "standard-time offset");
    if (!std_offset) return fail(error_);
    rule.standard = {-std_offset.value(), false, std::move(std_name).value()};
    if (at_end()) return rule;

    auto dst_name = name();
    if (!dst_name) return fail("needs a daylight-time name of 3+ letters or <...>");
    rule.has_dst = true;
    std::int32_t dst_offset = rule.standard.utc_offset + 3600;  // POSIX default: one hour ahead
    if (!at_end() && peek() != ',') {
      auto offset = hms(24, "daylight-time offset");
      if (!offset) return fail(error_);
      dst_offset = -offset.value();
    }
    rule.daylight = {dst_offset, true, std::move(dst_name).value()};
    if (at_end()) {
      // POSIX leaves the rule to the implementation; tzcode and glibc use the US rule.
      rule.start = {RuleDate::Kind::kMonthWeekDay, 0, 3, 2, 2 * 3600};
      rule.end = {RuleDate::Kind::kMonthWeekDay, 0, 11, 1, 2 * 3600};
      return rule;
    }
    if (!consume(',')) return fail("expects ',' before the daylight-time rule");
    auto start = rule_date("start");
    if (!start) return fail(error_);
    if (!consume(',')) return fail("expects ',' between the start and end of daylight time");
    auto end = rule_date("end");
    if (!end) return fail(error_);
    if (!at_end()) return fail("has unexpected text after the rule");
    rule.start = start.value();
    rule.end = end.value();
    return rule;
  }

 private:
  Error fail(std::string_view why) const {
    return tz_error("TZ string \"" + std::string(text_) + "\" " + std::string(why) +
                    " (at offset " + std::to_string(pos_) + ")");
  }
  bool at_end() const { return pos_ == text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }
  bool consume(char c) {
    if (peek() != c || at_end()) return false;
    ++pos_;
    return true;
  }
  static bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
  static bool is_digit(char c) { return c >= '0' && c <= '9'; }

  std::optional<std::string> name() {
    const std::size_t begin = pos_;
    if (consume('<')) {
      while (!at_end() &&
             (is_alpha(peek()) || is_digit(peek()) || peek() == '+' || peek() == '-')) {
        ++pos_;
      }
      const std::string_view inside = text_.substr(begin + 1, pos_ - begin - 1);
      if (inside.size() < 3 || !consume('>')) return std::nullopt;
      return std::string(inside);
    }
    while (!at_end() && is_alpha(peek())) ++pos_;
    if (pos_ - begin < 3) return std::nullopt;
    return std::string(text_.substr(begin, pos_ - begin));
  }

  // 1..max_digits decimal digits, at most `max`.
  std::optional<int> number(int max_digits, int max) {
    int value = 0;
    int digits = 0;
    while (!at_end() && is_digit(peek()) && digits < max_digits) {
      value = value * 10 + (peek() - '0');
      ++digits;
      ++pos_;
    }
    if (digits == 0 || (!at_end() && is_digit(peek())) || value > max) return std::nullopt;
    return value;
  }

  // [+-]hh[:mm[:ss]] in seconds, hours at most max_hours.
  std::optional<std::int32_t> hms(int max_hours, std::string_view what) {
    int sign = 1;
    if (consume('-')) {
      sign = -1;
    } else {
      consume('+');
    }
    const auto hours = number(3, max_hours);
    if (!hours) return bad(what, "hours");
    std::int32_t seconds = hours.value() * 3600;
    if (consume(':')) {
      const auto minutes = number(2, 59);
      if (!minutes) return bad(what, "minutes");
      seconds += minutes.value() * 60;
      if (consume(':')) {
        const auto secs = number(2, 59);
        if (!secs) return bad(what, "seconds");
        seconds += secs.value();
      }
    }
    return sign * seconds;
  }

  std::nullopt_t bad(std::string_view what, std::string_view part) {
    error_ = "has an invalid " + std::string(what) + " (" + std::string(part) + ")";
    return std::nullopt;
  }

  std::optional<RuleDate> rule_date(std::string_view which) {
    const std::string what = "daylight-time " + std::string(which) + " date";
    RuleDate date;
    if (consume('J')) {
      const auto n = number(3, 365);
      if (!n || n.value() < 1) return bad(what, "Jn needs n in 1..365");
      date.kind = RuleDate::Kind::kJulianNoLeap;
      date.day = n.value();
    } else if (consume('M')) {
      const auto month = number(2, 12);
      if (!month || month.value() < 1) return bad(what, "Mm.w.d needs m in 1..12");
      if (!consume('.')) return bad(what, "Mm.w.d needs '.' after m");
      const auto week = number(1, 5);
      if (!week || week.value() < 1) return bad(what, "Mm.w.d needs w in 1..5");
      if (!consume('.')) return bad(what, "Mm.w.d needs '.' after w");
      const auto day = number(1, 6);
      if (!day) return bad(what, "Mm.w.d needs d in 0..6");
      date.kind = RuleDate::Kind::kMonthWeekDay;
      date.month = month.value();
      date.week = week.value();
      date.day = day.value();
    } else {
      const auto n = number(3, 365);
      if (!n) return bad(what, "needs Jn, n or Mm.w.d");
      date.kind = RuleDate::Kind::kJulianZeroBased;
      date.day = n.value();
    }
    if (consume('/')) {
      // RFC 8536 §3.3.1: the time may be signed and range over -167..167 hours.
      const auto time = hms(167, "daylight-time " + std::string(which) + " time");
      if (!time) return std::nullopt;
      date.time = time.value();
    }
    return date;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::string error_;
};

// Seconds after 1970-01-01T00:00 local time at which `date` happens in `year`.
std::int64_t rule_local_seconds(const RuleDate& date, int year) {
  const std::int64_t jan1 = days_from_civil(year, 1, 1);
  std::int64_t days = 0;
  switch (date.kind) {
    case RuleDate::Kind::kJulianNoLeap:
      days = jan1 + date.day - 1 + (is_leap(year) && date.day >= 60 ? 1 : 0);
      break;
    case RuleDate::Kind::kJulianZeroBased:
      days = jan1 + date.day;
      break;
    case RuleDate::Kind::kMonthWeekDay: {
      const std::int64_t first = days_from_civil(year, date.month, 1);
      const int first_weekday = weekday_from_days(first);
      int mday = 1 + (date.day - first_weekday + 7) % 7 + 7 * (date.week - 1);
      const int last = days_in_month(year, date.month);
      while (mday > last) mday -= 7;
      days = first + mday - 1;
      break;
    }
  }
  return days * kSecondsPerDay + date.time;
}

struct RuleTransition {
  std::int64_t at = 0;  // UTC seconds
  bool to_daylight = false;
};

// The two transitions of `year`, in time order.
std::array<RuleTransition, 2> rule_transitions(const PosixRule& rule, int year) {
  const RuleTransition start{rule_local_seconds(rule.start, year) - rule.standard.utc_offset, true};
  const RuleTransition end{rule_local_seconds(rule.end, year) - rule.daylight.utc_offset, false};
  if (end.at < start.at) return {end, start};
  return {start, end};
}

// Transitions of years first..last (at most four years), ascending; ties keep year order so a
// rule with daylight time all year ("0/0,J365/25") ends one year and starts the next at once.
struct RuleTransitions {
  std::array<RuleTransition, 8> items{};
  std::size_t size = 0;
};

RuleTransitions rule_transitions(const PosixRule& rule, int first, int last) {
  RuleTransitions out;
  last = std::min(last, first + 3);
  for (int year = first; year <= last; ++year) {
    for (const RuleTransition& t : rule_transitions(rule, year)) out.items[out.size++] = t;
  }
  // Insertion sort: stable, and nearly sorted already (only rule times beyond a day can
  // interleave two years).
  for (std::size_t i = 1; i < out.size; ++i) {
    for (std::size_t j = i; j > 0 && out.items[j].at < out.items[j - 1].at; --j) {
      std::swap(out.items[j], out.items[j - 1]);
    }
  }
  return out;
}

// ---- TZif -----------------------------------------------------------------------------------

class ByteReader {
 public:
  explicit ByteReader(std::string_view bytes) : bytes_(bytes) {}
  bool has(std::uint64_t n) const { return bytes_.size() - pos_ >= n; }
  std::string_view take(std::size_t n) {
    const std::string_view out = bytes_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  std::uint8_t u8() { return static_cast<std::uint8_t>(bytes_[pos_++]); }
  std::uint32_t u32() {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | u8();
    return v;
  }
  std::uint64_t u64() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | u8();
    return v;
  }
  std::int32_t i32() { return static_cast<std::int32_t>(u32()); }
  std::int64_t i64() { return static_cast<std::int64_t>(u64()); }
  std::string_view rest() const { return bytes_.substr(pos_); }

 private:
  std::string_view bytes_;
  std::size_t pos_ = 0;
};

struct TzifHeader {
  char version = 0;
  std::uint32_t isutcnt = 0;
  std::uint32_t isstdcnt = 0;
  std::uint32_t leapcnt = 0;
  std::uint32_t timecnt = 0;
  std::uint32_t typecnt = 0;
  std::uint32_t charcnt = 0;

  // Bytes of the data block that follows, with 4- (v1) or 8-byte (v2+) times.
  std::uint64_t block_size(std::uint64_t time_size) const {
    return std::uint64_t{timecnt} * (time_size + 1) + std::uint64_t{typecnt} * 6 + charcnt +
           std::uint64_t{leapcnt} * (time_size + 4) + isstdcnt + isutcnt;
  }
};

// `which` is "first" (followed by 32-bit data) or "second" (64-bit data, version 2+ only).
Result<TzifHeader> read_header(ByteReader& in, std::string_view which) {
  const bool second = which == "second";
  if (!in.has(44)) return tz_error("TZif " + std::string(which) + " header is truncated");
  if (in.take(4) != "TZif")
    return tz_error("not a TZif file (bad magic in the " + std::string(which) + " header)");
  TzifHeader h;
  h.version = static_cast<char>(in.u8());
  if ((h.version != 0 || second) && (h.version < '2' || h.version > '9')) {
    return tz_error("TZif " + std::string(which) + " header has an unknown version byte");
  }
  in.take(15);
  h.isutcnt = in.u32();
  h.isstdcnt = in.u32();
  h.leapcnt = in.u32();
  h.timecnt = in.u32();
  h.typecnt = in.u32();
  h.charcnt = in.u32();
  if (h.typecnt == 0 || h.typecnt > kMaxTypes) {
    return tz_error("TZif header has " + std::to_string(h.typecnt) +
                    " local time types (needs 1..256)");
  }
  if (h.charcnt == 0) return tz_error("TZif header has no abbreviation characters");
  if ((h.isutcnt != 0 && h.isutcnt != h.typecnt) || (h.isstdcnt != 0 && h.isstdcnt != h.typecnt)) {
    return tz_error("TZif header's UT/standard indicator counts do not match its type count");
  }
  if (!in.has(h.block_size(second ? 8 : 4))) {
    return tz_error("TZif data block is truncated (" + std::to_string(in.rest().size()) +
                    " bytes left)");
  }
  return h;
}

struct TzifData {
  std::vector<std::int64_t> times;
  std::vector<std::uint8_t> type_of_time;
  std::vector<TimeZone::Type> types;
};

Result<TzifData> read_block(ByteReader& in, const TzifHeader& h, std::uint64_t time_size) {
  if (h.leapcnt != 0) {
    return tz_error(
        "TZif file has leap-second records, which only \"right/\" zones use; "
        "those count leap seconds and are not supported");
  }
  TzifData data;
  data.times.reserve(h.timecnt);
  for (std::uint32_t i = 0; i < h.timecnt; ++i) {
    const std::int64_t t = time_size == 4 ? in.i32() : in.i64();
    if (!data.times.empty() && t <= data.times.back()) {
      return tz_error("TZif transition times are not strictly ascending");
    }
    data.times.push_back(t);
  }
  data.type_of_time.reserve(h.timecnt);
  for (std::uint32_t i = 0; i < h.timecnt; ++i) {
    const std::uint8_t type = in.u8();
    if (type >= h.typecnt) return tz_error("TZif transition names a type that does not exist");
    data.type_of_time.push_back(type);
  }
  struct RawType {
    std::int32_t offset;
    std::uint8_t is_dst;
    std::uint8_t abbreviation;
  };
  std::vector<RawType> raw(h.typecnt);
  for (RawType& t : raw) {
    t.offset = in.i32();
    t.is_dst = in.u8();
    t.abbreviation = in.u8();
  }
  const std::string_view chars = in.take(h.charcnt);
  for (const RawType& t : raw) {
    if (t.offset < -kMaxTypeOffset || t.offset > kMaxTypeOffset) {
      return tz_error("TZif type has a UTC offset beyond ±26 hours: " + std::to_string(t.offset));
    }
    if (t.is_dst > 1) return tz_error("TZif type has a daylight flag other than 0 or 1");
    if (t.abbreviation >= chars.size()) {
      return tz_error("TZif type's abbreviation index is past the abbreviation characters");
    }
    const std::size_t nul = chars.find('\0', t.abbreviation);
    if (nul == std::string_view::npos) return tz_error("TZif abbreviation is not NUL-terminated");
    const std::string_view abbreviation = chars.substr(t.abbreviation, nul - t.abbreviation);
    for (char c : abbreviation) {
      if (c < 0x20 || c > 0x7e) return tz_error("TZif abbreviation has a non-printable byte");
    }
    data.types.push_back({t.offset, t.is_dst == 1, std::string(abbreviation)});
  }
  // Leap-second records are refused above; the standard/wall and UT/local indicators only
  // matter for POSIX-style fallback rules, which RFC 8536 readers do not use.
  in.take(static_cast<std::size_t>(h.isstdcnt) + h.isutcnt);
  return data;
}

// The footer of a v2+ file: "\n<TZ string>\n". An empty string means no rule.
Result<std::optional<PosixRule>> read_footer(ByteReader& in) {
  const std::string_view rest = in.rest();
  if (rest.empty() || rest.front() != '\n') return tz_error("TZif footer is missing");
  const std::size_t end = rest.find('\n', 1);
  if (end == std::string_view::npos) return tz_error("TZif footer is not terminated");
  const std::string_view tz = rest.substr(1, end - 1);
  if (tz.empty()) return std::optional<PosixRule>();
  auto rule = parse_posix_tz(tz);
  if (!rule) return tz_error("TZif footer: " + rule.error().detail);
  return std::optional<PosixRule>(std::move(rule).value());
}

}  // namespace

Result<TimeZone::PosixRule> parse_posix_tz(std::string_view tz) { return PosixParser(tz).parse(); }

// ---- TimeZone -------------------------------------------------------------------------------

struct TimeZone::LocalInfo {
  int matches = 0;  // instants whose wall time is the one asked for: 0 (gap), 1, or 2 (overlap)
  std::int64_t earliest = 0;
  std::int64_t latest = 0;
  std::int64_t after_gap = 0;  // when matches == 0: the wall time read with the offset before
};

TimeZone TimeZone::utc() {
  TimeZone zone;
  zone.name_ = "UTC";
  zone.types_.push_back({0, false, "UTC"});
  zone.finish(std::nullopt);
  return zone;
}

Result<TimeZone> TimeZone::from_posix_tz(std::string name, std::string_view tz) {
  auto rule = parse_posix_tz(tz);
  if (!rule) return rule.error();
  TimeZone zone;
  zone.name_ = std::move(name);
  zone.finish(std::move(rule).value());
  return zone;
}

Result<TimeZone> TimeZone::from_tzif(std::string name, std::string_view bytes) {
  auto with_name = [&name](Error e) {
    e.detail = "time zone \"" + name + "\": " + e.detail;
    return e;
  };
  ByteReader in(bytes);
  auto first = read_header(in, "first");
  if (!first) return with_name(first.error());
  std::uint64_t time_size = 4;
  std::optional<PosixRule> rule;
  TzifHeader header = first.value();
  if (header.version != 0) {
    // Version 2+: skip the 32-bit block, use the 64-bit one and the footer.
    in.take(static_cast<std::size_t>(header.block_size(4)));
    auto second = read_header(in, "second");
    if (!second) return with_name(second.error());
    header = second.value();
    time_size = 8;
  }
  auto data = read_block(in, header, time_size);
  if (!data) return with_name(data.error());
  if (time_size == 8) {
    auto footer = read_footer(in);
    if (!footer) return with_name(footer.error());
    rule = std::move(footer).value();
  }

  TimeZone zone;
  zone.name_ = std::move(name);
  zone.types_ = std::move(data.value().types);
  const std::vector<std::int64_t>& times = data.value().times;
  zone.transitions_.reserve(times.size());
  for (std::size_t i = 0; i < times.size(); ++i) {
    zone.transitions_.push_back({clamp_seconds(times[i]), data.value().type_of_time[i]});
  }
  zone.finish(std::move(rule));
  return zone;
}

void TimeZone::finish(std::optional<PosixRule> rule) {
  rule_ = std::move(rule);
  if (rule_) {
    rule_standard_ = static_cast<std::uint16_t>(types_.size());
    types_.push_back(rule_.value().standard);
    rule_daylight_ = rule_standard_;
    if (rule_.value().has_dst) {
      rule_daylight_ = static_cast<std::uint16_t>(types_.size());
      types_.push_back(rule_.value().daylight);
    }
  }
  min_offset_ = types_.front().utc_offset;
  max_offset_ = min_offset_;
  for (const Type& t : types_) {
    min_offset_ = std::min(min_offset_, t.utc_offset);
    max_offset_ = std::max(max_offset_, t.utc_offset);
  }
}

std::uint16_t TimeZone::rule_type_at(std::int64_t utc_seconds) const {
  const PosixRule& rule = rule_.value();
  if (!rule.has_dst) return rule_standard_;
  // The latest transition at or before the instant; on a tie the later year's wins, as in
  // rule_transitions. A year's transitions fall within about 8 days of it (rule times reach
  // ±167 h, offsets ±26 h, and day 365 of a common year is the next 1 January), so year - 2
  // always has them before the instant and year + 2 after it.
  const int year = year_of(utc_seconds + rule.standard.utc_offset);
  std::optional<RuleTransition> latest;
  for (int y = year - 2; y <= year + 1; ++y) {
    for (const RuleTransition& t : rule_transitions(rule, y)) {
      if (t.at <= utc_seconds && (!latest || t.at >= latest.value().at)) latest = t;
    }
  }
  if (!latest) return rule_standard_;  // unreachable, see above
  return latest.value().to_daylight ? rule_daylight_ : rule_standard_;
}

std::uint16_t TimeZone::type_index_at(std::int64_t utc_seconds) const {
  if (transitions_.empty()) return rule_ ? rule_type_at(utc_seconds) : 0;
  // RFC 8536 §3.2: type 0 before the first transition, the footer on or after the last.
  if (utc_seconds < transitions_.front().at) return 0;
  if (rule_ && utc_seconds >= transitions_.back().at) return rule_type_at(utc_seconds);
  const auto after = std::upper_bound(
      transitions_.begin(), transitions_.end(), utc_seconds,
      [](std::int64_t t, const Transition& transition) { return t < transition.at; });
  return transitions_[static_cast<std::size_t>(after - transitions_.begin()) - 1].type;
}

const TimeZone::Type& TimeZone::type_at(Timestamp instant) const {
  return types_[type_index_at(clamp_seconds(utc_seconds(instant)))];
}

// Calls visit(at, type) for every change of type with after < at <= up_to, in time order, as
// type_index_at sees them: the file's transitions, then the rule's. The window is at most a few
// days wide.
template <class Visit>
void TimeZone::for_each_transition(std::int64_t after, std::int64_t up_to, Visit&& visit) const {
  auto it = std::upper_bound(
      transitions_.begin(), transitions_.end(), after,
      [](std::int64_t t, const Transition& transition) { return t < transition.at; });
  for (; it != transitions_.end() && it->at <= up_to; ++it) {
    // From the last transition on, the footer says which type applies (it normally agrees).
    const bool last = std::next(it) == transitions_.end();
    visit(it->at, rule_ && last ? rule_type_at(it->at) : it->type);
  }
  if (!rule_) return;
  std::int64_t rule_after = after;  // rule transitions at or before this are already in effect
  if (!transitions_.empty()) {
    if (up_to <= transitions_.back().at) return;
    rule_after = std::max(after, transitions_.back().at);
  }
  if (!rule_.value().has_dst) return;
  const RuleTransitions all =
      rule_transitions(rule_.value(), year_of(rule_after) - 1, year_of(up_to) + 1);
  for (std::size_t i = 0; i < all.size; ++i) {
    const RuleTransition& t = all.items[i];
    if (t.at > rule_after && t.at <= up_to) {
      visit(t.at, t.to_daylight ? rule_daylight_ : rule_standard_);
    }
  }
}

// Every instant u with u + offset(u) == wall lies in [wall - max_offset_, wall - min_offset_]:
// walk the pieces of constant offset in that window and see which contain their candidate.
TimeZone::LocalInfo TimeZone::local_info(const LocalDateTime& local) const {
  const std::int64_t months = std::int64_t{local.year} * 12 + std::int64_t{local.month} - 1;
  const std::int64_t year = floor_div(months, 12);
  const std::int64_t days =
      days_from_civil(year, static_cast<int>(months - year * 12) + 1, local.day);
  const std::int64_t wall = clamp_seconds(days * kSecondsPerDay + std::int64_t{local.hour} * 3600 +
                                          std::int64_t{local.minute} * 60 + local.second +
                                          floor_div(local.microsecond, kMicrosPerSecond));

  LocalInfo info;
  const std::int64_t lo = wall - max_offset_;
  const std::int64_t hi = wall - min_offset_;
  std::int64_t piece_start = std::numeric_limits<std::int64_t>::min();
  std::int32_t offset = types_[type_index_at(lo)].utc_offset;
  auto match_in_piece = [&](std::int64_t piece_end) {  // piece is [piece_start, piece_end)
    const std::int64_t candidate = wall - offset;
    if (candidate < piece_start || candidate >= piece_end) return;
    info.latest = candidate;
    if (info.matches++ == 0) info.earliest = candidate;
  };
  bool gap_found = false;
  for_each_transition(lo, hi, [&](std::int64_t at, std::uint16_t type) {
    match_in_piece(at);
    const std::int32_t next = types_[type].utc_offset;
    if (!gap_found && next > offset && at + offset <= wall && wall < at + next) {
      info.after_gap = wall - offset;
      gap_found = true;
    }
    piece_start = at;
    offset = next;
  });
  match_in_piece(std::numeric_limits<std::int64_t>::max());
  if (info.matches == 0 && !gap_found) info.after_gap = wall - offset;  // unreachable in practice
  return info;
}

std::chrono::seconds TimeZone::utc_offset(Timestamp instant) const {
  return std::chrono::seconds(type_at(instant).utc_offset);
}

std::string TimeZone::abbreviation(Timestamp instant) const {
  return type_at(instant).abbreviation;
}

bool TimeZone::is_dst(Timestamp instant) const { return type_at(instant).is_dst; }

LocalDateTime TimeZone::to_local(Timestamp instant) const {
  const std::int64_t micros = instant.time_since_epoch().count();
  const std::int64_t seconds = floor_div(micros, kMicrosPerSecond);
  const std::int64_t wall = seconds + type_at(instant).utc_offset;
  const std::int64_t days = floor_div(wall, kSecondsPerDay);
  const auto of_day = static_cast<int>(wall - days * kSecondsPerDay);
  const LocalDate date = civil_from_days(days);
  return LocalDateTime{
      date.year,
      date.month,
      date.day,
      of_day / 3600,
      of_day % 3600 / 60,
      of_day % 60,
      static_cast<int>(micros % kMicrosPerSecond < 0 ? micros % kMicrosPerSecond + kMicrosPerSecond
                                                     : micros % kMicrosPerSecond)};
}

Timestamp TimeZone::to_utc(const LocalDateTime& local, Ambiguity ambiguity) const {
  const LocalInfo info = local_info(local);
  std::int64_t seconds = info.after_gap;
  if (info.matches > 0) seconds = ambiguity == Ambiguity::kEarliest ? info.earliest : info.latest;
  const std::int64_t micros =
      local.microsecond - floor_div(local.microsecond, kMicrosPerSecond) * kMicrosPerSecond;
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max() / kMicrosPerSecond - 1;
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min() / kMicrosPerSecond + 1;
  if (seconds > kMax) return Timestamp::max();
  if (seconds < kMin) return Timestamp::min();
  return Timestamp{std::chrono::microseconds{seconds * kMicrosPerSecond + micros}};
}

bool TimeZone::is_gap(const LocalDateTime& local) const { return local_info(local).matches == 0; }

bool TimeZone::is_ambiguous(const LocalDateTime& local) const {
  return local_info(local).matches > 1;
}

}  // namespace todo::domain
