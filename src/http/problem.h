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

// {type, title, status, detail, instance, errors?}; adds Retry-After for rate limits. The
// instance is made valid UTF-8 (see printable_target) whatever bytes the client sent.
Response problem_response(const domain::Error& error, std::string_view instance);

// A problem of the protocol itself (408, 501) that no domain error names.
Response problem_response(const ProblemKind& kind, std::string_view detail,
                          std::string_view instance);

// The request target as valid UTF-8 for problems and logs: bytes that are not part of a valid
// UTF-8 sequence (and control characters) are percent-encoded, everything else is kept.
std::string printable_target(std::string_view target);

}  // namespace todo::http
