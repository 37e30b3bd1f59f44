// Serving the web app's static files; see static_site.h and
// docs/adr/0017-web-app-serving-and-libraries.md.
#include "http/static_site.h"

#include <array>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "domain/text.h"
#include "http/problem.h"

namespace todo::http {
namespace {

constexpr std::string_view kIndex = "/index.html";

bool has_prefix_segment(std::string_view path, std::string_view prefix) {
  if (path.substr(0, prefix.size()) != prefix) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '/';
}

std::string_view content_type_of(std::string_view name) {
  struct Kind {
    std::string_view extension;
    std::string_view type;
  };
  static constexpr std::array<Kind, 14> kKinds = {{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".webmanifest", "application/manifest+json"},
      {".map", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".webp", "image/webp"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
      {".wasm", "application/wasm"},
  }};
  for (const Kind& kind : kKinds) {
    if (name.size() >= kind.extension.size() &&
        name.substr(name.size() - kind.extension.size()) == kind.extension) {
      return kind.type;
    }
  }
  return "application/octet-stream";
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream out;
  out << in.rdbuf();
  return std::move(out).str();
}

// FNV-1a of the content: a strong validator for files that are revalidated (index.html).
std::string etag_of(std::string_view body) {
  std::uint64_t hash = 1469598103934665603ULL;
  for (unsigned char c : body) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  std::ostringstream out;
  out << '"' << std::hex << hash << '"';
  return out.str();
}

// Whether Accept-Encoding accepts the coding (a q=0 entry refuses it).
bool accepts(std::string_view header, std::string_view coding) {
  std::size_t start = 0;
  while (start <= header.size()) {
    std::size_t end = header.find(',', start);
    if (end == std::string_view::npos) end = header.size();
    std::string_view item = header.substr(start, end - start);
    std::size_t semicolon = item.find(';');
    std::string_view name = item.substr(0, semicolon);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    if (name == coding || name == "*") {
      if (semicolon == std::string_view::npos) return true;
      std::string_view params = item.substr(semicolon + 1);
      std::size_t q = params.find("q=");
      if (q == std::string_view::npos) return true;
      return std::strtod(std::string(params.substr(q + 2)).c_str(), nullptr) > 0;
    }
    start = end + 1;
  }
  return false;
}

void set_security_headers(Response& response) {
  response.set_header("content-security-policy", std::string(kContentSecurityPolicy));
  response.set_header("x-content-type-options", "nosniff");
  response.set_header("referrer-policy", "same-origin");
}

}  // namespace

bool is_server_path(std::string_view path) {
  for (std::string_view prefix :
       {"/api", "/ws", "/health", "/ready", "/metrics", "/openapi.json"}) {
    if (has_prefix_segment(path, prefix)) return true;
  }
  return false;
}

StaticSite StaticSite::load(const std::filesystem::path& root, std::size_t max_bytes) {
  StaticSite site;
  site.root_ = root;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(root / "index.html", ec)) return site;
  std::size_t total = 0;
  for (auto it = std::filesystem::recursive_directory_iterator(root); it != decltype(it)(); ++it) {
    if (!it->is_regular_file()) continue;
    std::string relative = "/" + std::filesystem::relative(it->path(), root).generic_string();
    std::string_view name = relative;
    bool gz = name.ends_with(".gz");
    bool br = name.ends_with(".br");
    std::string body = read_file(it->path());
    total += body.size();
    if (total > max_bytes) {
      throw std::runtime_error("the web app under " + root.string() + " is larger than " +
                               std::to_string(max_bytes) + " bytes");
    }
    if (gz || br) {
      File& file = site.files_[std::string(name.substr(0, name.size() - 3))];
      (gz ? file.gzip : file.brotli) = std::move(body);
      continue;
    }
    File& file = site.files_[relative];
    file.body = std::move(body);
    file.content_type = content_type_of(relative);
    file.etag = etag_of(file.body);
    file.immutable = has_prefix_segment(relative, "/assets");
  }
  // A .gz or .br without its original is not served.
  std::erase_if(site.files_, [](const auto& entry) { return entry.second.content_type.empty(); });
  return site;
}

Response StaticSite::serve(const Request& request) const {
  if (is_server_path(request.path)) {
    return problem_response(
        domain::make_error(domain::ErrorCode::kRouteNotFound,
                           "No route matches " + printable_target(request.path) + "."),
        request.path);
  }
  std::string_view path = request.path == "/" ? kIndex : std::string_view(request.path);
  if (!built() && path == kIndex) return not_built(request);
  if (auto it = files_.find(path); it != files_.end()) return send(request, it->second);
  // A name with an extension is a file that does not exist; anything else is a client route
  // (without a built app, only "/" says so: other paths are just unknown).
  std::string_view last = path.substr(path.rfind('/') + 1);
  if (!built() || last.find('.') != std::string_view::npos || has_prefix_segment(path, "/assets")) {
    return problem_response(
        domain::make_error(domain::ErrorCode::kRouteNotFound,
                           "No file or route matches " + printable_target(request.path) + "."),
        request.path);
  }
  return send(request, files_.find(kIndex)->second);
}

Response StaticSite::send(const Request& request, const File& file) const {
  Response response;
  response.set_header("content-type", file.content_type);
  set_security_headers(response);
  if (file.immutable) {
    response.set_header("cache-control", "public, max-age=31536000, immutable");
  } else {
    response.set_header("cache-control", "no-cache");
    response.set_header("etag", file.etag);
    if (auto match = request.header("if-none-match");
        match && match->find(file.etag) != std::string_view::npos) {
      response.status = 304;
      return response;
    }
  }
  if (!file.gzip.empty() || !file.brotli.empty()) response.set_header("vary", "Accept-Encoding");
  std::string_view accept = request.header("accept-encoding").value_or("");
  if (!file.brotli.empty() && accepts(accept, "br")) {
    response.set_header("content-encoding", "br");
    response.body = file.brotli;
  } else if (!file.gzip.empty() && accepts(accept, "gzip")) {
    response.set_header("content-encoding", "gzip");
    response.body = file.gzip;
  } else {
    response.body = file.body;
  }
  return response;
}

Response StaticSite::not_built(const Request& request) const {
  std::string detail = "The web app is not built: no index.html in " + root_.string() +
                       ". Run `make run` (or `npm ci && npm run build` in web/) and restart; "
                       "the API under /api keeps working.";
  std::string_view accept = request.header("accept").value_or("");
  if (accept.find("text/html") == std::string_view::npos) {
    return problem_response(ProblemKind{"ui-not-built", 503, "The web app is not built"}, detail,
                            request.path);
  }
  Response response;
  response.status = 503;
  response.set_header("content-type", "text/html; charset=utf-8");
  response.set_header("cache-control", "no-store");
  set_security_headers(response);
  response.body =
      "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Todo: the web app "
      "is not built</title></head><body><main><h1>The web app is not built</h1><p>This server "
      "has no web app to show: there is no <code>index.html</code> in <code>" +
      domain::html_escape(root_.string()) +
      "</code>.</p><p>Run <code>make run</code> from the repository (it builds the app with "
      "Node.js), or <code>npm ci &amp;&amp; npm run build</code> in <code>web/</code>, then "
      "restart the server.</p><p>The API keeps working: see <a "
      "href=\"/openapi.json\">/openapi.json</a>.</p></main></body></html>";
  return response;
}

}  // namespace todo::http
