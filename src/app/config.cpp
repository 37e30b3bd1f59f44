// Table of flags with their environment variables; one parser for both sources.
#include "app/config.h"

#include "store/open_database.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <sstream>

namespace todo::app {
namespace {

using Setter = std::function<std::optional<std::string>(Config&, const std::string&)>;

struct Flag {
  std::string name;       // "--port"
  std::vector<std::string> env;  // "TODO_PORT"; the first is documented first
  std::string value_hint;        // empty for a switch, which takes no value
  std::string help;
  std::vector<std::string> commands;  // where it applies
  Setter set;                         // returns the reason when the value is bad
};

bool is_switch(const Flag& f) { return f.value_hint.empty(); }

std::optional<std::string> non_empty(const std::string& v) {
  if (v.empty()) return "must not be empty";
  return std::nullopt;
}

std::optional<std::string> parse_int(const std::string& text, int min, int max, int& out) {
  int v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v < min || v > max) {
    return "must be an integer from " + std::to_string(min) + " to " + std::to_string(max);
  }
  out = v;
  return std::nullopt;
}

// An http(s) base URL without a trailing slash.
std::optional<std::string> base_url(const std::string& v, std::string& out) {
  if (!v.starts_with("https://") && !v.starts_with("http://")) return "must be an http(s) URL";
  out = v;
  while (out.size() > 8 && out.back() == '/') out.pop_back();
  return std::nullopt;
}

// A count of a quota: 0 (no limit) up to a bound no account reaches.
std::optional<std::string> parse_quota(const std::string& text, std::int64_t& out) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v < 0 || v > 1000000000) {
    return "must be an integer from 0 (no limit) to 1000000000";
  }
  out = v;
  return std::nullopt;
}

// Bytes, optionally with a binary unit: 65536, 64KiB, 64MiB, 1GiB (also K, M, G); 0 = no limit.
std::optional<std::string> parse_byte_size(const std::string& text, std::int64_t& out) {
  static const std::vector<std::pair<std::string, std::int64_t>> kUnits = {
      {"KiB", 1LL << 10}, {"MiB", 1LL << 20}, {"GiB", 1LL << 30},
      {"K", 1LL << 10},   {"M", 1LL << 20},   {"G", 1LL << 30}};
  std::string digits = text;
  std::int64_t unit = 1;
  for (const auto& [suffix, size] : kUnits) {
    if (digits.size() > suffix.size() && digits.ends_with(suffix)) {
      digits.resize(digits.size() - suffix.size());
      unit = size;
      break;
    }
  }
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  constexpr std::int64_t kMax = 1LL << 50;  // 1 PiB
  if (digits.empty() || ec != std::errc() || p != digits.data() + digits.size() || v < 0 ||
      v > kMax / unit) {
    return "must be a size in bytes from 0 (no limit) to 1 PiB, optionally with KiB, MiB or GiB "
           "(e.g. 64MiB)";
  }
  out = v * unit;
  return std::nullopt;
}

// host:port, [v6]:port; the port may be 0 (a free one, logged).
std::optional<std::string> parse_host_port(const std::string& text,
                                           std::pair<std::string, unsigned short>& out) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return "must be HOST:PORT (e.g. 127.0.0.1:9100)";
  std::string host = text.substr(0, colon);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return "must be HOST:PORT or [IPV6]:PORT";
    host = host.substr(1, host.size() - 2);
  }
  int port = 0;
  if (auto e = parse_int(text.substr(colon + 1), 0, 65535, port)) return "port " + *e;
  out = {host, static_cast<unsigned short>(port)};
  return std::nullopt;
}

constexpr int kMaxAccessTokenTtlSeconds = 7 * 24 * 3600;

