// JSON text written straight into a string, without building a document first: the responses and
// event payloads that carry many tasks spend most of their time in a DOM otherwise (allocating,
// serializing, freeing). The output is byte for byte what boost::json::serialize writes for the
// same values — no spaces, members in the order written, integers in decimal, and Boost.JSON's
// escapes (\" \\ \b \f \n \r \t, other control characters as \u00xx, everything else as it is) —
// so switching a route to it changes no response (tests/unit/domain/json_writer_test.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace todo::domain {

// Appends `text` as a JSON string (quotes included).
void append_json_string(std::string& out, std::string_view text);
// Appends `value` as a JSON number (decimal).
void append_json_integer(std::string& out, std::int64_t value);

// What one task's JSON object takes, about: for reserving a response's buffer.
inline constexpr std::size_t kTaskJsonSizeHint = 560;

// Writes values, arrays and objects in order; the writer puts the commas and colons. It checks
// nothing: the caller writes well-formed JSON (a key before each member's value, ends matching
// begins).
class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view name);
  JsonWriter& string(std::string_view value);
  JsonWriter& integer(std::int64_t value);
  JsonWriter& boolean(bool value);
  JsonWriter& null();
  // For a value the caller writes itself as JSON text (a whole object in one go, say): puts the
  // comma before it and returns the string to append the value to.
  std::string& raw_value() {
    before_value();
    return out_;
  }

  std::string& out() { return out_; }

 private:
  void before_value();

  std::string& out_;
  bool first_ = true;       // the next member or element is the first of its container
  bool after_key_ = false;  // a key was written: the value follows without a comma
};

}  // namespace todo::domain
