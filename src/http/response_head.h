// The status line and header fields of a response, as the bytes Beast's serializer would write:
// written with the body in one gather write instead of through Beast's serializer, whose
// buffer-sequence machinery cost more than the rest of a /health request. Internal to src/http
// (and its test): it brings in Beast's message header.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <string>

#include "http/message.h"

namespace todo::http::detail {

// "HTTP/1.1 200 OK\r\n", each field as "Name: value\r\n" in the message's order, then "\r\n".
std::string response_head(const boost::beast::http::response<boost::beast::http::string_body>& m);

// The message the server sends for `response`: "Server: todo" first, the response's headers,
// Content-Length as prepare_payload() sets it (for a HEAD request, the length of the body it
// leaves out), and "Connection: close" when the connection ends after it.
boost::beast::http::response<boost::beast::http::string_body> beast_message(
    const Response& response, bool keep_alive, bool head_request);

// response_head(beast_message(response, keep_alive, head_request)), byte for byte, without
// building Beast's message (whose fields cost a fifth of a /health request's instructions).
std::string response_head(const Response& response, bool keep_alive, bool head_request);

}  // namespace todo::http::detail
