// Outbound HTTP for the notification channels: one blocking request at a time per call, over
// libcurl. Requests to user-chosen URLs go through the SSRF guard (ssrf_guard.h).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace todo::notify {

// libcurl's global state, once per process, before any thread uses libcurl (idempotent; the
// SMTP channel and CurlHttpClient call it, and `todo serve` calls it on the main thread before
// the delivery pool starts). Throws std::runtime_error when libcurl cannot be initialised.
void init_libcurl();

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "POST";
  std::string url;
  HttpHeaders headers;
  std::string body;
  std::chrono::milliseconds timeout{15'000};  // the whole exchange
  // The URL was chosen by a user (a webhook, a push endpoint): resolve it, vet every address,
  // connect only to a vetted one, and refuse plain http unless private destinations are allowed.
  bool user_chosen = false;
};

enum class HttpFailure {
  kNone,
  kRefused,    // the SSRF guard or URL checks said no; retrying will not help
  kTimeout,    // no complete answer in time
  kTransport,  // DNS, connect, TLS or protocol error
  kTooLarge,   // the answer exceeded the response limit
};

struct HttpResponse {
  HttpFailure failure = HttpFailure::kNone;
  std::string error;  // set with a failure
  long status = 0;
  HttpHeaders headers;  // names lower-cased, in arrival order
  std::string body;

  bool ok() const { return failure == HttpFailure::kNone; }
  std::optional<std::string> header(std::string_view lower_name) const;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  virtual HttpResponse send(const HttpRequest& request) = 0;
};

struct CurlHttpClientOptions {
  bool allow_private = false;            // --allow-private-webhooks
  std::size_t response_limit = 1 << 20;  // bytes of body kept; more is kTooLarge
  std::chrono::milliseconds connect_timeout{5'000};
};

// Thread-safe: each thread sends with its own easy handle, which keeps its connections open for
// the thread's next requests. TLS peers are verified against the system's CA store; redirects are
// never followed (a 3xx is returned as it is).
class CurlHttpClient final : public HttpClient {
 public:
  explicit CurlHttpClient(CurlHttpClientOptions options = {});
  HttpResponse send(const HttpRequest& request) override;
  bool allow_private() const { return options_.allow_private; }

 private:
  CurlHttpClientOptions options_;
};

}  // namespace todo::notify
