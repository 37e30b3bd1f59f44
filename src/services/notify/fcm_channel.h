// Firebase Cloud Messaging HTTP v1: a service account's OAuth2 JWT-bearer grant (RS256 assertion,
// RFC 7523) for an access token, cached until shortly before it expires, then messages:send.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "domain/clock.h"
#include "services/notify/channel.h"
#include "services/notify/channels_crypto.h"
#include "services/notify/http_client.h"

namespace todo::notify {

struct FcmCredentials {
  std::string client_email, token_uri, project_id;
  std::shared_ptr<EVP_PKEY> private_key;  // RSA, from the file's private_key PEM
};
struct LoadedFcmCredentials {
  std::optional<FcmCredentials> credentials;
  std::string error;  // names the missing or malformed field
};
LoadedFcmCredentials parse_fcm_credentials(std::string_view json);
LoadedFcmCredentials load_fcm_credentials(const std::filesystem::path& file);  // --fcm-credentials

constexpr std::string_view kFcmScope = "https://www.googleapis.com/auth/firebase.messaging";

// The signed assertion for the token request: iss = client_email, scope, aud = token_uri,
// iat = now, exp = now + 1 h.
std::string fcm_assertion(const FcmCredentials& credentials, domain::Timestamp now);

struct FcmOptions {
  std::string base_url = "https://fcm.googleapis.com";  // --fcm-base-url, for tests
  std::chrono::seconds refresh_margin{300};  // a token is renewed this long before it expires
};

class FcmSender {
 public:
  FcmSender(HttpClient& http, const domain::Clock& clock, FcmCredentials credentials,
            FcmOptions options = {})
      : http_(http),
        clock_(clock),
        credentials_(std::move(credentials)),
        options_(std::move(options)) {}
  Result send(const Reminder& reminder, const Target& target);

 private:
  struct Token {
    std::string value;
    std::string error;      // set when no token could be had
    bool temporary = true;  // whether that error is worth a retry
  };
  Token access_token();
  void forget_token(const std::string& value);

  HttpClient& http_;
  const domain::Clock& clock_;
  FcmCredentials credentials_;
  FcmOptions options_;
  std::mutex mutex_;  // guards the cached token; held while one is fetched, so only one fetch runs
  std::string token_;
  domain::Timestamp token_expires_{};
};

}  // namespace todo::notify
