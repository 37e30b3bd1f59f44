// JSON bodies: parsing request bodies into objects with clear errors, and JSON responses.
#pragma once

#include "domain/error.h"
#include "http/message.h"

#include <boost/json/fwd.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace todo::http {

// Checks Content-Type (application/json, else kUnsupportedMediaType), UTF-8 (kInvalidUtf8) and
// syntax (kMalformedJson), and that the body is a JSON object (kValidation).
domain::Result<boost::json::object> parse_json_object(const Request& request);

Response json_response(int status, const boost::json::value& body);
// A response whose body is JSON text already (domain::JsonWriter's).
Response json_text_response(int status, std::string body);

}  // namespace todo::http

namespace todo::http {

// Reads typed fields from a JSON object and collects one FieldError per wrong or missing field, so
// a handler can report every invalid field at once.
class FieldReader {
 public:
  explicit FieldReader(const boost::json::object& object) : object_(object) {}

  bool has(std::string_view name) const;
  // Absent (or, when !required, null) → nullopt; wrong type or required-but-absent → error.
  std::optional<std::string> string(std::string_view name, bool required);
  // Absent → nullopt; null → optional holding nullopt; a string → its value.
  std::optional<std::optional<std::string>> nullable_string(std::string_view name);
  std::optional<std::vector<std::int64_t>> integer_list(std::string_view name);

  void add_error(std::string field, std::string reason);
  void add_errors(const std::vector<domain::FieldError>& errors);
  bool failed(std::string_view field) const;  // an error was recorded for this field
  bool ok() const { return errors_.empty(); }
  std::vector<domain::FieldError> take_errors() { return std::move(errors_); }

 private:
  const boost::json::object& object_;
  std::vector<domain::FieldError> errors_;
};

}  // namespace todo::http