const std::vector<Flag>& flags() {
  static const std::vector<Flag> kFlags = {
      {"--port",
       {"TODO_PORT"},
       "PORT",
       "TCP port to listen on; 0 picks a free one (default 8000; the roles: api 8000, recurring "
       "8001, notify 8002, sync 8003, audit 8004)",
       {"serve"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         int port = 0;
         if (auto e = parse_int(v, 0, 65535, port)) return e;
         c.port = static_cast<unsigned short>(port);
         return std::nullopt;
       }},
      {"--address",
       {"TODO_ADDRESS"},
       "ADDR",
       "address to bind (default 0.0.0.0)",
       {"serve"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         if (v.empty()) return "must not be empty";
         c.address = v;
         return std::nullopt;
       }},
      {"--data-dir",
       {"TODO_DATA_DIR"},
       "DIR",
       "directory of todo.db and the generated secret (default ./data)",
       {"serve", "migrate", "events", "dlq list", "dlq replay", "admin set-role"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         if (v.empty()) return "must not be empty";
         c.data_dir = v;
         return std::nullopt;
       }},
      {"--database-url",
       {"DATABASE_URL", "TODO_DATABASE_URL"},
       "URL",
       "PostgreSQL to use instead of SQLite: postgres://user:password@host:port/dbname?sslmode=... "
       "(default: SQLite at <data-dir>/todo.db)",
       {"serve", "migrate", "events", "dlq list", "dlq replay", "admin set-role"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         if (auto problem = store::postgres_url_problem(v)) return *problem;
         c.database_url = v;
         return std::nullopt;
       }},
      {"--jwt-secret",
       {"TODO_JWT_SECRET", "BETTER_AUTH_SECRET"},
       "SECRET",
       "HS256 signing secret, at least 32 bytes (default: generated once, kept in the data dir)",
       {"serve"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         if (v.size() < kMinSecretBytes) {
           return "must be at least 32 bytes (got " + std::to_string(v.size()) + ")";
         }
         c.jwt_secret = v;
         return std::nullopt;
       }},
      {"--log-level",
       {"TODO_LOG_LEVEL"},
       "LEVEL",
       "trace, debug, info, warn or error (default info)",
       {"serve", "migrate", "events", "dlq list", "dlq replay", "admin set-role"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         auto level = log::parse_level(v);
         if (!level) return "must be one of trace, debug, info, warn, error";
         c.log_level = *level;
         return std::nullopt;
       }},
      {"--cors-origins",
       {"TODO_CORS_ORIGINS"},
       "ORIGINS",
       "comma-separated origins allowed to call the API from a browser (default: same origin only)",
       {"serve"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         c.cors_origins.clear();
         std::stringstream in(v);
         std::string origin;
         while (std::getline(in, origin, ',')) {
           while (!origin.empty() && origin.front() == ' ') origin.erase(origin.begin());
           while (!origin.empty() && origin.back() == ' ') origin.pop_back();
           if (origin.empty()) continue;
           if (!(origin.starts_with("http://") || origin.starts_with("https://")) ||
               origin.back() == '/') {
             return "'" + origin + "' is not an origin like https://app.example.com";
           }
           c.cors_origins.push_back(origin);
         }
         return std::nullopt;
       }},
      {"--trusted-proxies",
       {"TODO_TRUSTED_PROXIES"},
       "LIST",
       "comma-separated IPs and CIDR blocks (IPv4, IPv6) of the reverse proxies in front of the "
       "server; when the TCP peer is one of them, the client address (login rate limits, logs) "
       "is the right-most X-Forwarded-For address that is not itself a trusted proxy (default: "
       "none, the peer is the client)",
       {"serve"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         auto parsed = http::TrustedProxies::parse(v);
         if (auto* error = std::get_if<std::string>(&parsed)) return "entry " + *error;
         c.trusted_proxies = std::get<http::TrustedProxies>(std::move(parsed));
         return std::nullopt;
       }},
      {"--web-dir", {"TODO_WEB_DIR"}, "DIR",
       "the built web app served at / (default ./web/dist); without index.html there, / says the "
       "app is not built and the API keeps working",
       {"serve"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         if (v.empty()) return "must not be empty";
         c.web_dir = v;
         return std::nullopt;
       }},
      {"--durability",
       {"TODO_DURABILITY"},
       "MODE",
       "full: an acknowledged write survives power loss (default); normal: faster, survives "
       "process crashes only",
       {"serve", "migrate"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         if (v == "full") {
           c.durability = store::Durability::kFull;
         } else if (v == "normal") {
           c.durability = store::Durability::kNormal;
         } else {
           return "must be full or normal";
         }
         return std::nullopt;
       }},
      {"--threads",
       {"TODO_THREADS"},
       "N",
       "I/O threads (default: one per core)",
       {"serve"},
       [](Config& c, const std::string& v) { return parse_int(v, 0, 256, c.threads); }},
      {"--read-timeout",
       {"TODO_READ_TIMEOUT"},
       "SECONDS",
       "time a client has to send one whole request (default 10)",
       {"serve"},
       [](Config& c, const std::string& v) {
         return parse_int(v, 1, 3600, c.read_timeout_seconds);
       }},
      {"--idle-timeout",
       {"TODO_IDLE_TIMEOUT"},
       "SECONDS",
       "keep-alive connections without a request are closed after this (default 60)",
       {"serve"},
       [](Config& c, const std::string& v) {
         return parse_int(v, 1, 86400, c.idle_timeout_seconds);
       }},
      {"--max-body-in-flight",
       {"TODO_MAX_BODY_IN_FLIGHT"},
       "MIB",
       "request body bytes being received at once over all connections, in MiB; 503 beyond "
       "(default 64)",
       {"serve"},
       [](Config& c, const std::string& v) {
         return parse_int(v, 1, 65536, c.max_body_in_flight_mib);
       }},
      {"--max-connections",
       {"TODO_MAX_CONNECTIONS"},
       "N",
       "open HTTP connections in total; 503 beyond (default 10000)",
       {"serve"},
       [](Config& c, const std::string& v) { return parse_int(v, 1, 1000000, c.max_connections); }},
      {"--max-connections-per-client",
       {"TODO_MAX_CONNECTIONS_PER_CLIENT"},
       "N",
       "open HTTP connections from one client address; 503 beyond (default 1000)",
       {"serve"},
       [](Config& c, const std::string& v) {
         return parse_int(v, 1, 1000000, c.max_connections_per_client);
       }},
      {"--login-limit-address",
       {"TODO_LOGIN_LIMIT_ADDRESS"},
       "N",
       "login attempts allowed per client address per minute (default 30)",
       {"serve"},
       [](Config& c, const std::string& v) {
         return parse_int(v, 1, 1000000, c.login_limit_address);
       }},
      {"--login-limit-account",
       {"TODO_LOGIN_LIMIT_ACCOUNT"},
       "N",
       "failed logins allowed per account from one client address per 15 minutes; then that "
       "address waits, or is only slowed down if the account signed in from it before "
       "(default 10)",
       {"serve"},
       [](Config& c, const std::string& v) {
         return parse_int(v, 1, 1000000, c.login_limit_account);
       }},
      {"--login-limit-account-total",
       {"TODO_LOGIN_LIMIT_ACCOUNT_TOTAL"},
       "N",
       "failed logins per account from all addresses per 15 minutes before addresses it never "
       "signed in from are slowed to one attempt per 10 s (default 100)",
       {"serve"},
       [](Config& c, const std::string& v) {
         return parse_int(v, 1, 1000000, c.login_limit_account_total);
       }},
      {"--register-limit-address",
       {"TODO_REGISTER_LIMIT_ADDRESS"},
       "N",
       "registrations allowed per client address per hour (default 20)",
       {"serve"},
       [](Config& c, const std::string& v) {
         return parse_int(v, 1, 1000000, c.register_limit_address);
       }},
      {"--register-concurrency",
       {"TODO_REGISTER_CONCURRENCY"},
       "N",
       "registrations hashing a password at the same time; more are answered 503 with "
       "Retry-After, so sign-ups cannot starve logins (default 1)",
       {"serve"},
       [](Config& c, const std::string& v) {
         return parse_int(v, 1, 256, c.register_concurrency);
       }},
      {"--event-retention-days",
       {"TODO_EVENT_RETENTION_DAYS"},
       "DAYS",
       "events every consumer group has processed leave the log after this many days; replays "
       "work within it (default 7)",
       {"serve"},
       [](Config& c, const std::string& v) {
         return parse_int(v, 1, 36500, c.event_retention_days);
       }},
      {"--audit-retention-days",
       {"TODO_AUDIT_RETENTION_DAYS"},
       "DAYS",
       "audit entries recorded longer ago are purged; the chain stays verifiable (default 90)",
       {"serve"},
       [](Config& c, const std::string& v) {
         return parse_int(v, 1, 36500, c.audit_retention_days);
       }},
      {"--bus-retry-backoff",
       {"TODO_BUS_RETRY_BACKOFF"},
       "WAITS",
       "comma-separated waits before each retry of an event a consumer failed on; after the "
       "last retry fails it is dead-lettered (default 1s,5s,25s; units ms, s, m, h)",
       {"serve"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         auto policy = bus::parse_retry_backoff(v);
         if (auto* error = std::get_if<std::string>(&policy)) return std::move(*error);
         c.bus_retry = std::get<bus::RetryPolicy>(std::move(policy));
         return std::nullopt;
       }},
      // --- the bus (ADR 0021)
      {"--bus",
       {"TODO_BUS"},
       "KIND",
       "log (the event log in the database; default), kafka (needs --kafka-brokers) or dapr "
       "(a Dapr sidecar; see --dapr-*)",
       {"serve"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         if (v == "log") {
           c.bus = bus::BusKind::kLog;
         } else if (v == "kafka") {
           c.bus = bus::BusKind::kKafka;
         } else if (v == "dapr") {
           c.bus = bus::BusKind::kDapr;
         } else {
           return "must be log, kafka or dapr";
         }
         return std::nullopt;
       }},
      {"--kafka-brokers",
       {"TODO_KAFKA_BROKERS"},
       "HOST:PORT,...",
       "bootstrap servers of the Kafka cluster (--bus kafka)",
       {"serve"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         if (v.empty() || v.find_first_of(" \t\r\n") != std::string::npos) {
           return "must be a comma-separated list of host:port";
         }
         c.kafka.brokers = v;
         return std::nullopt;
       }},
      {"--kafka-security-protocol",
       {"TODO_KAFKA_SECURITY_PROTOCOL"},
       "PROTOCOL",
       "plaintext, ssl, sasl_plaintext or sasl_ssl (default plaintext)",
       {"serve"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         if (auto problem = bus::kafka_security_protocol_problem(v)) return problem;
         c.kafka.security_protocol = v;
         return std::nullopt;
       }},
      {"--kafka-sasl-mechanism",
       {"TODO_KAFKA_SASL_MECHANISM"},
       "MECHANISM",
       "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, with a sasl_* protocol (default PLAIN)",
       {"serve"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         if (auto problem = bus::kafka_sasl_mechanism_problem(v)) return problem;
         c.kafka.sasl_mechanism = v;
         return std::nullopt;
       }},
      {"--kafka-username",
       {"TODO_KAFKA_USERNAME"},
       "USER",
       "SASL user name (with a sasl_* protocol)",
       {"serve"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         if (auto e = non_empty(v)) return e;
         c.kafka.username = v;
         return std::nullopt;
       }},
      {"--kafka-password",
       {"TODO_KAFKA_PASSWORD"},
       "PASSWORD",
       "SASL password (prefer the environment variable: flags show in ps)",
       {"serve"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         if (v.empty()) return "must not be empty";
         c.kafka.password = v;
         return std::nullopt;
       }},
      {"--kafka-ca-file",
       {"TODO_KAFKA_CA_FILE"},
       "FILE",
       "PEM file of the certificate authorities to trust for ssl/sasl_ssl (default: the system's)",
       {"serve"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         if (auto e = non_empty(v)) return e;
         c.kafka.ca_file = v;
         return std::nullopt;
       }},
      {"--kafka-fetch-wait",
       {"TODO_KAFKA_FETCH_WAIT"},
       "DURATION",
       "the longest a consumer's fetch waits at the broker for new events (fetch.wait.max.ms; "
       "default 500ms, at most 10s). A real broker answers as soon as an event arrives; "
       "librdkafka's mock cluster only after this wait",
       {"serve"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         auto one = bus::parse_retry_backoff(v);
         auto* policy = std::get_if<bus::RetryPolicy>(&one);
         if (!policy || policy->backoff.size() != 1 ||
             policy->backoff.front() > std::chrono::milliseconds(10000)) {
           return "must be one duration such as 10ms or 500ms (units ms, s; at most 10s)";
         }
         c.kafka.fetch_wait = policy->backoff.front();
         return std::nullopt;
       }},
      {"--kafka-session-timeout",
       {"TODO_KAFKA_SESSION_TIMEOUT"},
       "DURATION",
       "a consumer group member silent this long is dropped and its partitions go to the others "
       "(session.timeout.ms; default 45s, 6s to 5m): how long a killed replica's partitions "
       "wait; the broker's group.min/max.session.timeout.ms must allow it",
       {"serve"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         auto one = bus::parse_retry_backoff(v);
         auto* policy = std::get_if<bus::RetryPolicy>(&one);
         if (!policy || policy->backoff.size() != 1 ||
             policy->backoff.front() < std::chrono::milliseconds(6000) ||
             policy->backoff.front() > std::chrono::milliseconds(300000)) {
           return "must be one duration from 6s to 5m, such as 10s or 45s";
         }
         c.kafka.session_timeout = policy->backoff.front();
         return std::nullopt;
       }},
      {"--kafka-idempotence",
       {"TODO_KAFKA_IDEMPOTENCE"},
       "on|off",
       "the relay's idempotent producer (default on); off for brokers without idempotent "
       "producers, e.g. Oracle Streaming: then one request in flight keeps the order",
       {"serve"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         if (v == "on") {
           c.kafka.idempotence = true;
         } else if (v == "off") {
           c.kafka.idempotence = false;
         } else {
           return "must be on or off";
         }
         return std::nullopt;
       }},
      // --- the Dapr sidecar (ADR 0024)
      {"--dapr-host",
       {"TODO_DAPR_HOST"},
       "HOST",
       "where the Dapr sidecar listens (--bus dapr; default 127.0.0.1)",
       {"serve"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         if (v.empty() || v.find_first_of(" \t\r\n/?#@") != std::string::npos) {
           return "must be a host name or address";
         }
         c.dapr.host = v;
         return std::nullopt;
       }},
      {"--dapr-http-port",
       {"TODO_DAPR_HTTP_PORT", "DAPR_HTTP_PORT"},
       "PORT",
       "the sidecar's HTTP port (--bus dapr; default 3500)",
       {"serve"},
       [](Config& c, const std::string& v) {
         return parse_int(v, 1, 65535, c.dapr.http_port);
       }},
      {"--dapr-pubsub",
       {"TODO_DAPR_PUBSUB"},
       "NAME",
       "the pub/sub component the relay publishes to and durable groups consume from (default "
       "todo-pubsub)",
       {"serve"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         if (auto problem = bus::dapr_component_name_problem(v)) return problem;
         c.dapr.pubsub = v;
         return std::nullopt;
       }},
      {"--dapr-fanout-pubsub",
       {"TODO_DAPR_FANOUT_PUBSUB"},
       "NAME",
       "the pub/sub component of live sync, a consumer group per replica (default "
       "todo-pubsub-fanout)",
       {"serve"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         if (auto problem = bus::dapr_component_name_problem(v)) return problem;
         c.dapr.fanout_pubsub = v;
         return std::nullopt;
       }},
      {"--dapr-api-token",
       {"TODO_DAPR_API_TOKEN", "DAPR_API_TOKEN"},
       "TOKEN",
       "sent to the sidecar as dapr-api-token (prefer the environment variable)",
       {"serve"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         if (v.empty()) return "must not be empty";
         c.dapr.api_token = v;
         return std::nullopt;
       }},
      {"--dapr-app-token",
       {"TODO_DAPR_APP_TOKEN", "APP_API_TOKEN"},
       "TOKEN",
       "the dapr-api-token the sidecar must send to the /dapr/ routes; others get 401 (prefer "
       "the environment variable)",
       {"serve"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         if (v.empty()) return "must not be empty";
         c.dapr.app_token = v;
         return std::nullopt;
       }},
      // --- notification channels that call out over HTTP (notify-channels)
      {"--fcm-credentials",
       {"TODO_FCM_CREDENTIALS"},
       "FILE",
       "Firebase service-account JSON; enables push to FCM registration tokens",
       {"serve"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         if (auto e = non_empty(v)) return e;
         c.fcm_credentials = v;
         return std::nullopt;
       }},
      {"--fcm-base-url",
       {"TODO_FCM_BASE_URL"},
       "URL",
       "FCM HTTP v1 base URL, for tests (default https://fcm.googleapis.com)",
       {"serve"},
       [](Config& c, const std::string& v) { return base_url(v, c.fcm_base_url); }},
      {"--sendgrid-api-key",
       {"TODO_SENDGRID_API_KEY", "SENDGRID_API_KEY"},
       "KEY",
       "send reminder emails through the SendGrid v3 API (needs --mail-from)",
       {"serve"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         if (auto e = non_empty(v)) return e;
         c.sendgrid_api_key = v;
         return std::nullopt;
       }},
      {"--sendgrid-base-url",
       {"TODO_SENDGRID_BASE_URL"},
       "URL",
       "SendGrid API base URL, for tests (default https://api.sendgrid.com)",
       {"serve"},
       [](Config& c, const std::string& v) { return base_url(v, c.sendgrid_base_url); }},
      {"--vapid-private-key",
       {"TODO_VAPID_PRIVATE_KEY"},
       "KEY",
       "Web Push VAPID private key, base64url of the P-256 scalar (default: generated once, kept "
       "in the data dir)",
       {"serve"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         if (auto e = non_empty(v)) return e;
         c.vapid_private_key = v;
         return std::nullopt;
       }},
      {"--vapid-public-key",
       {"TODO_VAPID_PUBLIC_KEY"},
       "KEY",
       "Web Push VAPID public key, base64url; checked against --vapid-private-key",
       {"serve"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         if (auto e = non_empty(v)) return e;
         c.vapid_public_key = v;
         return std::nullopt;
       }},
      {"--vapid-subject",
       {"TODO_VAPID_SUBJECT"},
       "URL",
       "contact push services may use, mailto: or https: (default mailto:<--mail-from>; without "
       "either, Web Push is not configured)",
       {"serve"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         if (!v.starts_with("mailto:") && !v.starts_with("https://")) {
           return "must be a mailto: or https: URL";
         }
         c.vapid_subject = v;
         return std::nullopt;
       }},
      {"--reminder-grace",
       {"TODO_REMINDER_GRACE"},
       "DURATION",
       "a reminder whose instant passed while the server was down is sent late within this "
       "period and marked missed beyond it (default 1h; units ms, s, m, h; at most 24h)",
       {"serve"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         auto one = bus::parse_retry_backoff(v);
         auto* policy = std::get_if<bus::RetryPolicy>(&one);
         if (!policy || policy->backoff.size() != 1) {
           return "must be one duration such as 30m or 1h (units ms, s, m, h; at most 24h)";
         }
         c.reminder_grace = policy->backoff.front();
         return std::nullopt;
       }},
      {"--notify-retry-backoff",
       {"TODO_NOTIFY_RETRY_BACKOFF"},
       "WAITS",
       "comma-separated waits before each new attempt of a failed notification delivery; after "
       "the last one it is failed (default 1m,5m,30m; units ms, s, m, h)",
       {"serve"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         auto policy = bus::parse_retry_backoff(v);
         if (auto* error = std::get_if<std::string>(&policy)) return std::move(*error);
         c.notify_retry_backoff = std::get<bus::RetryPolicy>(std::move(policy)).backoff;
         return std::nullopt;
       }},
      {"--notify-workers",
       {"TODO_NOTIFY_WORKERS"},
       "N",
       "notification deliveries sent at once (default 4)",
       {"serve"},
       [](Config& c, const std::string& v) { return parse_int(v, 1, 64, c.notify_workers); }},
      {"--smtp-url",
       {"TODO_SMTP_URL"},
       "URL",
       "SMTP server for e-mail reminders: smtp://host:port (STARTTLS when offered) or "
       "smtps://host:port; user:password@ allowed (default: e-mail is not configured)",
       {"serve"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         if (!(v.starts_with("smtp://") || v.starts_with("smtps://")) ||
             v.find('\n') != std::string::npos) {
           return "must be smtp://host:port or smtps://host:port";
         }
         c.smtp_url = v;
         return std::nullopt;
       }},
      {"--smtp-user",
       {"TODO_SMTP_USER"},
       "USER",
       "SMTP user name (default: the URL's, if any)",
       {"serve"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         c.smtp_user = v;
         return std::nullopt;
       }},
      {"--smtp-password",
       {"TODO_SMTP_PASSWORD"},
       "PASSWORD",
       "SMTP password (prefer the environment variable: flags show in ps)",
       {"serve"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         c.smtp_password = v;
         return std::nullopt;
       }},
      {"--mail-from",
       {"TODO_MAIL_FROM"},
       "MAILBOX",
       "sender of e-mail reminders, e.g. \"Todo <todo@example.com>\" (default Todo "
       "<todo@localhost>)",
       {"serve"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         if (v.find('@') == std::string::npos || v.find_first_of("\r\n") != std::string::npos) {
           return "must be an e-mail address or a mailbox like Todo <todo@example.com>";
         }
         c.mail_from = v;
         return std::nullopt;
       }},
      {"--public-url",
       {"TODO_PUBLIC_URL"},
       "URL",
       "the web app's base URL, for links in notifications (default http://localhost:8000)",
       {"serve"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         if (!(v.starts_with("http://") || v.starts_with("https://"))) {
           return "must be an http:// or https:// URL";
         }
         c.public_url = v;
         return std::nullopt;
       }},
      {"--allow-private-webhooks",
       {"TODO_ALLOW_PRIVATE_WEBHOOKS"},
       "",
       "let webhooks and push endpoints use http and reach loopback, private and link-local "
       "addresses (tests, private networks; off by default: SSRF)",
       {"serve"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         // The flag passes ""; the environment variable says 1/true or 0/false.
         if (v.empty() || v == "1" || v == "true") {
           c.allow_private_webhooks = true;
         } else if (v == "0" || v == "false") {
           c.allow_private_webhooks = false;
         } else {
           return "must be 1, true, 0 or false";
         }
         return std::nullopt;
       }},
      // --- end notification channels
      {"--access-token-ttl",
       {"TODO_ACCESS_TOKEN_TTL"},
       "SECONDS",
       "lifetime of an access token, 1 to 604800 (7 days); raise it for clients of the previous "
       "system, which never refresh (docs/operations.md); a WebSocket is closed with 4401 when "
       "its token expires (default 900)",
       {"serve"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         // An access token cannot be revoked before it expires: a week bounds that exposure.
         if (parse_int(v, 1, kMaxAccessTokenTtlSeconds, c.access_token_ttl_seconds)) {
           return "must be a whole number of seconds from 1 to " +
                  std::to_string(kMaxAccessTokenTtlSeconds) + " (7 days)";
         }
         return std::nullopt;
       }},
      {"--sync-instance-id",
       {"TODO_SYNC_INSTANCE_ID"},
       "ID",
       "this replica's name in the live-sync consumer group sync-service-<ID> (default "
       "<hostname>-<pid>)",
       {"serve"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         if (v.empty() || v.size() > 100) return "must be 1 to 100 characters";
         for (unsigned char ch : v) {
           if (!std::isalnum(ch) && ch != '-' && ch != '_' && ch != '.') {
             return "may hold only letters, digits, '-', '_' and '.'";
           }
         }
         c.sync_instance_id = v;
         return std::nullopt;
       }},
      {"--ws-ping-interval",
       {"TODO_WS_PING_INTERVAL"},
       "SECONDS",
       "WebSocket ping after this much silence; a peer silent for two intervals is closed "
       "(default 30)",
       {"serve"},
       [](Config& c, const std::string& v) {
         return parse_int(v, 1, 3600, c.ws_ping_interval_seconds);
       }},
      {"--ws-max-message-bytes",
       {"TODO_WS_MAX_MESSAGE_BYTES"},
       "BYTES",
       "largest WebSocket message a client may send; bigger → closed with 1009 (default 4096)",
       {"serve"},
       [](Config& c, const std::string& v) {
         return parse_int(v, 64, 1024 * 1024, c.ws_max_message_bytes);
       }},
      {"--ws-send-queue-frames",
       {"TODO_WS_SEND_QUEUE_FRAMES"},
       "N",
       "frames queued for one WebSocket client; a client further behind is closed with 4408 "
       "and resumes; also the most changes a resume replays (default 1024)",
       {"serve"},
       [](Config& c, const std::string& v) {
         return parse_int(v, 16, 1000000, c.ws_send_queue_frames);
       }},
      {"--ws-send-queue-kib",
       {"TODO_WS_SEND_QUEUE_KIB"},
       "KIB",
       "bytes queued for one WebSocket client, in KiB; beyond → closed with 4408 (default 1024)",
       {"serve"},
       [](Config& c, const std::string& v) {
         return parse_int(v, 16, 1024 * 1024, c.ws_send_queue_kib);
       }},
      {"--ws-max-connections",
       {"TODO_WS_MAX_CONNECTIONS"},
       "N",
       "open WebSocket connections in total; 503 beyond (default 10000)",
       {"serve"},
       [](Config& c, const std::string& v) {
         return parse_int(v, 1, 1000000, c.ws_max_connections);
       }},
      {"--ws-max-connections-per-user",
       {"TODO_WS_MAX_CONNECTIONS_PER_USER"},
       "N",
       "open WebSocket connections of one account; 429 beyond (default 32)",
       {"serve"},
       [](Config& c, const std::string& v) {
         return parse_int(v, 1, 100000, c.ws_max_connections_per_user);
       }},
      {"--topic",
       {},
       "TOPIC",
       "the topic to read: task-events, task-updates, reminders, <topic>.dlq",
       {"events"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         if (auto e = non_empty(v)) return e;
         c.topic = v;
         return std::nullopt;
       }},
      {"--group",
       {},
       "GROUP",
       "events: start where this consumer group stands (what it has not processed yet); "
       "dlq list: only this group's dead letters",
       {"events", "dlq list"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         if (auto e = non_empty(v)) return e;
         c.group = v;
         return std::nullopt;
       }},
      {"--from-beginning",
       {},
       "",
       "start at the oldest event kept (default: only new events)",
       {"events"},
       [](Config& c, const std::string&) -> std::optional<std::string> {
         c.from_beginning = true;
         return std::nullopt;
       }},
      {"--follow",
       {},
       "",
       "after the existing events, keep printing new ones until interrupted",
       {"events"},
       [](Config& c, const std::string&) -> std::optional<std::string> {
         c.follow = true;
         return std::nullopt;
       }},
      {"--envelope",
       {},
       "",
       "print {topic, partition, offset, key, timestamp, event} instead of the bare CloudEvent",
       {"events"},
       [](Config& c, const std::string&) -> std::optional<std::string> {
         c.envelope = true;
         return std::nullopt;
       }},
      {"--id",
       {},
       "ID",
       "the dead letter to replay (its id from todo dlq list)",
       {"dlq replay"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         if (auto e = non_empty(v)) return e;
         c.dead_letter_id = v;
         return std::nullopt;
       }},
      {"--all",
       {},
       "",
       "replay every dead letter in status dead",
       {"dlq replay"},
       [](Config& c, const std::string&) -> std::optional<std::string> {
         c.all = true;
         return std::nullopt;
       }},
      {"--email",
       {},
       "EMAIL",
       "the user's e-mail address (case does not matter)",
       {"admin set-role"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         auto email = domain::normalize_email(v);
         if (!email) {
           const auto& fields = email.error().fields;
           return fields.empty() ? "is not a valid e-mail address" : fields.front().reason;
         }
         c.email = *email;
         return std::nullopt;
       }},
      {"--role",
       {},
       "ROLE",
       "admin or user",
       {"admin set-role"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         auto role = domain::parse_role(v);
         if (!role) return "must be admin or user";
         c.role = *role;
         return std::nullopt;
       }},
      {"--quota-tasks",
       {"TODO_QUOTA_TASKS"},
       "N",
       "live tasks per account (deleted ones do not count); 409 quota-exceeded beyond; 0 = no "
       "limit (default 100000)",
       {"serve"},
       [](Config& c, const std::string& v) { return parse_quota(v, c.quotas.tasks); }},
      {"--quota-tags",
       {"TODO_QUOTA_TAGS"},
       "N",
       "distinct tags over an account's live tasks; 0 = no limit (default 1000)",
       {"serve"},
       [](Config& c, const std::string& v) { return parse_quota(v, c.quotas.tags); }},
      {"--quota-bytes",
       {"TODO_QUOTA_BYTES"},
       "SIZE",
       "text stored per account: titles, descriptions, tags and rules of its live tasks, e.g. "
       "64MiB; 0 = no limit (default 64MiB)",
       {"serve"},
       [](Config& c, const std::string& v) { return parse_byte_size(v, c.quotas.bytes); }},
      {"--quota-notification-targets",
       {"TODO_QUOTA_NOTIFICATION_TARGETS"},
       "N",
       "notification targets (e-mail addresses, push subscriptions, webhooks) per account; 0 = "
       "no limit (default 50)",
       {"serve"},
       [](Config& c, const std::string& v) {
         return parse_quota(v, c.quotas.notification_targets);
       }},
      {"--metrics-token",
       {"TODO_METRICS_TOKEN"},
       "TOKEN",
       "/metrics answers only requests with 'Authorization: Bearer TOKEN' (at least 16 visible "
       "ASCII characters; default: no token)",
       {"serve"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         if (v.size() < 16) return "must be at least 16 characters";
         for (unsigned char ch : v) {
           if (ch < 0x21 || ch > 0x7e) return "must be visible ASCII characters only";
         }
         c.metrics_token = v;
         return std::nullopt;
       }},
      {"--metrics-address",
       {"TODO_METRICS_ADDRESS"},
       "HOST:PORT",
       "serve /metrics on this separate listener instead of the main port (e.g. 127.0.0.1:9100; "
       "default: on the main port)",
       {"serve"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         std::pair<std::string, unsigned short> address;
         if (auto e = parse_host_port(v, address)) return e;
         c.metrics_address = std::move(address);
         return std::nullopt;
       }},
  };
  return kFlags;
}

