// Seeded fuzzing of the TZif and POSIX TZ parsers: random and mutated input must give an error
// or a zone, never a crash, an overflow (UBSan) or an out-of-bounds read (ASan); and any zone
// that comes out must keep to_utc and to_local consistent.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <limits>
#include <string>

#include "domain/time_zone.h"
#include "support/seeded_random.h"
#include "support/tzdata.h"

namespace todo::domain {
namespace {

using namespace std::chrono;

class Dice {
 public:
  explicit Dice(std::uint64_t seed) : random_(seed) {}
  std::uint64_t next() {
    std::array<std::byte, 8> bytes;
    random_.fill(bytes);
    std::uint64_t v = 0;
    for (std::byte b : bytes) v = (v << 8) | static_cast<std::uint64_t>(b);
    return v;
  }
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }
  char byte() { return static_cast<char>(next() & 0xff); }

 private:
  testing::SeededRandom random_;
};

// Calls everything on the zone; checks the round trip where instants are ordinary.
void exercise(const TimeZone& zone) {
  constexpr int kMax = std::numeric_limits<int>::max();
  constexpr int kMin = std::numeric_limits<int>::min();
  for (const Timestamp t : {Timestamp::min(), Timestamp::max(), Timestamp{}}) {
    (void)zone.utc_offset(t);
    (void)zone.abbreviation(t);
    (void)zone.to_local(t);
  }
  for (const LocalDateTime& wall : {LocalDateTime{kMax, kMax, kMax, kMax, kMax, kMax, kMax},
                                    LocalDateTime{kMin, kMin, kMin, kMin, kMin, kMin, kMin},
                                    LocalDateTime{2026, 3, 8, 2, 30}, LocalDateTime{1970, 1, 1}}) {
    (void)zone.to_utc(wall);
    (void)zone.to_utc(wall, Ambiguity::kLatest);
    (void)zone.is_gap(wall);
    (void)zone.is_ambiguous(wall);
  }
  for (const Timestamp t :
       {Timestamp{seconds{-2'000'000'000}}, Timestamp{seconds{-1}}, Timestamp{seconds{999}},
        Timestamp{seconds{1'700'000'000}}, Timestamp{seconds{4'000'000'000}}}) {
    const LocalDateTime wall = zone.to_local(t);
    ASSERT_FALSE(zone.is_gap(wall)) << zone.name();
    ASSERT_LE(zone.to_utc(wall, Ambiguity::kEarliest), t) << zone.name();
    ASSERT_GE(zone.to_utc(wall, Ambiguity::kLatest), t) << zone.name();
  }
}

TEST(TimeZoneFuzz, RandomBytesBehindAValidMagic) {
  Dice dice(1);
  int parsed = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string bytes = i % 2 == 0 ? "TZif2" : "TZif";
    const std::size_t length = dice.below(400);
    for (std::size_t j = 0; j < length; ++j) bytes.push_back(dice.byte());
    const auto zone = TimeZone::from_tzif("Random", bytes);
    if (zone) {
      ++parsed;
      exercise(zone.value());
    }
  }
  SUCCEED() << parsed << " parsed";
}

TEST(TimeZoneFuzz, MutatedRealFiles) {
  Dice dice(2);
  const std::string sources[] = {
      testing::read_binary_file(testing::kSystemZoneinfo / "America/New_York"),
      testing::read_binary_file(testing::kSystemZoneinfo / "Asia/Kolkata"),
      testing::read_binary_file(testing::slim_zoneinfo() / "Pacific/Chatham"),
      testing::read_binary_file(testing::slim_zoneinfo() / "Europe/Dublin"),
  };
  int parsed = 0;
  for (int i = 0; i < 4000; ++i) {
    std::string bytes = sources[dice.below(std::size(sources))];
    switch (dice.below(4)) {
      case 0:  // flip a few bytes anywhere
        for (std::size_t n = 1 + dice.below(8); n > 0; --n)
          bytes[dice.below(bytes.size())] ^= dice.byte() | 1;
        break;
      case 1:  // corrupt the headers' counts and version
        for (std::size_t n = 1 + dice.below(4); n > 0; --n) bytes[4 + dice.below(40)] = dice.byte();
        break;
      case 2:  // cut short
        bytes.resize(dice.below(bytes.size()));
        break;
      default:  // rewrite the footer's bytes
        for (std::size_t n = 1 + dice.below(6); n > 0; --n) {
          bytes[bytes.size() - 1 - dice.below(std::min<std::size_t>(bytes.size(), 40))] =
              "0123456789<>+-:,./JMESTD\n"[dice.below(25)];
        }
        break;
    }
    const auto zone = TimeZone::from_tzif("Mutated", bytes);
    if (zone) {
      ++parsed;
      exercise(zone.value());
    } else {
      ASSERT_EQ(zone.error().code, ErrorCode::kValidation);
      ASSERT_FALSE(zone.error().detail.empty());
    }
  }
  EXPECT_GT(parsed, 0);  // some mutations leave a valid file: those zones get exercised too
}

// Mostly well-formed strings built from the grammar's pieces, some of them out of range.
std::string random_posix_tz(Dice& dice) {
  constexpr std::string_view kNames[] = {"EST", "<+1245>", "<-03>", "CEST", "AB", "<A>", "<+05"};
  constexpr std::string_view kSigns[] = {"", "+", "-"};
  constexpr std::string_view kHours[] = {"0", "5", "12", "24", "25", "167", "168"};
  constexpr std::string_view kMinutes[] = {"", "", ":30", ":45:15", ":60", ":5:5"};
  constexpr std::string_view kDates[] = {"M3.2.0", "M11.1.0", "M12.5.6", "M1.1.0",
                                         "M2.5.3", "J1",      "J365",    "J60",
                                         "0",      "365",     "59",      "M13.1.0"};
  auto pick = [&dice](const auto& options) {
    return std::string(options[dice.below(std::size(options))]);
  };
  auto time = [&] { return pick(kSigns) + pick(kHours) + pick(kMinutes); };
  std::string tz = pick(kNames) + time();
  if (dice.below(4) == 0) return tz;
  tz += pick(kNames);
  if (dice.below(2) == 0) tz += time();
  if (dice.below(5) == 0) return tz;
  for (int i = 0; i < 2; ++i) {
    // Appended piece by piece: `"," + std::string` trips GCC 12's -Wrestrict at -O3.
    tz += ',';
    tz += pick(kDates);
    if (dice.below(2) == 0) {
      tz += '/';
      tz += time();
    }
  }
  return tz;
}

TEST(TimeZoneFuzz, RandomPosixTzStrings) {
  Dice dice(3);
  constexpr std::string_view kAlphabet = "0123456789<>+-:,./JMESTDAB";
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string tz;
    if (i % 4 == 0) {
      for (std::size_t n = dice.below(30); n > 0; --n) {
        tz.push_back(kAlphabet[dice.below(kAlphabet.size())]);
      }
    } else {
      tz = random_posix_tz(dice);
    }
    const auto zone = TimeZone::from_posix_tz(tz, tz);
    if (zone) {
      ++parsed;
      exercise(zone.value());
    } else {
      ASSERT_EQ(zone.error().code, ErrorCode::kValidation);
    }
  }
  EXPECT_GT(parsed, 1000);
}

}  // namespace
}  // namespace todo::domain
