// The built web app (web/dist) served at "/": files loaded into memory once at start, hashed
// assets cached forever, index.html for every client route, precompressed variants when present.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "http/message.h"

namespace todo::http {

// Paths the app never claims, even as a client route: an unknown one stays a problem+json 404.
bool is_server_path(std::string_view path);

// The Content-Security-Policy of every page: scripts, styles and connections only from the same
// origin (WebSocket included), no inline script, no framing.
inline constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; worker-src 'self'; manifest-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

class StaticSite {
 public:
  // Loads every regular file under root (at most max_bytes in all, else throws
  // std::runtime_error). A root without index.html is "not built": the site then answers 503.
  static StaticSite load(const std::filesystem::path& root, std::size_t max_bytes);

  bool built() const { return !files_.empty(); }
  std::size_t file_count() const { return files_.size(); }
  const std::filesystem::path& root() const { return root_; }

  // GET/HEAD of any path the router has no route for.
  Response serve(const Request& request) const;

 private:
  struct File {
    std::string body;
    std::string gzip;    // "" when there is no .gz beside it
    std::string brotli;  // "" when there is no .br beside it
    std::string content_type;
    std::string etag;
    bool immutable = false;  // under /assets/: the name carries a content hash
  };

  Response send(const Request& request, const File& file) const;
  Response not_built(const Request& request) const;

  std::filesystem::path root_;
  std::map<std::string, File, std::less<>> files_;  // "/index.html" → file
};

}  // namespace todo::http
