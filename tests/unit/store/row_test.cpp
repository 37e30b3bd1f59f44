// Row: typed column access and the errors for NULL, wrong types and missing columns.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "store/database.h"

namespace todo::store {
namespace {

using ::testing::HasSubstr;

Row sample() {
  return Row(
      {Value{std::monostate{}}, Value{std::int64_t{42}}, Value{2.5}, Value{std::string("hi")}});
}

std::string error_of(const auto& call) {
  try {
    call();
  } catch (const DatabaseError& e) {
    return e.what();
  }
  return "no DatabaseError";
}

TEST(RowTest, ReadsEachTypeFromItsColumn) {
  const Row row = sample();
  EXPECT_EQ(row.size(), 4u);
  EXPECT_TRUE(row.is_null(0));
  EXPECT_FALSE(row.is_null(1));
  EXPECT_EQ(row.integer(1), 42);
  EXPECT_DOUBLE_EQ(row.real(2), 2.5);
  EXPECT_EQ(row.text(3), "hi");
}

TEST(RowTest, RealAcceptsAnInteger) { EXPECT_DOUBLE_EQ(sample().real(1), 42.0); }

TEST(RowTest, OptionalAccessorsMapNullToNullopt) {
  const Row row = sample();
  EXPECT_EQ(row.optional_integer(0), std::nullopt);
  EXPECT_EQ(row.optional_text(0), std::nullopt);
  EXPECT_EQ(row.optional_integer(1), 42);
  EXPECT_EQ(row.optional_text(3), "hi");
}

TEST(RowTest, NullIsAnErrorForNonOptionalAccessors) {
  const Row row = sample();
  EXPECT_THAT(error_of([&] { row.integer(0); }), HasSubstr("column 0"));
  EXPECT_THAT(error_of([&] { row.integer(0); }), HasSubstr("NULL"));
  EXPECT_THAT(error_of([&] { row.real(0); }), HasSubstr("column 0"));
  EXPECT_THAT(error_of([&] { row.text(0); }), HasSubstr("column 0"));
}

TEST(RowTest, WrongTypeNamesTheColumnAndBothTypes) {
  const Row row = sample();
  const auto message = error_of([&] { row.integer(3); });
  EXPECT_THAT(message, HasSubstr("column 3"));
  EXPECT_THAT(message, HasSubstr("expected integer"));
  EXPECT_THAT(message, HasSubstr("got text"));
  EXPECT_THAT(error_of([&] { row.integer(2); }), HasSubstr("column 2"));
  EXPECT_THAT(error_of([&] { row.text(1); }), HasSubstr("column 1"));
  EXPECT_THAT(error_of([&] { row.real(3); }), HasSubstr("column 3"));
  EXPECT_THAT(error_of([&] { row.optional_integer(3); }), HasSubstr("column 3"));
  EXPECT_THAT(error_of([&] { row.optional_text(2); }), HasSubstr("column 2"));
}

TEST(RowTest, ColumnOutOfRangeIsAnError) {
  const Row row = sample();
  EXPECT_THAT(error_of([&] { row.is_null(4); }), HasSubstr("column 4"));
  EXPECT_THAT(error_of([&] { row.text(7); }), HasSubstr("out of range"));
}

TEST(RowTest, ConstraintViolationIsADatabaseError) {
  EXPECT_THROW(throw ConstraintViolation("x"), DatabaseError);
}

}  // namespace
}  // namespace todo::store
