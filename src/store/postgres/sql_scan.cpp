// The lexical scan of SQL text (placeholders and statement keywords) for the PostgreSQL backend.
#include "store/postgres/sql_scan.h"

#include <array>
#include <cctype>
#include <cstddef>
#include <functional>
#include <unordered_map>

namespace todo::store::postgres {
namespace {

bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

// The index just after the end of a quoted run that starts at `i` with `quote`; a doubled quote
// stands for itself. Unterminated: the end of the text (the server reports the error).
std::size_t skip_quoted(std::string_view sql, std::size_t i, char quote) {
  for (++i; i < sql.size(); ++i) {
    if (sql[i] != quote) continue;
    if (i + 1 < sql.size() && sql[i + 1] == quote) {
      ++i;
      continue;
    }
    return i + 1;
  }
  return sql.size();
}

}  // namespace

SqlShape scan_sql(std::string_view sql) {
  SqlShape shape;
  bool statement_start = true;
  std::size_t i = 0;
  while (i < sql.size()) {
    const char c = sql[i];
    if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      const auto end = sql.find('\n', i);
      i = end == std::string_view::npos ? sql.size() : end + 1;
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      const auto end = sql.find("*/", i + 2);
      i = end == std::string_view::npos ? sql.size() : end + 2;
    } else if (c == '\'' || c == '"') {
      statement_start = false;
      i = skip_quoted(sql, i, c);
    } else if (c == '$' && i + 1 < sql.size() &&
               std::isdigit(static_cast<unsigned char>(sql[i + 1]))) {
      std::size_t j = i + 1;
      int k = 0;
      while (j < sql.size() && std::isdigit(static_cast<unsigned char>(sql[j])) && k < 100000) {
        k = k * 10 + (sql[j] - '0');
        ++j;
      }
      shape.placeholders.insert(k);
      statement_start = false;
      i = j;
    } else if (c == '$') {
      // A dollar-quoted body: $tag$ ... $tag$ (tag possibly empty).
      std::size_t j = i + 1;
      while (j < sql.size() && is_word_char(sql[j])) ++j;
      if (j < sql.size() && sql[j] == '$') {
        const std::string_view tag = sql.substr(i, j - i + 1);
        const auto end = sql.find(tag, j + 1);
        i = end == std::string_view::npos ? sql.size() : end + tag.size();
      } else {
        i = j;
      }
      statement_start = false;
    } else if (c == ';') {
      statement_start = true;
      ++i;
    } else if (is_word_char(c)) {
      std::size_t j = i;
      while (j < sql.size() && is_word_char(sql[j])) ++j;
      if (statement_start) {
        std::string word(sql.substr(i, j - i));
        for (char& ch : word) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        shape.leading_keywords.push_back(std::move(word));
        statement_start = false;
      }
      i = j;
    } else {
      if (std::isspace(static_cast<unsigned char>(c)) == 0) statement_start = false;
      ++i;
    }
  }
  return shape;
}

bool is_transaction_control(std::string_view keyword) {
  static constexpr std::array<std::string_view, 9> kControl = {
      "BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE", "PREPARE"};
  for (auto k : kControl) {
    if (k == keyword) return true;
  }
  return false;
}

const SqlShape& scan_sql_remembered(std::string_view sql) {
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const {
      return std::hash<std::string_view>{}(text);
    }
  };
  constexpr std::size_t kTexts = 512;
  thread_local std::unordered_map<std::string, SqlShape, Hash, std::equal_to<>> remembered;
  if (auto found = remembered.find(sql); found != remembered.end()) return found->second;
  if (remembered.size() >= kTexts) remembered.clear();  // starts over, as the statement cache
  return remembered.emplace(std::string(sql), scan_sql(sql)).first->second;
}

}  // namespace todo::store::postgres
