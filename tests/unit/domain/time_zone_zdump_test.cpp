// Cross-checks TimeZone against an independent implementation: glibc's zdump (Debian package
// libc-bin) lists every transition of a zone with the offset, abbreviation and wall time on
// either side. Set TODO_TZ_ZDUMP_ALL=1 to check every zone of zone1970.tab (about 10 s of zdump).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "domain/civil.h"
#include "domain/time_zone.h"
#include "support/tzdata.h"

namespace todo::domain {
namespace {

using namespace std::chrono;

// One line of `zdump -v`: at this UTC second the zone shows this wall time.
struct Observation {
  std::int64_t utc = 0;
  LocalDateTime local;
  std::string abbreviation;
  bool is_dst = false;
  int offset = 0;
};

int month_number(const std::string& name) {
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (int i = 0; i < 12; ++i) {
    if (name == kMonths[i]) return i + 1;
  }
  return 0;
}

// "Sun Mar  8 06:59:59 2026" as tokens: weekday, month, day, hh:mm:ss, year.
bool parse_time(std::istringstream& in, LocalDateTime& out) {
  std::string weekday, month, clock;
  if (!(in >> weekday >> month >> out.day >> clock >> out.year)) return false;
  out.month = month_number(month);
  return out.month != 0 &&
         std::sscanf(clock.c_str(), "%d:%d:%d", &out.hour, &out.minute, &out.second) == 3;
}

std::int64_t seconds_of(const LocalDateTime& t) {
  return days_from_civil(t.year, t.month, t.day) * 86400 + t.hour * 3600 + t.minute * 60 + t.second;
}

LocalDateTime wall_of(std::int64_t seconds) {
  const std::int64_t days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400;
  const LocalDate date = civil_from_days(days);
  const auto of_day = static_cast<int>(seconds - days * 86400);
  return {date.year, date.month, date.day, of_day / 3600, of_day % 3600 / 60, of_day % 60};
}

// TODO_TZ_ZDUMP_ROOT=<dir> reads our side from other files of the same tzdata version, e.g. the
// output of `zic -b slim -d <dir> /usr/share/zoneinfo/tzdata.zi`.
std::filesystem::path zoneinfo_root() {
  const char* root = std::getenv("TODO_TZ_ZDUMP_ROOT");
  return root != nullptr ? std::filesystem::path(root) : testing::kSystemZoneinfo;
}

std::map<std::string, std::vector<Observation>> run_zdump(const std::vector<std::string>& zones) {
  // glibc reads zones from $TZDIR, so zdump sees the same files as we do.
  std::string command = "TZDIR='" + zoneinfo_root().string() + "' zdump -v -c 1800,2100";
  for (const std::string& zone : zones) command += " " + zone;
  std::map<std::string, std::vector<Observation>> out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  std::string text;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) text.append(buffer, n);
  pclose(pipe);
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream in(line);
    std::string zone, ut, equals, isdst, gmtoff;
    Observation o;
    LocalDateTime utc;
    if (!(in >> zone) || !parse_time(in, utc) || !(in >> ut >> equals) || ut != "UT" ||
        !parse_time(in, o.local) || !(in >> o.abbreviation >> isdst >> gmtoff) ||
        !isdst.starts_with("isdst=") || !gmtoff.starts_with("gmtoff=")) {
      continue;  // "Zone  -9223372036854775808 = NULL" and the like
    }
    o.utc = seconds_of(utc);
    o.is_dst = isdst == "isdst=1";
    o.offset = std::stoi(gmtoff.substr(7));
    out[zone].push_back(o);
  }
  return out;
}

std::vector<std::string> zones_to_check() {
  const char* all = std::getenv("TODO_TZ_ZDUMP_ALL");
  if (all == nullptr || std::string(all) != "1") {
    return {"America/New_York", "Europe/Berlin",       "Australia/Sydney",   "Pacific/Auckland",
            "Asia/Kolkata",     "Pacific/Chatham",     "Europe/London",      "America/Sao_Paulo",
            "Europe/Dublin",    "Australia/Lord_Howe", "America/Santiago",   "America/Nuuk",
            "Asia/Jerusalem",   "Asia/Gaza",           "Antarctica/Troll",   "Africa/Casablanca",
            "Asia/Tehran",      "America/St_Johns",    "Pacific/Kiritimati", "Pacific/Apia"};
  }
  std::vector<std::string> zones;
  std::ifstream tab(testing::kSystemZoneinfo / "zone1970.tab");
  for (std::string line; std::getline(tab, line);) {
    if (line.empty() || line.front() == '#') continue;
    std::istringstream in(line);
    std::string codes, coordinates, zone;
    if (in >> codes >> coordinates >> zone) zones.push_back(zone);
  }
  return zones;
}

