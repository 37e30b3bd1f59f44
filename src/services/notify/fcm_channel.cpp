// The FCM sender: credentials, the OAuth token cache and the send request.
#include "services/notify/fcm_channel.h"

#include <openssl/evp.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "services/notify/web_push.h"
#include "services/notify/webhook_channel.h"

namespace todo::notify {
namespace {

std::string form_escape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += char(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string field(const boost::json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().get_string()) : "";
}

std::int64_t seconds_of(domain::Timestamp t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// FCM's error status ("UNREGISTERED", "INVALID_ARGUMENT", …) from error.details[].errorCode,
// else error.status.
std::string fcm_error_code(std::string_view body) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(body, ec);
  if (ec || !v.is_object()) return "";
  const auto* error = v.get_object().if_contains("error");
  if (!error || !error->is_object()) return "";
  if (const auto* details = error->get_object().if_contains("details");
      details && details->is_array()) {
    for (const auto& d : details->get_array()) {
      if (d.is_object()) {
        std::string code = field(d.get_object(), "errorCode");
        if (!code.empty()) return code;
      }
    }
  }
  return field(error->get_object(), "status");
}

}  // namespace

LoadedFcmCredentials parse_fcm_credentials(std::string_view json) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(json, ec);
  if (ec || !v.is_object()) return {std::nullopt, "not a JSON object"};
  const auto& o = v.get_object();
  FcmCredentials c;
  c.client_email = field(o, "client_email");
  c.token_uri = field(o, "token_uri");
  c.project_id = field(o, "project_id");
  for (auto [name, value] :
       {std::pair{"client_email", &c.client_email}, std::pair{"token_uri", &c.token_uri},
        std::pair{"project_id", &c.project_id}}) {
    if (value->empty()) return {std::nullopt, std::string(name) + " is missing"};
  }
  PKey key = pem_private_key(field(o, "private_key"));
  if (!key || EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA) {
    return {std::nullopt, "private_key is not an RSA private key in PEM form"};
  }
  c.private_key = std::shared_ptr<EVP_PKEY>(key.release(), PKeyFree{});
  return {std::move(c), ""};
}

LoadedFcmCredentials load_fcm_credentials(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return {std::nullopt, "cannot read " + file.string()};
  std::stringstream text;
  text << in.rdbuf();
  LoadedFcmCredentials loaded = parse_fcm_credentials(text.str());
  if (!loaded.credentials) loaded.error = file.string() + ": " + loaded.error;
  return loaded;
}

std::string fcm_assertion(const FcmCredentials& c, domain::Timestamp now) {
  std::int64_t iat = seconds_of(now);
  boost::json::object claims{{"iss", c.client_email},
                             {"scope", kFcmScope},
                             {"aud", c.token_uri},
                             {"iat", iat},
                             {"exp", iat + 3600}};
  return jwt_rs256(boost::json::serialize(claims), c.private_key.get());
}

FcmSender::Token FcmSender::access_token() {
  std::lock_guard lock(mutex_);
  auto now = clock_.now();
  if (!token_.empty() && now + options_.refresh_margin < token_expires_) return {token_, "", true};

  HttpRequest request;
  request.url = credentials_.token_uri;
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  request.body = "grant_type=" + form_escape("urn:ietf:params:oauth:grant-type:jwt-bearer") +
                 "&assertion=" + form_escape(fcm_assertion(credentials_, now));
  HttpResponse response = http_.send(request);
  if (!response.ok()) return {"", "token request: " + response.error, true};
  if (response.status != 200) {
    // 400/401 from the token endpoint: the service account is wrong or revoked; an operator
    // must act, retrying will not help. 5xx and 429 may pass.
    bool temporary = response.status == 429 || response.status >= 500;
    return {"",
            "token request: HTTP " + std::to_string(response.status) + " " +
                response.body.substr(0, 200),
            temporary};
  }
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(response.body, ec);
  const auto* o = !ec && v.is_object() ? &v.get_object() : nullptr;
  std::string token = o ? field(*o, "access_token") : "";
  const auto* expires = o ? o->if_contains("expires_in") : nullptr;
  if (token.empty() || !expires || !expires->is_number()) {
    return {"", "token response without access_token and expires_in", true};
  }
  token_ = token;
  token_expires_ = now + std::chrono::seconds(expires->to_number<std::int64_t>());
  return {token_, "", true};
}

void FcmSender::forget_token(const std::string& value) {
  std::lock_guard lock(mutex_);
  if (token_ == value) token_.clear();
}

Result FcmSender::send(const Reminder& reminder, const Target& target) {
  if (target.address.empty()) return {Outcome::kFailed, "", "empty registration token"};
  Token token = access_token();
  if (token.value.empty()) {
    return {token.temporary ? Outcome::kRetry : Outcome::kFailed, "", token.error};
  }
  boost::json::value payload = boost::json::parse(push_payload(reminder));
  boost::json::object data;  // FCM data values must be strings
  for (const auto& [key, value] : payload.get_object()) {
    data[key] = value.is_string() ? boost::json::value(value.get_string())
                                  : boost::json::value(boost::json::serialize(value));
  }
  boost::json::object message{
      {"token", target.address},
      {"notification",
       {{"title", payload.at("title").get_string()}, {"body", payload.at("body").get_string()}}},
      {"data", std::move(data)},
      {"android", {{"priority", "high"}}},
  };
  HttpRequest request;
  request.url = options_.base_url + "/v1/projects/" + credentials_.project_id + "/messages:send";
  request.headers = {{"Content-Type", "application/json"},
                     {"Authorization", "Bearer " + token.value}};
  request.body = boost::json::serialize(boost::json::object{{"message", std::move(message)}});
  HttpResponse response = http_.send(request);
  if (!response.ok()) return classify_http(response);

  std::string code = response.status == 200 ? "" : fcm_error_code(response.body);
  if (response.status == 404 || code == "UNREGISTERED") {
    return {Outcome::kTargetGone, "", "FCM: the registration token is no longer valid"};
  }
  if (response.status == 401) {  // the token was revoked or expired early: fetch a new one
    forget_token(token.value);
    return {Outcome::kRetry, "", "FCM: HTTP 401, access token refused"};
  }
  Result result = classify_http(response);
  if (result.outcome == Outcome::kDelivered) {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(response.body, ec);
    if (!ec && v.is_object()) result.provider_id = field(v.get_object(), "name");
  } else if (!code.empty()) {
    result.error = "FCM " + code + ": " + result.error;
  }
  return result;
}

}  // namespace todo::notify