struct Command {
  std::string name;   // "serve", "dlq replay"
  std::string usage;  // after "todo "
  std::string help;
};

const std::vector<Command>& commands() {
  static const std::vector<Command> kCommands = {
      {"serve", "serve [FLAGS]", "run every service in one process on SQLite (the default)"},
      {"api", "api --database-url URL --jwt-secret SECRET [FLAGS]",
       "the API role: accounts, tasks, the web app (port 8000; needs PostgreSQL)"},
      {"recurring", "recurring --database-url URL --jwt-secret SECRET [FLAGS]",
       "the recurring role: next occurrences of completed tasks (port 8001)"},
      {"notify", "notify --database-url URL --jwt-secret SECRET [FLAGS]",
       "the notification role: reminders and their channels, targets (port 8002)"},
      {"sync", "sync --database-url URL --jwt-secret SECRET [FLAGS]",
       "the live-sync role: WebSocket /ws/tasks (port 8003)"},
      {"audit", "audit --database-url URL --jwt-secret SECRET [FLAGS]",
       "the audit role: the audit log and its API (port 8004)"},
      {"migrate", "migrate [FLAGS]", "create or upgrade the database schema, then exit"},
      {"version", "version", "print the version"},
      {"events",
       "events --topic TOPIC [--group GROUP | --from-beginning] [--follow] [--envelope] [FLAGS]",
       "print the events of a topic as JSON lines, like kcat (never moves any group's offsets)"},
      {"dlq list", "dlq list [--group GROUP] [FLAGS]",
       "print the dead letters as JSON lines, oldest first"},
      {"dlq replay", "dlq replay (--id ID | --all) [FLAGS]",
       "mark dead letters for replay; the running server redelivers them to their groups"},
      {"admin set-role", "admin set-role --email EMAIL --role admin|user [FLAGS]",
       "give a user the admin or the user role"},
  };
  return kCommands;
}

