// Users and their refresh tokens, over the dialect-neutral Transaction.
#pragma once

#include "domain/clock.h"
#include "domain/user.h"
#include "store/database.h"

#include <optional>
#include <string>
#include <string_view>

namespace todo::store {

class UserRepository {
 public:
  // Throws ConstraintViolation when the e-mail is taken.
  void insert(Transaction& s, const domain::User& user) const;
  std::optional<domain::User> find_by_id(Transaction& s, std::string_view id) const;
  std::optional<domain::User> find_by_email(Transaction& s, std::string_view email) const;
  // update_profile, set_role and record_login throw DatabaseError when no user has the id:
  // look the user up first (in the same transaction) to answer "not found".
  // Writes display_name, timezone, role, default_reminders, reminder_email.
  void update_profile(Transaction& s, const domain::User& user) const;
  void set_role(Transaction& s, std::string_view id, domain::Role role) const;
  void record_login(Transaction& s, std::string_view id, domain::Timestamp at) const;
  std::int64_t count(Transaction& s) const;
  // Increments and returns the user's change counter (inside the caller's write transaction).
  std::int64_t next_change_seq(Transaction& s, std::string_view id) const;
};

struct RefreshToken {
  std::string id;
  std::string user_id;
  std::string token_hash;  // hex SHA-256 of the opaque token; the token itself is never stored
  std::string family_id;   // every rotation of one login shares it
  domain::Timestamp expires_at{};
  std::optional<domain::Timestamp> revoked_at;
  std::optional<std::string> replaced_by;  // id of the token that rotated this one
  domain::Timestamp created_at{};
};

class RefreshTokenRepository {
 public:
  void insert(Transaction& s, const RefreshToken& token) const;
  std::optional<RefreshToken> find_by_hash(Transaction& s, std::string_view token_hash) const;
  // Marks the token revoked and replaced; returns false when it was already revoked (a race).
  bool mark_rotated(Transaction& s, std::string_view id, std::string_view replaced_by,
                    domain::Timestamp at) const;
  // Revokes every live token of the family; returns how many.
  std::int64_t revoke_family(Transaction& s, std::string_view family_id, domain::Timestamp at) const;
  // Deletes tokens that expired before `before`.
  std::int64_t purge_expired(Transaction& s, domain::Timestamp before) const;
};

}  // namespace todo::store
