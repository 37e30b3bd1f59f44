// Accounts: registration, login, token refresh with rotation, logout and the user's own profile.
// Plain synchronous code over the store: the HTTP handlers call it from a blocking pool.
#pragma once

#include "auth/admission.h"
#include "auth/jwt.h"
#include "auth/login_guard.h"
#include "auth/password.h"
#include "auth/rate_limiter.h"
#include "domain/clock.h"
#include "domain/error.h"
#include "domain/user.h"
#include "store/database.h"
#include "store/user_repository.h"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace todo::services::api {

struct RegisterInput {
  std::string email;
  std::string password;
  std::optional<std::string> display_name;
  std::optional<std::string> timezone;
  std::string client_address;
};

struct LoginInput {
  std::string email;
  std::string password;
  std::string client_address;
};

// Fields of PATCH /api/me; an absent field is left as it is.
struct ProfileChanges {
  std::optional<std::string> display_name;
  std::optional<std::string> timezone;
  std::optional<std::vector<std::int64_t>> default_reminders;
  std::optional<std::optional<std::string>> reminder_email;  // holds nullopt to clear
};

struct Session {
  domain::User user;
  std::string access_token;
  std::int64_t expires_in = 0;  // seconds
  std::string refresh_token;
};

struct AccountDependencies {
  store::Database& database;
  const auth::JwtCodec& jwt;
  const auth::PasswordHasher& hasher;
  const auth::PasswordPolicy& policy;
  const domain::ZoneCatalog& zones;
  auth::LoginGuard& login_guard;
  auth::RateLimiter& register_per_address;
  // Registrations hashing a password at once; beyond, 503 with Retry-After (never a queue).
  auth::Admission& register_hashing;
  const domain::Clock& clock;
  domain::RandomSource& random;
  std::chrono::seconds refresh_lifetime{std::chrono::hours(24 * 30)};
};

class AccountService {
 public:
  explicit AccountService(AccountDependencies deps) : deps_(deps) {}

  // Field errors of a registration, without touching the database.
  std::vector<domain::FieldError> validate(const RegisterInput& input) const;

  domain::Result<Session> register_user(const RegisterInput& input);
  domain::Result<Session> login(const LoginInput& input);
  domain::Result<Session> refresh(const std::string& refresh_token);
  void logout(const std::string& refresh_token);

  domain::Result<domain::User> get_user(const std::string& user_id);
  // `field_errors` are type errors the caller already found; they are reported with the rest.
  domain::Result<domain::User> update_profile(const std::string& user_id,
                                              const ProfileChanges& changes,
                                              std::vector<domain::FieldError> field_errors);

 private:
  // Inserts a new refresh token (a new family unless `family_id` is given) and signs an access
  // token; runs inside the caller's write transaction.
  Session open_session(store::Transaction& s, const domain::User& user,
                       std::optional<std::string> family_id);

  AccountDependencies deps_;
  store::UserRepository users_;
  store::RefreshTokenRepository refresh_tokens_;
};

}  // namespace todo::services::api
