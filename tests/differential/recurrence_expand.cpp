// Test-only driver of the recurrence engine for recurrence_dateutil.py: reads one case a line,
// "<RRULE> <DTSTART> <N> <LAST YEAR>" with DTSTART "YYYYMMDDTHHMMSS" (timed) or "YYYYMMDD"
// (all-day), and prints the first N elements of the series in floating wall time (UTC, so no
// DST), space-separated in the DTSTART's form and ending before LAST YEAR + 1, or "ERROR <reason>".
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>

#include "domain/recurrence.h"

namespace {

using todo::domain::LocalDateTime;

std::optional<LocalDateTime> parse_start(const std::string& text) {
  LocalDateTime t;
  if (text.size() == 8 && std::sscanf(text.c_str(), "%4d%2d%2d", &t.year, &t.month, &t.day) == 3) {
    return t;
  }
  if (text.size() == 15 && std::sscanf(text.c_str(), "%4d%2d%2dT%2d%2d%2d", &t.year, &t.month,
                                       &t.day, &t.hour, &t.minute, &t.second) == 6) {
    return t;
  }
  return std::nullopt;
}

std::string format(const LocalDateTime& t, bool all_day) {
  char buffer[32];
  if (all_day) {
    std::snprintf(buffer, sizeof buffer, "%04d%02d%02d", t.year, t.month, t.day);
  } else {
    std::snprintf(buffer, sizeof buffer, "%04d%02d%02dT%02d%02d%02d", t.year, t.month, t.day,
                  t.hour, t.minute, t.second);
  }
  return buffer;
}

std::string expand(const std::string& line) {
  std::istringstream in(line);
  std::string rule, start_text;
  int count = 0, last_year = 0;
  if (!(in >> rule >> start_text >> count >> last_year)) return "ERROR malformed case";
  const auto start = parse_start(start_text);
  if (!start) return "ERROR malformed DTSTART";
  const bool all_day = start_text.size() == 8;
  const auto plan = todo::domain::plan_series(rule, *start, all_day);
  if (!plan) {
    const auto& e = plan.error();
    return "ERROR " + (e.fields.empty() ? e.detail : e.fields[0].reason);
  }
  std::string out;
  int emitted = 0;
  const auto end = todo::domain::walk_series(*plan, todo::domain::TimeZone::utc(),
                                             [&](const todo::domain::Occurrence& o) {
                                               if (o.local.year > last_year) return false;
                                               if (!out.empty()) out += ' ';
                                               out += format(o.local, all_day);
                                               return ++emitted < count;
                                             });
  if (end == todo::domain::WalkEnd::kGaveUp) return "ERROR gave up";
  return out;
}

}  // namespace

int main() {
  std::string line;
  while (std::getline(std::cin, line)) std::cout << expand(line) << '\n';
  return 0;
}
