// libcurl easy handles with the SSRF guard pinned in: the vetted addresses go to CURLOPT_RESOLVE
// so curl cannot resolve the name again (DNS rebinding), and the open-socket callback refuses any
// address the guard forbids, whatever path curl took to it.
#include "services/notify/http_client.h"

#include <curl/curl.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "services/notify/ssrf_guard.h"

namespace todo::notify {
namespace {

struct Exchange {
  HttpResponse response;
  std::size_t limit = 0;
  bool too_large = false;
  bool guard_sockets = false;
  std::string refused;  // set by the open-socket callback
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* x = static_cast<Exchange*>(user);
  std::size_t n = size * count;
  if (x->response.body.size() + n > x->limit) {
    x->too_large = true;
    return 0;  // aborts the transfer
  }
  x->response.body.append(data, n);
  return n;
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* x = static_cast<Exchange*>(user);
  std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {
    x->response.headers.clear();  // a new response (after 1xx): only the last one counts
  } else if (auto colon = line.find(':'); colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
    x->response.headers.emplace_back(std::move(name), trim(line.substr(colon + 1)));
  }
  return size * count;
}

curl_socket_t on_open_socket(void* user, curlsocktype purpose, curl_sockaddr* address) {
  auto* x = static_cast<Exchange*>(user);
  if (x->guard_sockets && purpose == CURLSOCKTYPE_IPCXN) {
    if (auto why = forbidden_address(&address->addr)) {
      x->refused = "connection to a " + *why + " address refused";
      return CURL_SOCKET_BAD;
    }
  }
  // What curl would do, plus close-on-exec: a child process never inherits a delivery socket.
  return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

struct EasyFree {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistFree {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

// The easy handle this thread sends with, reset to no options. A handle keeps its connections
// open after a request (keep-alive, and a TLS session to resume), so a delivery worker sending to
// one receiver again and again pays for TCP and TLS once, not for every reminder. Requests the
// SSRF guard vets and requests it does not each have their own handle, so a connection opened
// without the guard is never reused for a user's URL. Freed when the thread ends.
CURL* thread_handle(bool guarded) {
  thread_local std::array<std::unique_ptr<CURL, EasyFree>, 2> handles;
  auto& handle = handles[guarded ? 1 : 0];
  if (handle) {
    curl_easy_reset(handle.get());
  } else {
    handle.reset(curl_easy_init());
  }
  return handle.get();
}

HttpResponse failed(HttpFailure failure, std::string error) {
  HttpResponse r;
  r.failure = failure;
  r.error = std::move(error);
  return r;
}

}  // namespace

std::optional<std::string> HttpResponse::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return std::nullopt;
}

void init_libcurl() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      throw std::runtime_error("libcurl could not be initialised");
    }
  });
}

CurlHttpClient::CurlHttpClient(CurlHttpClientOptions options) : options_(options) {
  init_libcurl();
}

HttpResponse CurlHttpClient::send(const HttpRequest& request) {
  ParsedUrl parsed = parse_http_url(request.url);
  if (!parsed.endpoint) return failed(HttpFailure::kRefused, "invalid URL: " + parsed.error);
  const Endpoint& endpoint = *parsed.endpoint;
  bool guard = request.user_chosen && !options_.allow_private;
  if (guard && endpoint.scheme != "https") {
    return failed(HttpFailure::kRefused, "scheme must be https");
  }

  std::unique_ptr<curl_slist, SlistFree> resolve;
  if (request.user_chosen) {
    Resolved resolved = resolve_vetted(endpoint, options_.allow_private);
    if (!resolved.error.empty()) {
      return failed(resolved.temporary ? HttpFailure::kTransport : HttpFailure::kRefused,
                    resolved.error);
    }
    if (!endpoint.host_is_ip) {  // pin the vetted addresses: curl must not resolve again
      std::string entry = endpoint.host + ":" + endpoint.port + ":";
      for (std::size_t i = 0; i < resolved.addresses.size(); ++i) {
        const std::string& a = resolved.addresses[i];
        entry += (i ? "," : "") + (a.find(':') != std::string::npos ? "[" + a + "]" : a);
      }
      resolve.reset(curl_slist_append(nullptr, entry.c_str()));
    }
  }

  CURL* c = thread_handle(guard);
  if (!c) return failed(HttpFailure::kTransport, "curl_easy_init failed");
  Exchange x;
  x.limit = options_.response_limit;
  x.guard_sockets = guard;

  std::unique_ptr<curl_slist, SlistFree> headers;
  auto add_header = [&](const std::string& line) {
    curl_slist* next = curl_slist_append(headers.get(), line.c_str());
    if (next) {
      (void)headers.release();
      headers.reset(next);
    }
  };
  for (const auto& [name, value] : request.headers) add_header(name + ": " + value);
  add_header("Expect:");  // no 100-continue round trip

  std::array<char, CURL_ERROR_SIZE> error_buffer{};
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_buffer.data());
  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, guard ? "https" : "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROXY, "");  // never through a proxy from the environment
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, long(request.timeout.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, long(options_.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_USERAGENT, "todo-notify/" TODO_VERSION);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  if (resolve) curl_easy_setopt(c, CURLOPT_RESOLVE, resolve.get());
  curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
  curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &x);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
  if (request.method == "GET") {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.size()));
  }

  CURLcode rc = curl_easy_perform(c);
  if (!x.refused.empty()) return failed(HttpFailure::kRefused, x.refused);
  if (x.too_large) {
    return failed(HttpFailure::kTooLarge,
                  "response larger than " + std::to_string(x.limit) + " bytes");
  }
  if (rc != CURLE_OK) {
    std::string message = error_buffer[0] ? error_buffer.data() : curl_easy_strerror(rc);
    return failed(rc == CURLE_OPERATION_TIMEDOUT ? HttpFailure::kTimeout : HttpFailure::kTransport,
                  message);
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &x.response.status);
  return std::move(x.response);
}

}  // namespace todo::notify
