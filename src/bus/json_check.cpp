#include "bus/json_check.h"

#include <boost/json/basic_parser_impl.hpp>

#include <cstddef>
#include <cstdint>

namespace todo::bus {
namespace {

namespace json = boost::json;

// A handler that keeps nothing: basic_parser checks the syntax, the UTF-8 and the depth; this
// only notes whether the document's top-level value opened as an object.
struct NoteTheTop {
  static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);

  bool seen = false;  // the top-level value began
  bool object = false;

  bool top(bool is_object) {
    if (!seen) {
      seen = true;
      object = is_object;
    }
    return true;
  }
  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_array_begin(json::error_code&) { return top(false); }
  bool on_array_end(std::size_t, json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) { return top(true); }
  bool on_object_end(std::size_t, json::error_code&) { return true; }
  bool on_string_part(json::string_view, std::size_t, json::error_code&) { return top(false); }
  bool on_string(json::string_view, std::size_t, json::error_code&) { return top(false); }
  bool on_key_part(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_key(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_number_part(json::string_view, json::error_code&) { return top(false); }
  bool on_int64(std::int64_t, json::string_view, json::error_code&) { return top(false); }
  bool on_uint64(std::uint64_t, json::string_view, json::error_code&) { return top(false); }
  bool on_double(double, json::string_view, json::error_code&) { return top(false); }
  bool on_bool(bool, json::error_code&) { return top(false); }
  bool on_null(json::error_code&) { return top(false); }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }
};

}  // namespace

std::optional<std::string> json_object_problem(std::string_view payload) {
  json::basic_parser<NoteTheTop> parser{json::parse_options{}};
  json::error_code ec;
  const std::size_t used = parser.write_some(false, payload.data(), payload.size(), ec);
  // What boost::json::parse reports for bytes after the value.
  if (!ec && used < payload.size()) ec = json::error::extra_data;
  if (ec) return "the event is not JSON: " + ec.message();
  if (!parser.handler().object) return std::string("the event is not a JSON object");
  return std::nullopt;
}

}  // namespace todo::bus