Timestamp instant(std::int64_t utc_seconds) { return Timestamp{seconds{utc_seconds}}; }

TEST(TimeZoneAgainstZdump, EveryTransitionFrom1800To2100) {
  // zdump comes with libc-bin, which every Debian system has.
  ASSERT_EQ(std::system("zdump --version > /dev/null 2>&1"), 0) << "zdump is missing";
  const std::vector<std::string> zones = zones_to_check();
  const auto observed = run_zdump(zones);
  int transitions = 0;
  for (const std::string& name : zones) {
    const TimeZone zone = testing::load_zone(name, zoneinfo_root());
    const auto it = observed.find(name);
    if (it == observed.end()) {
      // No transitions in the range (UTC, Asia/Kolkata since 1945 is still listed): skip.
      continue;
    }
    const std::vector<Observation>& lines = it->second;
    for (const Observation& o : lines) {
      const Timestamp t = instant(o.utc);
      ASSERT_EQ(zone.utc_offset(t), seconds{o.offset}) << name << " at " << o.utc;
      ASSERT_EQ(zone.abbreviation(t), o.abbreviation) << name << " at " << o.utc;
      ASSERT_EQ(zone.is_dst(t), o.is_dst) << name << " at " << o.utc;
      ASSERT_EQ(zone.to_local(t), o.local) << name << " at " << o.utc;
    }
    // zdump prints each transition as the second before it and the second it happens.
    std::vector<std::size_t> starts;
    for (std::size_t i = 1; i < lines.size(); ++i) {
      if (lines[i].utc == lines[i - 1].utc + 1) starts.push_back(i);
    }
    for (std::size_t k = 0; k < starts.size(); ++k) {
      const Observation& before = lines[starts[k] - 1];
      const Observation& after = lines[starts[k]];
      const std::int64_t at = after.utc;
      // Wall-time checks assume one transition at a time; a few zones had two within days.
      const bool alone = (k == 0 || at - lines[starts[k - 1]].utc > 3 * 86400) &&
                         (k + 1 == starts.size() || lines[starts[k + 1]].utc - at > 3 * 86400);
      if (!alone) continue;
      ++transitions;
      const int ob = before.offset;
      const int oa = after.offset;
      if (oa > ob) {  // clocks jump forward: [at + ob, at + oa) does not exist
        const LocalDateTime wall = wall_of(at + ob + (oa - ob) / 2);
        ASSERT_TRUE(zone.is_gap(wall)) << name << " at " << at;
        ASSERT_FALSE(zone.is_ambiguous(wall)) << name << " at " << at;
        ASSERT_EQ(zone.to_utc(wall), instant(at + (oa - ob) / 2)) << name << " at " << at;
        ASSERT_FALSE(zone.is_gap(wall_of(at + ob - 1))) << name << " at " << at;
        ASSERT_FALSE(zone.is_gap(wall_of(at + oa))) << name << " at " << at;
      } else if (oa < ob) {  // clocks go back: [at + oa, at + ob) happens twice
        const std::int64_t middle = at + oa + (ob - oa) / 2;
        const LocalDateTime wall = wall_of(middle);
        ASSERT_TRUE(zone.is_ambiguous(wall)) << name << " at " << at;
        ASSERT_EQ(zone.to_utc(wall, Ambiguity::kEarliest), instant(middle - ob)) << name;
        ASSERT_EQ(zone.to_utc(wall, Ambiguity::kLatest), instant(middle - oa)) << name;
        ASSERT_FALSE(zone.is_ambiguous(wall_of(at + oa - 1))) << name << " at " << at;
        ASSERT_FALSE(zone.is_ambiguous(wall_of(at + ob))) << name << " at " << at;
      } else {  // only the abbreviation or the DST flag changed
        ASSERT_EQ(zone.to_utc(wall_of(at + oa)), instant(at)) << name << " at " << at;
      }
    }
  }
  EXPECT_GT(transitions, 1000);
}

}  // namespace
}  // namespace todo::domain
