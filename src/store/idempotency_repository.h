// Idempotency keys of POST requests: the first response is kept for 24 hours and replayed.
#pragma once

#include "domain/clock.h"
#include "store/database.h"

#include <optional>
#include <string>

namespace todo::store {

struct StoredResponse {
  std::string user_id;
  std::string key;
  std::string request_hash;  // hex SHA-256 of method, path and body
  int status = 0;
  std::string headers;       // "name: value\n" lines (Location, ETag)
  std::string body;
  domain::Timestamp created_at{};
};

class IdempotencyRepository {
 public:
  std::optional<StoredResponse> find(Transaction& s, std::string_view user_id,
                                     std::string_view key) const;
  // Throws ConstraintViolation when (user_id, key) exists.
  void insert(Transaction& s, const StoredResponse& response) const;
  std::int64_t purge(Transaction& s, domain::Timestamp created_before) const;
};

}  // namespace todo::store
