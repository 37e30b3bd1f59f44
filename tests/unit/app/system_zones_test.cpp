// The tzdata-backed zone catalog: name checks, parsing once, caching (also of unknown names, up
// to a bound) and UTC without tzdata.
#include "app/system_zones.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace todo::app {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono;

// A private copy of a few tzdata files, so a test can add and remove them.
class TempZoneinfo {
 public:
  TempZoneinfo() {
    std::random_device seed;
    root_ = fs::temp_directory_path() / ("todo-zones-" + std::to_string(seed()));
    fs::create_directories(root_);
  }
  ~TempZoneinfo() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  const fs::path& root() const { return root_; }
  void copy(const std::string& from, const std::string& to) const {
    fs::create_directories((root_ / to).parent_path());
    fs::copy_file(fs::path("/usr/share/zoneinfo") / from, root_ / to);
  }
  void write(const std::string& name, const std::string& bytes) const {
    fs::create_directories((root_ / name).parent_path());
    std::ofstream(root_ / name, std::ios::binary) << bytes;
  }

 private:
  fs::path root_;
};

const domain::Timestamp kJanuary2026{sys_days{2026y / January / 15}};

TEST(SystemZoneCatalog, FindsRealZones) {
  const SystemZoneCatalog zones;
  const auto berlin = zones.find("Europe/Berlin");
  ASSERT_NE(berlin, nullptr);
  EXPECT_EQ(berlin->name(), "Europe/Berlin");
  EXPECT_EQ(berlin->utc_offset(kJanuary2026), seconds{3600});
  EXPECT_TRUE(zones.contains("America/New_York"));
  EXPECT_TRUE(zones.contains("Asia/Kolkata"));
  for (const char* name : {"UTC", "Etc/UTC"}) {
    const auto utc = zones.find(name);
    ASSERT_NE(utc, nullptr) << name;
    EXPECT_EQ(utc->utc_offset(kJanuary2026), seconds{0});
    EXPECT_EQ(utc->abbreviation(kJanuary2026), "UTC");
  }
}

TEST(SystemZoneCatalog, RefusesNamesThatAreNotZones) {
  const SystemZoneCatalog zones;
  for (const char* name : {"", "/etc/passwd", "../etc/passwd", "Europe/../../etc/passwd",
                           "Europe/Berlin ", "Europe\\Berlin", "America", "Mars/Olympus_Mons",
                           "posixrules", "posix/Europe/Berlin", "right/Europe/Berlin", "localtime",
                           "zone.tab", "tzdata.zi", "leapseconds", "Europe/Berlin\n"}) {
    EXPECT_EQ(zones.find(name), nullptr) << name;
    EXPECT_FALSE(zones.contains(name)) << name;
  }
  EXPECT_FALSE(zones.contains(std::string(65, 'A')));
}

TEST(SystemZoneCatalog, ParsesEachFileOnce) {
  TempZoneinfo dir;
  dir.copy("Europe/Berlin", "Europe/Berlin");
  const SystemZoneCatalog zones(dir.root());
  const auto first = zones.find("Europe/Berlin");
  ASSERT_NE(first, nullptr);
  fs::remove(dir.root() / "Europe/Berlin");
  EXPECT_EQ(zones.find("Europe/Berlin"), first);  // the same parsed zone, from the cache
}

TEST(SystemZoneCatalog, RemembersUnknownNamesUpToABound) {
  TempZoneinfo dir;
  const SystemZoneCatalog zones(dir.root(), 3);
  for (const char* name : {"Unknown/A", "Unknown/B", "Unknown/C", "Unknown/D"}) {
    EXPECT_EQ(zones.find(name), nullptr);
  }
  dir.copy("Europe/Berlin", "Unknown/A");
  dir.copy("Europe/Berlin", "Unknown/D");
  EXPECT_EQ(zones.find("Unknown/A"), nullptr);  // remembered as unknown
  EXPECT_NE(zones.find("Unknown/D"), nullptr);  // the bound was reached: not remembered
}

TEST(SystemZoneCatalog, FilesThatAreNotTzifAreUnknown) {
  TempZoneinfo dir;
  dir.write("Text/Zone", "Europe/Berlin\n");
  dir.write("Broken/Zone", std::string("TZif2") + std::string(10, '\0'));
  const SystemZoneCatalog zones(dir.root());
  EXPECT_EQ(zones.find("Text/Zone"), nullptr);
  EXPECT_EQ(zones.find("Broken/Zone"), nullptr);
}

TEST(SystemZoneCatalog, UtcWorksWithoutTzdata) {
  TempZoneinfo empty;
  const SystemZoneCatalog zones(empty.root());
  for (const char* name : {"UTC", "Etc/UTC"}) {
    const auto utc = zones.find(name);
    ASSERT_NE(utc, nullptr) << name;
    EXPECT_EQ(utc->name(), name);
    EXPECT_EQ(utc->utc_offset(kJanuary2026), seconds{0});
  }
  EXPECT_EQ(zones.find("Europe/Berlin"), nullptr);
}

TEST(SystemZoneCatalog, ConcurrentLookupsShareOneZone) {
  const SystemZoneCatalog zones;
  constexpr int kThreads = 4;
  std::vector<std::shared_ptr<const domain::TimeZone>> found(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&zones, &found, i] {
      for (int round = 0; round < 50; ++round) {
        found[static_cast<std::size_t>(i)] = zones.find("Pacific/Chatham");
        (void)zones.find("Unknown/Zone" + std::to_string(round));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_NE(found[0], nullptr);
  for (const auto& zone : found) EXPECT_EQ(zone, found[0]);
}

}  // namespace
}  // namespace todo::app