// Commands of two words: the first word groups them.
const std::vector<std::pair<std::string, std::string>>& command_groups() {
  static const std::vector<std::pair<std::string, std::string>> kGroups = {
      {"dlq", "dead letters: events a consumer group gave up on after its retries"},
      {"admin", "administration of user accounts"},
  };
  return kGroups;
}

const Command* find_command(const std::string& name) {
  for (const auto& c : commands()) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

bool is_group(const std::string& word) {
  for (const auto& [name, _] : command_groups()) {
    if (name == word) return true;
  }
  return false;
}

// "list, replay" for "dlq".
std::string subcommands_of(const std::string& group) {
  std::string out;
  for (const auto& c : commands()) {
    if (c.name.starts_with(group + " ")) {
      out += (out.empty() ? "" : ", ") + c.name.substr(group.size() + 1);
    }
  }
  return out;
}

constexpr std::pair<std::string_view, unsigned short> kRolePorts[] = {
    {"api", 8000}, {"recurring", 8001}, {"notify", 8002}, {"sync", 8003}, {"audit", 8004}};

// A role takes every flag of serve: it is serve with fewer components.
bool applies(const Flag& f, const std::string& command) {
  const std::string& as = is_role(command) ? std::string("serve") : command;
  for (const auto& c : f.commands) {
    if (c == as) return true;
  }
  return false;
}

// What a command needs beyond valid flags; nullopt when the configuration is complete.
std::optional<std::string> missing_requirement(const Config& c) {
  // The roles are separate processes: they share one PostgreSQL database (SQLite is one
  // process's file) and one signing secret (a generated one would differ per data dir).
  if (is_role(c.command) && c.database_url.empty()) {
    return "todo " + c.command +
           " needs --database-url postgres://... (DATABASE_URL): the roles are separate processes "
           "that share one PostgreSQL database; on SQLite run every service in one process with "
           "todo serve";
  }
  if (is_role(c.command) && !c.jwt_secret) {
    return "todo " + c.command +
           " needs --jwt-secret (TODO_JWT_SECRET): every role must verify the tokens the api role "
           "signs, so they share one secret";
  }
  if (c.command == "events" && c.topic.empty()) {
    return "todo events needs --topic TOPIC (e.g. --topic task-events)";
  }
  if (c.command == "dlq replay" && c.dead_letter_id.has_value() == c.all) {
    return "todo dlq replay needs exactly one of --id ID or --all";
  }
  if (c.bus == bus::BusKind::kKafka && c.kafka.brokers.empty()) {
    return "--bus kafka needs --kafka-brokers HOST:PORT,...";
  }
  if (c.bus == bus::BusKind::kKafka && bus::kafka_uses_sasl(c.kafka.security_protocol) &&
      (c.kafka.username.empty() || c.kafka.password.empty())) {
    return "--kafka-security-protocol " + c.kafka.security_protocol +
           " needs --kafka-username and --kafka-password";
  }
  if (c.command == "admin set-role" && c.email.empty()) {
    return "todo admin set-role needs --email EMAIL";
  }
  if (c.command == "admin set-role" && !c.role) {
    return "todo admin set-role needs --role admin|user";
  }
  return std::nullopt;
}

std::string padded(const std::string& text, std::size_t width) {
  return text + std::string(width > text.size() ? width - text.size() : 1, ' ');
}

void write_flag(std::ostringstream& out, const Flag& f, bool with_commands) {
  out << "  " << f.name;
  if (!is_switch(f)) out << " " << f.value_hint;
  if (!f.env.empty()) {
    std::string envs;
    for (const auto& e : f.env) envs += (envs.empty() ? "" : ", ") + e;
    out << "  (" << envs << ")";
  }
  if (with_commands) {
    std::string names;
    for (const auto& c : f.commands) names += (names.empty() ? "" : ", ") + c;
    out << "  [" << names << "]";
  }
  out << "\n      " << f.help << "\n";
}

std::string group_help(const std::string& group) {
  std::ostringstream out;
  for (const auto& [name, help] : command_groups()) {
    if (name == group) out << "todo " << name << " — " << help << "\n\n";
  }
  out << "Usage: todo " << group << " SUBCOMMAND [FLAGS]\n\nSubcommands:\n";
  for (const auto& c : commands()) {
    if (c.name.starts_with(group + " ")) {
      out << "  " << padded(c.name.substr(group.size() + 1), 10) << c.help << "\n";
    }
  }
  out << "\nRun 'todo " << group << " SUBCOMMAND --help' for the flags of one subcommand.\n";
  return out.str();
}

}  // namespace

