// Account rules: NIST-style passwords, constant-shape login failures, refresh-token rotation with
// reuse detection (a replayed token revokes its whole family).
#include "services/api/account_service.h"

#include "auth/tokens.h"
#include "domain/ids.h"
#include "domain/text.h"

#include <algorithm>

namespace todo::services::api {
namespace {

using domain::ErrorCode;

std::vector<domain::FieldError> validate_reminders(const std::vector<std::int64_t>& offsets,
                                                   std::vector<int>& normalized) {
  std::vector<domain::FieldError> errors;
  if (offsets.size() > domain::kMaxReminders) {
    errors.push_back({"default_reminders", "at most 10 reminders"});
    return errors;
  }
  for (std::int64_t m : offsets) {
    if (m < 0 || m > domain::kMaxReminderOffsetMinutes) {
      errors.push_back({"default_reminders", "each offset must be 0 to 40320 minutes"});
      return errors;
    }
    int v = static_cast<int>(m);
    if (std::find(normalized.begin(), normalized.end(), v) == normalized.end()) {
      normalized.push_back(v);
    }
  }
  return errors;
}

// result::error() returns a copy: take the fields from one object.
void append_fields(std::vector<domain::FieldError>& errors, const domain::Error& error) {
  errors.insert(errors.end(), error.fields.begin(), error.fields.end());
}

domain::Error invalid_credentials() {
  return domain::make_error(ErrorCode::kInvalidCredentials, "The e-mail or password is wrong.");
}

domain::Error with_retry_after(domain::Error e, std::chrono::seconds retry_after) {
  e.retry_after_seconds = static_cast<int>(std::max<std::int64_t>(1, retry_after.count()));
  return e;
}

domain::Error login_refused(const auth::LoginRefusal& refusal) {
  using Reason = auth::LoginRefusal::Reason;
  std::string what = refusal.reason == Reason::kAddress ? "Too many login attempts from this address"
                     : refusal.reason == Reason::kAccountAtAddress
                         ? "Too many failed logins for this account from this address"
                         : "Too many failed logins for this account";
  return with_retry_after(domain::make_error(ErrorCode::kRateLimited, what + "; try again later."),
                          refusal.retry_after);
}

// A registration refused for the values of well-typed fields. The previous system answered a
// malformed e-mail and then a password its policy refused with their own 400s, which its clients
// test for (ADR 0018); other invalid values are 422. Every invalid field is listed either way.
domain::Error registration_refused(std::vector<domain::FieldError> errors) {
  const auto names = [&](std::string_view field) {
    return std::any_of(errors.begin(), errors.end(),
                       [&](const domain::FieldError& e) { return e.field == field; });
  };
  const bool email = names("email");
  const bool password = names("password");
  domain::Error e = domain::validation_error(std::move(errors));
  if (email) {
    e.code = ErrorCode::kInvalidEmailFormat;
    e.detail = "The e-mail address is not valid.";
  } else if (password) {
    e.code = ErrorCode::kInvalidPassword;
    e.detail = "The password does not meet the password policy.";
  }
  return e;
}

// A registration slot frees up within one hash (~50 ms): the client may retry a second later.
constexpr std::chrono::seconds kRegisterRetryAfter{1};

}  // namespace

std::vector<domain::FieldError> AccountService::validate(const RegisterInput& input) const {
  std::vector<domain::FieldError> errors;
  if (auto email = domain::normalize_email(input.email); !email) {
    append_fields(errors, email.error());
  }
  if (auto pw = deps_.policy.check(input.password); !pw) {
    append_fields(errors, pw.error());
  }
  if (input.display_name) {
    if (auto name = domain::normalize_display_name(*input.display_name); !name) {
      append_fields(errors, name.error());
    }
  }
  if (input.timezone && !deps_.zones.contains(*input.timezone)) {
    errors.push_back({"timezone", "is not a known IANA time zone"});
  }
  return errors;
}

Session AccountService::open_session(store::Transaction& s, const domain::User& user,
                                     std::optional<std::string> family_id) {
  auto now = deps_.clock.now();
  store::RefreshToken token;
  std::string secret = auth::new_opaque_token(deps_.random);
  token.id = domain::new_uuid_v7(now, deps_.random);
  token.user_id = user.id;
  token.token_hash = auth::sha256_hex(secret);
  token.family_id = family_id ? *family_id : token.id;
  token.created_at = now;
  token.expires_at = now + std::chrono::duration_cast<std::chrono::microseconds>(
                               deps_.refresh_lifetime);
  refresh_tokens_.insert(s, token);
  auto issued = deps_.jwt.issue(user.id, user.email, user.role);
  return Session{user, issued.token, deps_.jwt.lifetime().count(), secret};
}

domain::Result<Session> AccountService::register_user(const RegisterInput& input) {
  if (auto errors = validate(input); !errors.empty()) {
    return registration_refused(std::move(errors));
  }
  // A full house is answered before the rate limit counts the attempt: retrying after a 503
  // costs the client nothing.
  auto hashing = deps_.register_hashing.try_enter();
  if (!hashing) {
    return with_retry_after(domain::make_error(ErrorCode::kOverloaded,
                                               "Too many sign-ups are in progress; try again "
                                               "in a moment."),
                            kRegisterRetryAfter);
  }
  if (auto wait = deps_.register_per_address.try_acquire(input.client_address)) {
    return with_retry_after(domain::make_error(ErrorCode::kRateLimited,
                                               "Too many sign-ups from this address; try again "
                                               "later."),
                            *wait);
  }
  domain::User user;
  user.email = domain::normalize_email(input.email).value();
  user.display_name =
      input.display_name ? domain::normalize_display_name(*input.display_name).value() : "";
  user.timezone = input.timezone.value_or("UTC");

  bool taken = store::read_value(deps_.database, [&](store::Transaction& s) {
    return users_.find_by_email(s, user.email).has_value();
  });
  if (taken) {
    return domain::make_error(ErrorCode::kEmailTaken, "An account with this e-mail exists.");
  }
  user.password_hash = deps_.hasher.hash(input.password);
  hashing.reset();
  user.created_at = deps_.clock.now();
  user.id = domain::new_uuid_v7(user.created_at, deps_.random);
  try {
    Session session = store::write_value(deps_.database, [&](store::Transaction& s) {
      users_.insert(s, user);
      return open_session(s, user, std::nullopt);
    });
    // The address that created the account is its owner's: known from the start.
    deps_.login_guard.record_success(user.email, input.client_address);
    return session;
  } catch (const store::ConstraintViolation&) {
    // Another registration with the same e-mail committed between our check and our insert.
    return domain::make_error(ErrorCode::kEmailTaken, "An account with this e-mail exists.");
  }
}

domain::Result<Session> AccountService::login(const LoginInput& input) {
  auto email = domain::normalize_email(input.email);
  std::string account_key = email ? *email : domain::trim(input.email);
  if (auto refusal = deps_.login_guard.admit(account_key, input.client_address)) {
    return login_refused(*refusal);
  }

  std::optional<domain::User> user;
  if (email) {
    user = store::read_value(deps_.database,
                             [&](store::Transaction& s) { return users_.find_by_email(s, *email); });
  }
  // Unknown accounts verify against a decoy hash so both failures take the same time.
  const std::string& hash = user ? user->password_hash : deps_.hasher.decoy_hash();
  bool verified = deps_.hasher.verify(hash, input.password);
  if (!user || !verified) {
    deps_.login_guard.record_failure(account_key, input.client_address);
    return invalid_credentials();
  }

  deps_.login_guard.record_success(account_key, input.client_address);
  auto now = deps_.clock.now();
  return store::write_value(deps_.database, [&](store::Transaction& s) {
    users_.record_login(s, user->id, now);
    user->last_login_at = now;
    return open_session(s, *user, std::nullopt);
  });
}

domain::Result<Session> AccountService::refresh(const std::string& refresh_token) {
  auto now = deps_.clock.now();
  std::string hash = auth::sha256_hex(refresh_token);
  return store::write_value(deps_.database, [&](store::Transaction& s) -> domain::Result<Session> {
    auto token = refresh_tokens_.find_by_hash(s, hash);
    if (!token) {
      return domain::make_error(ErrorCode::kRefreshTokenInvalid, "Unknown refresh token.");
    }
    if (token->revoked_at) {
      if (token->replaced_by) {
        // A rotated token came back: it was stolen or replayed. End the whole family; the
        // revocation commits even though the request fails.
        refresh_tokens_.revoke_family(s, token->family_id, now);
        return domain::make_error(ErrorCode::kRefreshTokenReused,
                                  "This refresh token was already used; every session of this "
                                  "login has been revoked. Log in again.");
      }
      return domain::make_error(ErrorCode::kRefreshTokenInvalid, "The refresh token is revoked.");
    }
    if (token->expires_at <= now) {
      return domain::make_error(ErrorCode::kRefreshTokenInvalid, "The refresh token expired.");
    }
    auto user = users_.find_by_id(s, token->user_id);
    if (!user) {
      return domain::make_error(ErrorCode::kRefreshTokenInvalid, "The account no longer exists.");
    }
    Session session = open_session(s, *user, token->family_id);
    auto fresh = refresh_tokens_.find_by_hash(s, auth::sha256_hex(session.refresh_token));
    if (!refresh_tokens_.mark_rotated(s, token->id, fresh->id, now)) {
      throw store::DatabaseError("refresh token rotated concurrently");
    }
    return session;
  });
}

void AccountService::logout(const std::string& refresh_token) {
  auto now = deps_.clock.now();
  std::string hash = auth::sha256_hex(refresh_token);
  deps_.database.write([&](store::Transaction& s) {
    if (auto token = refresh_tokens_.find_by_hash(s, hash)) {
      refresh_tokens_.revoke_family(s, token->family_id, now);
    }
  });
}

domain::Result<domain::User> AccountService::get_user(const std::string& user_id) {
  auto user = store::read_value(deps_.database,
                                [&](store::Transaction& s) { return users_.find_by_id(s, user_id); });
  if (!user) return domain::make_error(ErrorCode::kUserNotFound, "The account no longer exists.");
  return *user;
}

domain::Result<domain::User> AccountService::update_profile(
    const std::string& user_id, const ProfileChanges& changes,
    std::vector<domain::FieldError> errors) {
  std::optional<std::string> display_name;
  if (changes.display_name) {
    auto name = domain::normalize_display_name(*changes.display_name);
    if (name) {
      display_name = *name;
    } else {
      append_fields(errors, name.error());
    }
  }
  if (changes.timezone && !deps_.zones.contains(*changes.timezone)) {
    errors.push_back({"timezone", "is not a known IANA time zone"});
  }
  std::vector<int> reminders;
  if (changes.default_reminders) {
    auto e = validate_reminders(*changes.default_reminders, reminders);
    errors.insert(errors.end(), e.begin(), e.end());
  }
  std::optional<std::optional<std::string>> reminder_email;
  if (changes.reminder_email) {
    if (!*changes.reminder_email) {
      reminder_email = std::optional<std::string>{};
    } else if (auto e = domain::normalize_email(**changes.reminder_email); e) {
      reminder_email = std::optional<std::string>{*e};
    } else {
      errors.push_back({"reminder_email", "must be a valid e-mail address or null"});
    }
  }
  if (!errors.empty()) return domain::validation_error(std::move(errors));

  return store::write_value(deps_.database,
                            [&](store::Transaction& s) -> domain::Result<domain::User> {
                              auto user = users_.find_by_id(s, user_id);
                              if (!user) {
                                return domain::make_error(ErrorCode::kUserNotFound,
                                                          "The account no longer exists.");
                              }
                              if (display_name) user->display_name = *display_name;
                              if (changes.timezone) user->timezone = *changes.timezone;
                              if (changes.default_reminders) user->default_reminders = reminders;
                              if (reminder_email) user->reminder_email = *reminder_email;
                              users_.update_profile(s, *user);
                              return *user;
                            });
}

}  // namespace todo::services::api
