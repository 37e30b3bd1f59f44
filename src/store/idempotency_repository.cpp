// Idempotency keys: the first response to a POST with a key, per user, replayed on retries.
#include "store/idempotency_repository.h"

#include "store/sql_values.h"

namespace todo::store {
namespace {

using sql::micros;
using sql::text;

constexpr std::string_view kFindResponse =
    "SELECT user_id, key, request_hash, status, headers, body, created_at "
    "FROM idempotency_keys WHERE user_id = $1 AND key = $2";
constexpr std::string_view kInsertResponse =
    "INSERT INTO idempotency_keys (user_id, key, request_hash, status, headers, body, created_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7)";
constexpr std::string_view kPurgeResponses = "DELETE FROM idempotency_keys WHERE created_at < $1";

StoredResponse response_from_row(const Row& row) {
  StoredResponse r;
  r.user_id = row.text(0);
  r.key = row.text(1);
  r.request_hash = row.text(2);
  r.status = static_cast<int>(row.integer(3));
  r.headers = row.text(4);
  r.body = row.text(5);
  r.created_at = domain::from_micros(row.integer(6));
  return r;
}

}  // namespace

std::optional<StoredResponse> IdempotencyRepository::find(Transaction& s, std::string_view user_id,
                                                          std::string_view key) const {
  auto row = s.query_one(kFindResponse, {text(user_id), text(key)});
  if (!row) return std::nullopt;
  return response_from_row(row.value());
}

void IdempotencyRepository::insert(Transaction& s, const StoredResponse& response) const {
  s.execute_unread(kInsertResponse, {response.user_id, response.key, response.request_hash,
                                     std::int64_t{response.status}, response.headers,
                                     response.body, micros(response.created_at)});
}

std::int64_t IdempotencyRepository::purge(Transaction& s, domain::Timestamp created_before) const {
  return s.execute(kPurgeResponses, {micros(created_before)});
}

}  // namespace todo::store