bool is_role(std::string_view command) {
  for (const auto& [name, port] : kRolePorts) {
    if (name == command) return true;
  }
  return false;
}

unsigned short default_port(std::string_view command) {
  for (const auto& [name, port] : kRolePorts) {
    if (name == command) return port;
  }
  return 8000;
}

std::variant<Config, ConfigError> parse_config(const std::vector<std::string>& args,
                                               const Environment& env) {
  Config config;
  std::size_t i = 0;
  const auto is_help = [](const std::string& arg) { return arg == "--help" || arg == "-h"; };
  if (i < args.size() && !args[i].starts_with("-")) {
    config.command = args[i++];
    if (is_group(config.command)) {
      const std::string group = config.command;
      if (i < args.size() && is_help(args[i])) {
        config.help = true;
        return config;
      }
      if (i >= args.size() || args[i].starts_with("-")) {
        return ConfigError{"'todo " + group + "' needs a subcommand: " + subcommands_of(group) +
                           "; see todo " + group + " --help"};
      }
      config.command = group + " " + args[i++];
      if (!find_command(config.command)) {
        return ConfigError{"unknown subcommand '" + args[i - 1] + "' of 'todo " + group +
                           "'; it has: " + subcommands_of(group)};
      }
    }
  } else if (i < args.size() && is_help(args[i])) {
    config.command = "help";
    return config;
  } else if (i < args.size() && args[i] == "--version") {
    config.command = "version";
    return config;
  } else {
    config.command = "serve";
  }
  if (config.command != "help" && !find_command(config.command)) {
    return ConfigError{"unknown command '" + config.command + "'; see todo --help"};
  }

  config.port = default_port(config.command);
  // Environment first, so flags override it.
  for (const Flag& f : flags()) {
    if (!applies(f, config.command)) continue;
    for (const auto& var : f.env) {
      const char* value = env(var.c_str());
      if (!value) continue;
      if (auto reason = f.set(config, value)) {
        return ConfigError{var + " (" + f.name + ") " + *reason};
      }
      break;
    }
  }
  for (; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (is_help(arg)) {
      config.help = true;
      continue;
    }
    std::string name = arg;
    std::optional<std::string> value;
    if (auto eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    const Flag* flag = nullptr;
    for (const Flag& f : flags()) {
      if (f.name == name && applies(f, config.command)) flag = &f;
    }
    if (!flag) {
      const std::string what =
          name.starts_with("-") ? "unknown flag " + name : "unexpected argument '" + name + "'";
      return ConfigError{what + " for 'todo " + config.command + "'; see todo " + config.command +
                         " --help"};
    }
    if (is_switch(*flag)) {
      if (value) return ConfigError{name + " takes no value"};
      value = "";
    } else if (!value) {
      if (i + 1 >= args.size()) {
        return ConfigError{name + " needs a value (" + flag->value_hint + ")"};
      }
      value = args[++i];
    }
    if (auto reason = flag->set(config, *value)) return ConfigError{name + " " + *reason};
  }
  if (!config.help) {
    if (auto missing = missing_requirement(config)) return ConfigError{*missing};
  }
  return config;
}

std::string help_text(const std::string& command) {
  std::ostringstream out;
  if (is_group(command)) return group_help(command);
  const bool everything = command.empty() || command == "help";
  if (everything) {
    std::size_t width = 0;
    for (const auto& c : commands()) width = std::max(width, c.name.size());
    out << "todo — a task manager: REST API, events, reminders, live sync and audit in one binary\n\n"
        << "Usage: todo [COMMAND] [FLAGS]\n\nCommands:\n";
    for (const auto& c : commands()) out << "  " << padded(c.name, width + 2) << c.help << "\n";
    out << "\nThe roles api, recurring, notify, sync and audit take the flags of serve.\n"
        << "\nRun 'todo COMMAND --help' for the flags of one command.\n\n"
        << "Flags (environment variable) [commands]:\n";
  } else {
    if (const Command* c = find_command(command)) {
      out << "todo " << c->name << " — " << c->help << "\n\nUsage: todo " << c->usage << "\n\n";
    }
    out << "Flags (environment variable):\n";
  }
  for (const Flag& f : flags()) {
    if (!everything && !applies(f, command)) continue;
    write_flag(out, f, everything);
  }
  return out.str();
}

}  // namespace todo::app
