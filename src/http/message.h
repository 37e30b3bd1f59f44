// Requests and responses as the router and handlers see them: plain data, no Beast types, so
// service code compiles without Asio.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace todo::http {

enum class Method { kGet, kHead, kPost, kPut, kPatch, kDelete, kOptions, kOther };
std::string_view to_string(Method method);
Method parse_method(std::string_view text);

struct Header {
  std::string name;  // lower-case
  std::string value;
};

using Params = std::vector<std::pair<std::string, std::string>>;

struct Request {
  Method method = Method::kGet;
  std::string target;  // as received: path and query
  std::string path;    // percent-decoded path
  Params query;        // decoded query parameters, in order, repeats kept
  std::vector<Header> headers;
  std::string body;
  std::string client_address;
  std::string request_id;
  Params path_params;    // filled by the router: {"id", "..."}
  std::string route;     // the matched pattern, e.g. "/api/tasks/{id}"; for metrics and logs

  std::optional<std::string_view> header(std::string_view lower_name) const;
  std::optional<std::string_view> query_param(std::string_view name) const;  // first value
  std::vector<std::string_view> query_params(std::string_view name) const;   // every value
  std::string_view path_param(std::string_view name) const;  // "" when absent
};

struct Response {
  int status = 200;
  std::vector<Header> headers;
  std::string body;

  void set_header(std::string name, std::string value);  // replaces an existing one
  std::optional<std::string_view> header(std::string_view lower_name) const;
};

}  // namespace todo::http
