// Handlers of the account routes. Each parses and type-checks its body, calls the service and
// renders the result; errors become problem+json in http::problem_response only.
#include "services/api/account_routes.h"

#include "domain/time_format.h"
#include "http/json.h"
#include "http/problem.h"

#include <boost/json.hpp>

namespace todo::services::api {
namespace {

namespace json = boost::json;
using http::Request;
using http::Response;

json::value user_json(const domain::User& u) {
  json::array reminders;
  for (int m : u.default_reminders) reminders.push_back(m);
  json::object o;
  o["id"] = u.id;
  o["email"] = u.email;
  o["display_name"] = u.display_name;
  o["timezone"] = u.timezone;
  o["role"] = domain::to_string(u.role);
  o["default_reminders"] = std::move(reminders);
  o["reminder_email"] = u.reminder_email ? json::value(*u.reminder_email) : json::value(nullptr);
  o["created_at"] = domain::format_rfc3339(u.created_at);
  o["last_login_at"] =
      u.last_login_at ? json::value(domain::format_rfc3339(*u.last_login_at)) : json::value(nullptr);
  return o;
}

json::object token_json(const Session& s) {
  return json::object{{"access_token", s.access_token},
                      {"token_type", "bearer"},
                      {"expires_in", s.expires_in},
                      {"refresh_token", s.refresh_token},
                      {"user_id", s.user.id},
                      {"email", s.user.email}};
}

Response problem(const Request& req, const domain::Error& error) {
  return http::problem_response(error, req.path);
}

Response invalid(const Request& req, std::vector<domain::FieldError> errors) {
  return problem(req, domain::validation_error(std::move(errors)));
}

Response handle_register(AccountService& accounts, Request& req) {
  auto body = http::parse_json_object(req);
  if (!body) return problem(req, body.error());
  http::FieldReader fields(*body);
  RegisterInput input;
  auto email = fields.string("email", true);
  auto password = fields.string("password", true);
  input.display_name = fields.string("display_name", false);
  input.timezone = fields.string("timezone", false);
  input.email = email.value_or("");
  input.password = password.value_or("");
  input.client_address = req.client_address;
  if (!fields.ok()) {
    // Report type errors and the value errors of the well-typed fields together: a missing or
    // mistyped field is 422 validation-error, whatever else is wrong.
    for (const auto& e : accounts.validate(input)) {
      if (!fields.failed(e.field) && !(e.field == "email" && !email) &&
          !(e.field == "password" && !password)) {
        fields.add_error(e.field, e.reason);
      }
    }
    return invalid(req, fields.take_errors());
  }
  auto session = accounts.register_user(input);
  if (!session) return problem(req, session.error());
  // {user_id, email, message} is what clients of the previous system read; ours read the tokens
  // and the user.
  json::object out = token_json(*session);
  out["user"] = user_json(session->user);
  out["message"] = "User registered successfully";
  return http::json_response(201, out);
}

Response handle_login(AccountService& accounts, Request& req) {
  auto body = http::parse_json_object(req);
  if (!body) return problem(req, body.error());
  http::FieldReader fields(*body);
  auto email = fields.string("email", true);
  auto password = fields.string("password", true);
  if (!fields.ok()) return invalid(req, fields.take_errors());
  auto session = accounts.login(LoginInput{*email, *password, req.client_address});
  if (!session) return problem(req, session.error());
  return http::json_response(200, token_json(*session));
}

// The body of refresh and logout: {"refresh_token": "..."}.
domain::Result<std::string> read_refresh_token(const Request& req) {
  auto body = http::parse_json_object(req);
  if (!body) return body.error();
  http::FieldReader fields(*body);
  auto token = fields.string("refresh_token", true);
  if (!fields.ok()) return domain::validation_error(fields.take_errors());
  return *token;
}

Response handle_refresh(AccountService& accounts, Request& req) {
  auto token = read_refresh_token(req);
  if (!token) return problem(req, token.error());
  auto session = accounts.refresh(*token);
  if (!session) return problem(req, session.error());
  return http::json_response(200, token_json(*session));
}

Response handle_logout(AccountService& accounts, Request& req) {
  auto token = read_refresh_token(req);
  if (!token) return problem(req, token.error());
  accounts.logout(*token);
  Response res;
  res.status = 204;
  return res;
}

Response handle_get_me(AccountService& accounts, const Authenticator& authn, Request& req) {
  auto claims = authn.authenticate(req);
  if (!claims) return problem(req, claims.error());
  auto user = accounts.get_user(claims->sub);
  if (!user) return problem(req, user.error());
  return http::json_response(200, user_json(*user));
}

Response handle_patch_me(AccountService& accounts, const Authenticator& authn, Request& req) {
  auto claims = authn.authenticate(req);
  if (!claims) return problem(req, claims.error());
  auto body = http::parse_json_object(req);
  if (!body) return problem(req, body.error());
  http::FieldReader fields(*body);
  ProfileChanges changes;
  changes.display_name = fields.string("display_name", false);
  changes.timezone = fields.string("timezone", false);
  changes.default_reminders = fields.integer_list("default_reminders");
  changes.reminder_email = fields.nullable_string("reminder_email");
  auto user = accounts.update_profile(claims->sub, changes, fields.take_errors());
  if (!user) return problem(req, user.error());
  return http::json_response(200, user_json(*user));
}

}  // namespace

void add_account_routes(http::Router& router, AccountService& accounts,
                        const Authenticator& authenticator) {
  using http::Executor;
  using http::Method;
  // Registration runs on the write pool (it writes): its hashing is bounded by the account
  // service's own slots, so a flood of sign-ups holds at most that many write threads and never
  // queues in front of logins. Login hashes on the small CPU pool, which is then all its own.
  router.add(Method::kPost, "/api/auth/register", Executor::kDatabaseWrite,
             [&accounts](Request& r) { return handle_register(accounts, r); });
  router.add(Method::kPost, "/api/auth/login", Executor::kCpuHeavy,
             [&accounts](Request& r) { return handle_login(accounts, r); });
  router.add(Method::kPost, "/api/auth/refresh", Executor::kDatabaseWrite,
             [&accounts](Request& r) { return handle_refresh(accounts, r); });
  router.add(Method::kPost, "/api/auth/logout", Executor::kDatabaseWrite,
             [&accounts](Request& r) { return handle_logout(accounts, r); });
  router.add(Method::kGet, "/api/me", Executor::kDatabaseRead, [&accounts, &authenticator](Request& r) {
    return handle_get_me(accounts, authenticator, r);
  });
  router.add(Method::kPatch, "/api/me", Executor::kDatabaseWrite,
             [&accounts, &authenticator](Request& r) {
               return handle_patch_me(accounts, authenticator, r);
             });
}

}  // namespace todo::services::api
