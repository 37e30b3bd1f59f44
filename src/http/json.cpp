// Request-body parsing with one error per failure kind, and JSON responses.
#include "http/json.h"

#include "domain/text.h"

#include <boost/json.hpp>

namespace todo::http {
namespace {

bool is_json_media_type(std::string_view content_type) {
  auto semi = content_type.find(';');
  std::string_view type = content_type.substr(0, semi);
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  std::string lower(type);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "application/json" ||
         (lower.starts_with("application/") && lower.ends_with("+json"));
}

}  // namespace

domain::Result<boost::json::object> parse_json_object(const Request& request) {
  using domain::ErrorCode;
  auto content_type = request.header("content-type");
  if (!content_type || !is_json_media_type(*content_type)) {
    return domain::make_error(ErrorCode::kUnsupportedMediaType,
                              "The body must be JSON with Content-Type: application/json.");
  }
  if (!domain::is_valid_utf8(request.body)) {
    return domain::make_error(ErrorCode::kInvalidUtf8, "The body is not valid UTF-8.");
  }
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(request.body, ec);
  if (ec) {
    return domain::make_error(ErrorCode::kMalformedJson,
                              "The body is not valid JSON: " + ec.message() + ".");
  }
  if (!value.is_object()) {
    return domain::validation_error({{"body", "must be a JSON object"}});
  }
  return std::move(value.as_object());
}

Response json_response(int status, const boost::json::value& body) {
  return json_text_response(status, boost::json::serialize(body));
}

Response json_text_response(int status, std::string body) {
  Response res;
  res.status = status;
  res.body = std::move(body);
  res.set_header("content-type", "application/json");
  return res;
}

}  // namespace todo::http

namespace todo::http {

bool FieldReader::has(std::string_view name) const { return object_.contains(name); }

std::optional<std::string> FieldReader::string(std::string_view name, bool required) {
  auto* v = object_.if_contains(name);
  if (!v || (v->is_null() && !required)) {
    if (required) add_error(std::string(name), "is required");
    return std::nullopt;
  }
  if (!v->is_string()) {
    add_error(std::string(name), "must be a string");
    return std::nullopt;
  }
  return std::string(v->as_string());
}

std::optional<std::optional<std::string>> FieldReader::nullable_string(std::string_view name) {
  auto* v = object_.if_contains(name);
  if (!v) return std::nullopt;
  if (v->is_null()) return std::optional<std::string>{};
  if (!v->is_string()) {
    add_error(std::string(name), "must be a string or null");
    return std::nullopt;
  }
  return std::optional<std::string>{std::string(v->as_string())};
}

std::optional<std::vector<std::int64_t>> FieldReader::integer_list(std::string_view name) {
  auto* v = object_.if_contains(name);
  if (!v) return std::nullopt;
  if (!v->is_array()) {
    add_error(std::string(name), "must be an array of integers");
    return std::nullopt;
  }
  std::vector<std::int64_t> out;
  for (const auto& item : v->as_array()) {
    if (item.is_int64()) {
      out.push_back(item.as_int64());
    } else if (item.is_uint64() && item.as_uint64() <= INT64_MAX) {
      out.push_back(static_cast<std::int64_t>(item.as_uint64()));
    } else {
      add_error(std::string(name), "must be an array of integers");
      return std::nullopt;
    }
  }
  return out;
}

void FieldReader::add_error(std::string field, std::string reason) {
  errors_.push_back(domain::FieldError{std::move(field), std::move(reason)});
}

void FieldReader::add_errors(const std::vector<domain::FieldError>& errors) {
  errors_.insert(errors_.end(), errors.begin(), errors.end());
}

bool FieldReader::failed(std::string_view field) const {
  for (const auto& e : errors_) {
    if (e.field == field) return true;
  }
  return false;
}

}  // namespace todo::http
