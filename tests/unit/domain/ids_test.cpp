// UUIDv7 layout (RFC 9562 §5.7) and canonical UUID recognition.
#include "domain/ids.h"

#include <gtest/gtest.h>

#include <set>

#include "support/seeded_random.h"

namespace todo::domain {
namespace {

using namespace std::chrono;
using testing::ConstantRandom;
using testing::SeededRandom;

int hex_value(char c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

TEST(UuidV7, CanonicalLowerCaseLayout) {
  SeededRandom random(1);
  const std::string id = new_uuid_v7(Timestamp{} + milliseconds{1'700'000'000'123}, random);
  ASSERT_EQ(id.size(), 36u);
  EXPECT_TRUE(is_uuid(id));
  EXPECT_EQ(id[8], '-');
  EXPECT_EQ(id[13], '-');
  EXPECT_EQ(id[18], '-');
  EXPECT_EQ(id[23], '-');
  EXPECT_EQ(id[14], '7') << "version nibble";
  const int variant = hex_value(id[19]);
  EXPECT_EQ(variant & 0xC, 0x8) << "variant bits 10";
}

TEST(UuidV7, TimestampIsTheFirst48BitsInMilliseconds) {
  ConstantRandom random(std::byte{0x00});
  const auto t = Timestamp{} + milliseconds{0x0123'4567'89AB} + microseconds{999};
  EXPECT_EQ(new_uuid_v7(t, random), "01234567-89ab-7000-8000-000000000000");
}

TEST(UuidV7, RandomBitsFillEverythingButVersionAndVariant) {
  ConstantRandom random(std::byte{0xFF});
  EXPECT_EQ(new_uuid_v7(Timestamp{}, random), "00000000-0000-7fff-bfff-ffffffffffff");
}

TEST(UuidV7, InstantsBeforeTheEpochClampToZero) {
  ConstantRandom random(std::byte{0x00});
  EXPECT_EQ(new_uuid_v7(Timestamp{} - seconds{1}, random), "00000000-0000-7000-8000-000000000000");
}

TEST(UuidV7, SortsByTimeAcrossMilliseconds) {
  SeededRandom random(7);
  auto t = Timestamp{} + milliseconds{1'760'000'000'000};
  std::string previous = new_uuid_v7(t, random);
  for (int i = 0; i < 1000; ++i) {
    t += milliseconds{1};
    const std::string next = new_uuid_v7(t, random);
    EXPECT_LT(previous, next);
    previous = next;
  }
}

TEST(UuidV7, DiffersWithinTheSameMillisecond) {
  SeededRandom random(7);
  const auto t = Timestamp{} + milliseconds{1'760'000'000'000};
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(new_uuid_v7(t, random));
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(IsUuid, AcceptsAnyVersionInCanonicalForm) {
  EXPECT_TRUE(is_uuid("123e4567-e89b-12d3-a456-426614174000"));
  EXPECT_TRUE(is_uuid("00000000-0000-0000-0000-000000000000"));
  EXPECT_TRUE(is_uuid("0190b4c4-7d3e-7a8b-9c0d-1e2f3a4b5c6d"));
}

TEST(IsUuid, RejectsEverythingElse) {
  EXPECT_FALSE(is_uuid(""));
  EXPECT_FALSE(is_uuid("123e4567e89b12d3a456426614174000"));
  EXPECT_FALSE(is_uuid("123e4567-e89b-12d3-a456-42661417400"));
  EXPECT_FALSE(is_uuid("123e4567-e89b-12d3-a456-4266141740000"));
  EXPECT_FALSE(is_uuid("123e4567-e89b-12d3-a456_426614174000"));
  EXPECT_FALSE(is_uuid("123e4567-e89b-12d3-a4564-26614174000"));
  EXPECT_FALSE(is_uuid("g23e4567-e89b-12d3-a456-426614174000"));
  EXPECT_FALSE(is_uuid("{123e4567-e89b-12d3-a456-426614174000}"));
  // Upper case is not canonical: ids are stored and compared in lower case.
  EXPECT_FALSE(is_uuid("123E4567-E89B-12D3-A456-426614174000"));
}

}  // namespace
}  // namespace todo::domain
