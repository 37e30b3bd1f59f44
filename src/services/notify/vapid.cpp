// VAPID keys (kept like the JWT secret: generated once into the data dir) and the ES256 JWT.
#include "services/notify/vapid.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "services/notify/ssrf_guard.h"

namespace todo::notify {
namespace {

constexpr char kKeyFile[] = "vapid-private-key";

void write_private_file(const std::filesystem::path& path, const std::string& text) {
  auto tmp = path;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) throw std::runtime_error("cannot create " + tmp.string());
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) throw std::runtime_error("cannot write " + tmp.string());
  std::filesystem::rename(tmp, path);
}

}  // namespace

Vapid::Vapid(PKey key)
    : key_(key.release(), PKeyFree{}),
      public_b64url_(base64url_encode(p256_public_raw(key_.get()))) {}

LoadedVapid Vapid::from_keys(std::string_view private_b64url, std::string_view public_b64url) {
  auto scalar = base64_decode(private_b64url);
  PKey key = scalar ? p256_private_key(*scalar) : nullptr;
  if (!key) return {std::nullopt, "the VAPID private key is not base64url of a P-256 scalar"};
  Vapid vapid(std::move(key));
  if (!public_b64url.empty()) {
    auto point = base64_decode(public_b64url);
    if (!point || base64url_encode(*point) != vapid.public_key()) {
      return {std::nullopt, "the VAPID public key does not belong to the VAPID private key"};
    }
  }
  return {std::move(vapid), ""};
}

LoadedVapid Vapid::load_or_create(const std::filesystem::path& data_dir) {
  auto path = data_dir / kKeyFile;
  if (std::filesystem::exists(path)) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    std::string line = text.str();
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    LoadedVapid loaded = from_keys(line, "");
    if (!loaded.vapid) loaded.error = path.string() + ": " + loaded.error;
    return loaded;
  }
  PKey key = generate_p256_key();
  std::filesystem::create_directories(data_dir);
  write_private_file(path, base64url_encode(p256_private_raw(key.get())) + "\n");
  return {Vapid(std::move(key)), ""};
}

std::optional<std::string> Vapid::authorization(std::string_view endpoint_url,
                                                std::string_view subject,
                                                domain::Timestamp now) const {
  auto audience = url_origin(endpoint_url);
  if (!audience) return std::nullopt;
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  boost::json::object claims{{"aud", *audience}, {"exp", seconds + 12 * 3600}, {"sub", subject}};
  std::string jwt = jwt_es256(boost::json::serialize(claims), key_.get());
  return "vapid t=" + jwt + ", k=" + public_b64url_;
}

std::optional<std::string> url_origin(std::string_view url) {
  ParsedUrl parsed = parse_http_url(url);
  if (!parsed.endpoint) return std::nullopt;
  const Endpoint& e = *parsed.endpoint;
  std::string host = e.host.find(':') != std::string::npos ? "[" + e.host + "]" : e.host;
  bool default_port =
      (e.scheme == "https" && e.port == "443") || (e.scheme == "http" && e.port == "80");
  return e.scheme + "://" + host + (default_port ? "" : ":" + e.port);
}

}  // namespace todo::notify
