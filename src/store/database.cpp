// Typed access to result rows, and the parts of Transaction that are not backend-specific.
#include "store/database.h"

#include <string>

namespace todo::store {
namespace {

std::string_view type_name(const Value& v) {
  switch (v.index()) {
    case 0:
      return "NULL";
    case 1:
      return "integer";
    case 2:
      return "real";
    default:
      return "text";
  }
}

[[noreturn]] void throw_wrong_type(std::size_t i, std::string_view wanted, const Value& got) {
  throw DatabaseError("column " + std::to_string(i) + ": expected " + std::string(wanted) +
                      ", got " + std::string(type_name(got)));
}

}  // namespace

bool Database::ping() {
  try {
    read([](Transaction& s) { s.query("SELECT 1"); });
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

const Value& Row::at(std::size_t i) const {
  if (i >= values_.size()) {
    throw DatabaseError("column " + std::to_string(i) + ": out of range (the row has " +
                        std::to_string(values_.size()) + " columns)");
  }
  return values_[i];
}

bool Row::is_null(std::size_t i) const { return std::holds_alternative<std::monostate>(at(i)); }

std::int64_t Row::integer(std::size_t i) const {
  const Value& v = at(i);
  if (const auto* n = std::get_if<std::int64_t>(&v)) return *n;
  throw_wrong_type(i, "integer", v);
}

// An integer is accepted where a real is asked for: SQL engines return integral results of
// numeric expressions as integers, and the widening loses nothing a caller of real() cares about.
double Row::real(std::size_t i) const {
  const Value& v = at(i);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* n = std::get_if<std::int64_t>(&v)) return static_cast<double>(*n);
  throw_wrong_type(i, "real", v);
}

const std::string& Row::text(std::size_t i) const {
  const Value& v = at(i);
  if (const auto* t = std::get_if<std::string>(&v)) return *t;
  throw_wrong_type(i, "text", v);
}

std::optional<std::int64_t> Row::optional_integer(std::size_t i) const {
  if (is_null(i)) return std::nullopt;
  return integer(i);
}

std::optional<std::string> Row::optional_text(std::size_t i) const {
  if (is_null(i)) return std::nullopt;
  return text(i);
}

void Transaction::execute_script(std::string_view /*sql*/) {
  throw DatabaseError("execute_script is not supported by this session");
}

}  // namespace todo::store
