// JSON bodies: parsing request bodies into objects with clear errors, and JSON responses.
#pragma once

#include "domain/error.h"
#include "http/message.h"

#include <boost/json/fwd.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace todo::http {

// Checks Content-Type (application/json, else kUnsupportedMediaType), UTF-8 (kInvalidUtf8) and
// syntax (kMalformedJson), and that the body is a JSON object (kValidation).
domain::Result<boost::json::object> parse_json_object(const Request& request);

Response json_response(int status, const boost::json::value& body);

}  // namespace todo::http
