// Conversions between domain values and SQL values shared by the repositories (the store's and
// the services' own, e.g. the notification service's).
#pragma once

#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/clock.h"
#include "domain/time_format.h"
#include "store/database.h"

namespace todo::store::sql {

inline Value text(std::string_view s) { return std::string(s); }
inline Value micros(domain::Timestamp t) { return domain::to_micros(t); }

template <class T, class F>
Value optional_value(const std::optional<T>& v, F&& convert) {
  if (!v) return std::monostate{};
  return convert(v.value());
}

inline std::optional<domain::Timestamp> optional_time(const Row& row, std::size_t i) {
  const auto v = row.optional_integer(i);
  if (!v) return std::nullopt;
  return domain::from_micros(v.value());
}
inline std::optional<domain::Timestamp> optional_time(const RowView& row, std::size_t i) {
  const auto v = row.optional_integer(i);
  if (!v) return std::nullopt;
  return domain::from_micros(v.value());
}

// {15, 60} <-> "15,60"; such columns are NOT NULL, so an empty list is the empty string.
inline std::string format_minutes(const std::vector<int>& minutes) {
  std::string out;
  for (int m : minutes) {
    if (!out.empty()) out += ',';
    out += std::to_string(m);
  }
  return out;
}

// `column` names the source in the error a malformed list raises.
inline std::vector<int> parse_minutes(std::string_view text, std::string_view column) {
  std::vector<int> out;
  const std::string whole(text);
  while (!text.empty()) {
    const auto comma = text.find(',');
    const auto item = text.substr(0, comma);
    int m = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), m);
    if (ec != std::errc() || end != item.data() + item.size()) {
      throw DatabaseError(std::string(column) + " holds a malformed list: " + whole);
    }
    out.push_back(m);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
    if (text.empty()) throw DatabaseError(std::string(column) + " ends with a comma: " + whole);
  }
  return out;
}

}  // namespace todo::store::sql
