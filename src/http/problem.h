// The one place where domain errors become application/problem+json responses (RFC 9457).
#pragma once

#include "domain/error.h"
#include "http/message.h"

#include <string_view>

namespace todo::http {

struct ProblemKind {
  std::string_view slug;   // stable `type`, e.g. "validation-error"
  int status;
  std::string_view title;
};

ProblemKind problem_kind(domain::ErrorCode code);

// {type, title, status, detail, instance, errors?}; adds Retry-After for rate limits.
Response problem_response(const domain::Error& error, std::string_view instance);

}  // namespace todo::http
