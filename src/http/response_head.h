// The status line and header fields of a response, as the bytes Beast's serializer would write:
// written with the body in one gather write instead of through Beast's serializer, whose
// buffer-sequence machinery cost more than the rest of a /health request. Internal to src/http
// (and its test): it brings in Beast's message header.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <string>

namespace todo::http::detail {

// "HTTP/1.1 200 OK\r\n", each field as "Name: value\r\n" in the message's order, then "\r\n".
std::string response_head(const boost::beast::http::response<boost::beast::http::string_body>& m);

}  // namespace todo::http::detail
