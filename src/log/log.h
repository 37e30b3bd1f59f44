// Structured logs: one JSON object per line on stderr. Every module but domain may log.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <string_view>
#include <variant>

namespace todo::log {

enum class Level { kTrace, kDebug, kInfo, kWarn, kError };

std::optional<Level> parse_level(std::string_view text);
void set_level(Level level);
bool enabled(Level level);

struct Field {
  using Value = std::variant<std::string_view, std::int64_t, double, bool>;
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, std::int64_t v) : key(k), value(v) {}
  Field(std::string_view k, int v) : key(k), value(std::int64_t{v}) {}
  Field(std::string_view k, unsigned v) : key(k), value(std::int64_t{v}) {}
  Field(std::string_view k, std::uint64_t v) : key(k), value(static_cast<std::int64_t>(v)) {}
  Field(std::string_view k, double v) : key(k), value(v) {}
  Field(std::string_view k, bool v) : key(k), value(v) {}
  std::string_view key;
  Value value;
};

// Writes {"ts":…,"level":…,"msg":…,<fields>} as one line, never interleaved with other lines.
// Lines below warn reach stderr within 20 ms; warnings and errors wake the writer at once. The
// caller never blocks on stderr: a full buffer (a stopped reader) drops lines and counts them.
void write(Level level, std::string_view msg, std::initializer_list<Field> fields = {});

// Writes out every buffered line now (before exiting, or before a crash-prone step).
void flush();

// A condition that can recur thousands of times a second (accept failing with EMFILE) is logged
// at most once per interval, with how often it occurred: occurred() returns that count when a
// line is due, else 0. Thread-safe.
class Recurring {
 public:
  explicit Recurring(std::chrono::steady_clock::duration interval) : interval_(interval) {}
  std::uint64_t occurred();

 private:
  std::mutex mutex_;
  std::chrono::steady_clock::duration interval_;
  std::chrono::steady_clock::time_point last_{};
  bool logged_ = false;
  std::uint64_t count_ = 0;
};

inline void debug(std::string_view msg, std::initializer_list<Field> fields = {}) {
  if (enabled(Level::kDebug)) write(Level::kDebug, msg, fields);
}
inline void info(std::string_view msg, std::initializer_list<Field> fields = {}) {
  if (enabled(Level::kInfo)) write(Level::kInfo, msg, fields);
}
inline void warn(std::string_view msg, std::initializer_list<Field> fields = {}) {
  if (enabled(Level::kWarn)) write(Level::kWarn, msg, fields);
}
inline void error(std::string_view msg, std::initializer_list<Field> fields = {}) {
  if (enabled(Level::kError)) write(Level::kError, msg, fields);
}

}  // namespace todo::log
