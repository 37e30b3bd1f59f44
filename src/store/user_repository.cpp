// Users and refresh tokens: portable SQL with $N placeholders, run through Transaction only.
#include "store/user_repository.h"

#include <string>

#include "store/sql_values.h"

namespace todo::store {
namespace {

// Column order shared by kInsertUser and the SELECTs, and read by user_from_row.
constexpr std::string_view kInsertUser =
    "INSERT INTO users (id, email, password_hash, display_name, timezone, role, change_seq, "
    "default_reminders, reminder_email, created_at, last_login_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
constexpr std::string_view kFindUserById =
    "SELECT id, email, password_hash, display_name, timezone, role, change_seq, "
    "default_reminders, reminder_email, created_at, last_login_at FROM users WHERE id = $1";
constexpr std::string_view kFindUserByEmail =
    "SELECT id, email, password_hash, display_name, timezone, role, change_seq, "
    "default_reminders, reminder_email, created_at, last_login_at FROM users WHERE email = $1";
constexpr std::string_view kUpdateProfile =
    "UPDATE users SET display_name = $2, timezone = $3, role = $4, default_reminders = $5, "
    "reminder_email = $6 WHERE id = $1";
constexpr std::string_view kSetRole = "UPDATE users SET role = $2 WHERE id = $1";
constexpr std::string_view kRecordLogin = "UPDATE users SET last_login_at = $2 WHERE id = $1";
constexpr std::string_view kCountUsers = "SELECT COUNT(*) FROM users";
constexpr std::string_view kNextChangeSeq =
    "UPDATE users SET change_seq = change_seq + 1 WHERE id = $1 RETURNING change_seq";

constexpr std::string_view kInsertRefreshToken =
    "INSERT INTO refresh_tokens (id, user_id, token_hash, family_id, expires_at, revoked_at, "
    "replaced_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
constexpr std::string_view kFindRefreshTokenByHash =
    "SELECT id, user_id, token_hash, family_id, expires_at, revoked_at, replaced_by, created_at "
    "FROM refresh_tokens WHERE token_hash = $1";
constexpr std::string_view kMarkRotated =
    "UPDATE refresh_tokens SET revoked_at = $2, replaced_by = $3 "
    "WHERE id = $1 AND revoked_at IS NULL";
constexpr std::string_view kRevokeFamily =
    "UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL";
constexpr std::string_view kPurgeExpired = "DELETE FROM refresh_tokens WHERE expires_at < $1";

using sql::micros;
using sql::optional_time;
using sql::optional_value;
using sql::text;

domain::Role role_from(const std::string& text) {
  const auto role = domain::parse_role(text);
  if (!role) throw DatabaseError("users.role holds an unknown role: " + text);
  return *role;
}

domain::User user_from_row(const Row& row) {
  domain::User u;
  u.id = row.text(0);
  u.email = row.text(1);
  u.password_hash = row.text(2);
  u.display_name = row.text(3);
  u.timezone = row.text(4);
  u.role = role_from(row.text(5));
  u.change_seq = row.integer(6);
  u.default_reminders = sql::parse_minutes(row.text(7), "users.default_reminders");
  u.reminder_email = row.optional_text(8);
  u.created_at = domain::from_micros(row.integer(9));
  u.last_login_at = optional_time(row, 10);
  return u;
}

RefreshToken token_from_row(const Row& row) {
  RefreshToken t;
  t.id = row.text(0);
  t.user_id = row.text(1);
  t.token_hash = row.text(2);
  t.family_id = row.text(3);
  t.expires_at = domain::from_micros(row.integer(4));
  t.revoked_at = optional_time(row, 5);
  t.replaced_by = row.optional_text(6);
  t.created_at = domain::from_micros(row.integer(7));
  return t;
}

// The callers looked the user up in the same transaction, so a missing row is a bug, not an
// expected outcome; it must not pass as success.
void expect_one_user(std::int64_t changed, std::string_view what, std::string_view id) {
  if (changed != 1) {
    throw DatabaseError(std::string(what) + ": no user with id " + std::string(id));
  }
}

}  // namespace

void UserRepository::insert(Transaction& s, const domain::User& user) const {
  s.execute(kInsertUser,
            {user.id, user.email, user.password_hash, user.display_name, user.timezone,
             text(domain::to_string(user.role)), user.change_seq,
             sql::format_minutes(user.default_reminders), optional_value(user.reminder_email, text),
             micros(user.created_at), optional_value(user.last_login_at, micros)});
}

std::optional<domain::User> UserRepository::find_by_id(Transaction& s, std::string_view id) const {
  auto row = s.query_one(kFindUserById, {text(id)});
  if (!row) return std::nullopt;
  return user_from_row(*row);
}

std::optional<domain::User> UserRepository::find_by_email(Transaction& s,
                                                          std::string_view email) const {
  auto row = s.query_one(kFindUserByEmail, {text(email)});
  if (!row) return std::nullopt;
  return user_from_row(*row);
}

void UserRepository::update_profile(Transaction& s, const domain::User& user) const {
  expect_one_user(s.execute(kUpdateProfile, {user.id, user.display_name, user.timezone,
                                             text(domain::to_string(user.role)),
                                             sql::format_minutes(user.default_reminders),
                                             optional_value(user.reminder_email, text)}),
                  "update_profile", user.id);
}

void UserRepository::set_role(Transaction& s, std::string_view id, domain::Role role) const {
  expect_one_user(s.execute(kSetRole, {text(id), text(domain::to_string(role))}), "set_role", id);
}

void UserRepository::record_login(Transaction& s, std::string_view id, domain::Timestamp at) const {
  expect_one_user(s.execute(kRecordLogin, {text(id), micros(at)}), "record_login", id);
}

std::int64_t UserRepository::count(Transaction& s) const {
  return s.query_one(kCountUsers)->integer(0);
}

std::int64_t UserRepository::next_change_seq(Transaction& s, std::string_view id) const {
  auto row = s.query_one(kNextChangeSeq, {text(id)});
  if (!row) throw DatabaseError("next_change_seq: no user with id " + std::string(id));
  return row.value().integer(0);
}

void RefreshTokenRepository::insert(Transaction& s, const RefreshToken& token) const {
  s.execute(kInsertRefreshToken,
            {token.id, token.user_id, token.token_hash, token.family_id, micros(token.expires_at),
             optional_value(token.revoked_at, micros), optional_value(token.replaced_by, text),
             micros(token.created_at)});
}

std::optional<RefreshToken> RefreshTokenRepository::find_by_hash(
    Transaction& s, std::string_view token_hash) const {
  auto row = s.query_one(kFindRefreshTokenByHash, {text(token_hash)});
  if (!row) return std::nullopt;
  return token_from_row(*row);
}

bool RefreshTokenRepository::mark_rotated(Transaction& s, std::string_view id,
                                          std::string_view replaced_by,
                                          domain::Timestamp at) const {
  return s.execute(kMarkRotated, {text(id), micros(at), text(replaced_by)}) == 1;
}

std::int64_t RefreshTokenRepository::revoke_family(Transaction& s, std::string_view family_id,
                                                   domain::Timestamp at) const {
  return s.execute(kRevokeFamily, {text(family_id), micros(at)});
}

std::int64_t RefreshTokenRepository::purge_expired(Transaction& s, domain::Timestamp before) const {
  return s.execute(kPurgeExpired, {micros(before)});
}

}  // namespace todo::store
