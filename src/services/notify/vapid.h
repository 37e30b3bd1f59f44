// RFC 8292 VAPID: the server's P-256 key pair that push services use to recognise it, and the
// "Authorization: vapid t=<ES256 JWT>, k=<public key>" header of each push request.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "domain/clock.h"
#include "services/notify/channels_crypto.h"

namespace todo::notify {

struct LoadedVapid;

class Vapid {
 public:
  // From --vapid-private-key (base64url of the 32-byte scalar) and, optionally,
  // --vapid-public-key (base64url of the 65-byte point), which must then match the private key.
  static LoadedVapid from_keys(std::string_view private_b64url, std::string_view public_b64url);
  // <data_dir>/vapid-private-key, created once (mode 0600) when it does not exist.
  static LoadedVapid load_or_create(const std::filesystem::path& data_dir);

  // base64url of the uncompressed public point: the browser's applicationServerKey.
  const std::string& public_key() const { return public_b64url_; }
  // The Authorization header value for a request to `endpoint_url`: aud is the endpoint's
  // origin, exp 12 h after `now` (RFC 8292 allows at most 24 h), sub the operator's contact.
  // nullopt when the endpoint is not an http(s) URL.
  std::optional<std::string> authorization(std::string_view endpoint_url, std::string_view subject,
                                           domain::Timestamp now) const;

 private:
  explicit Vapid(PKey key);
  std::shared_ptr<EVP_PKEY> key_;
  std::string public_b64url_;
};

struct LoadedVapid {
  std::optional<Vapid> vapid;
  std::string error;  // set when vapid is empty
};

// scheme://host[:port] with the port only when it is not the scheme's default.
std::optional<std::string> url_origin(std::string_view url);

}  // namespace todo::notify
