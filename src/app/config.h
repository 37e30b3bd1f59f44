// Command-line and environment configuration of `todo`, validated before anything starts.
#pragma once

#include "bus/kafka_settings.h"
#include "bus/open_bus.h"
#include "bus/retry.h"
#include "domain/quota.h"
#include "domain/user.h"
#include "http/forwarded.h"
#include "log/log.h"
#include "store/database.h"

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace todo::app {

struct Config {
  // serve | api | recurring | notify | sync | audit | migrate | version | help | events |
  // dlq list | dlq replay | admin set-role; a bare command group ("dlq", "admin") only together
  // with help. The five roles take serve's flags (is_role).
  std::string command;
  bool help = false;  // `todo <command> --help`
  std::string address = "0.0.0.0";
  unsigned short port = 8000;
  std::filesystem::path data_dir = "data";
  // postgres://…: the database is PostgreSQL there; empty: SQLite at <data_dir>/todo.db. A secret
  // (it may hold a password): show it only through store::redact_database_url.
  std::string database_url;
  std::filesystem::path web_dir = "web/dist";  // the built web app served at "/"
  std::optional<std::string> jwt_secret;  // nullopt: serve generates one and keeps it in data_dir
  log::Level log_level = log::Level::kInfo;
  std::vector<std::string> cors_origins;
  // Peers whose X-Forwarded-For names the client (an ingress): --trusted-proxies (ADR 0022).
  http::TrustedProxies trusted_proxies;
  store::Durability durability = store::Durability::kFull;
  int threads = 0;  // I/O threads; 0 = one per core
  int read_timeout_seconds = 10;
  int idle_timeout_seconds = 60;
  int max_body_in_flight_mib = 64;  // request bodies being received at once, all connections
  int max_connections = 10000;           // open HTTP connections in total
  int max_connections_per_client = 1000;  // open HTTP connections from one client address
  int login_limit_address = 30;  // attempts per client address per minute
  int login_limit_account = 10;  // failed attempts per (account, client address) per 15 minutes
  int login_limit_account_total = 100;  // failures per account, all addresses, per 15 minutes
  int register_limit_address = 20;      // registrations per client address per hour
  int register_concurrency = 1;         // registrations hashing a password at once
  int event_retention_days = 7;  // consumed events older than this leave the log
  int audit_retention_days = 90;  // audit entries older than this are purged (hourly)
  bus::RetryPolicy bus_retry;     // waits between a consumer's attempts at a failing event
  bus::BusKind bus = bus::BusKind::kLog;  // --bus log|kafka
  // --kafka-*: the cluster of --bus kafka. kafka.password is a secret: never logged or echoed.
  bus::KafkaSettings kafka;
  // --dapr-*: the sidecar of --bus dapr. api_token and app_token are secrets.
  bus::DaprSettings dapr;
  // The notification channels that call out over HTTP (services/notify: webhook, push, SendGrid).
  std::filesystem::path fcm_credentials;                   // empty: no FCM
  std::string fcm_base_url = "https://fcm.googleapis.com";
  std::string sendgrid_api_key;                            // empty: no SendGrid
  std::string sendgrid_base_url = "https://api.sendgrid.com";
  std::string vapid_private_key, vapid_public_key;         // empty: generated into data_dir
  std::string vapid_subject;                               // empty: mailto:<mail-from>
  bool allow_private_webhooks = false;  // lifts the SSRF guard (tests, private networks)

  // The notification service (ADR 0015).
  std::chrono::milliseconds reminder_grace = std::chrono::hours(1);  // late within, missed beyond
  std::vector<std::chrono::milliseconds> notify_retry_backoff{
      std::chrono::minutes(1), std::chrono::minutes(5), std::chrono::minutes(30)};
  int notify_workers = 4;                            // delivery threads
  std::string smtp_url;                              // empty: SMTP e-mail not configured
  std::string smtp_user, smtp_password;              // override the URL's
  std::string mail_from = "Todo <todo@localhost>";
  std::string public_url = "http://localhost:8000";  // links in notifications
  domain::QuotaLimits quotas;           // per account; 0 = no limit
  // /metrics: a bearer token it requires, and a separate listener (host, port) it moves to.
  std::optional<std::string> metrics_token;
  std::optional<std::pair<std::string, unsigned short>> metrics_address;
  int access_token_ttl_seconds = 15 * 60;  // lifetime of an access token (JWT exp - iat)
  // Live sync (/ws/tasks, ADR 0014).
  std::string sync_instance_id;          // empty: <hostname>-<pid>; group sync-service-<id>
  int ws_ping_interval_seconds = 30;     // a peer silent for two intervals is closed
  int ws_max_message_bytes = 4096;       // a bigger client message is closed with 1009
  int ws_send_queue_frames = 1024;       // per connection; beyond → closed with 4408
  int ws_send_queue_kib = 1024;          // per connection, bytes of queued frames, in KiB
  int ws_max_connections = 10000;        // WebSocket connections in total; 503 beyond
  int ws_max_connections_per_user = 32;  // per account; 429 beyond

  // The operator commands (events, dlq, admin).
  std::string topic;                 // events: required
  std::optional<std::string> group;  // events: start at its committed offsets; dlq list: filter
  bool from_beginning = false;       // events
  bool follow = false;               // events
  bool envelope = false;             // events: wrap each event with topic, partition, offset...
  std::optional<std::string> dead_letter_id;  // dlq replay --id
  bool all = false;                           // dlq replay --all
  std::string email;                          // admin set-role: normalized like the API does
  std::optional<domain::Role> role;           // admin set-role
};

struct ConfigError {
  std::string message;  // one line naming the flag or variable and what is wrong
};

using Environment = std::function<const char*(const char*)>;

// The distributed roles (DESIGN §1): `todo api`, `recurring`, `notify`, `sync`, `audit`, each one
// service in its own process on a shared PostgreSQL database (ADR 0022).
bool is_role(std::string_view command);
// 8000 for serve and api, then recurring 8001, notify 8002, sync 8003, audit 8004.
unsigned short default_port(std::string_view command);

// args excludes the program name. Flags win over environment variables, which win over defaults.
std::variant<Config, ConfigError> parse_config(const std::vector<std::string>& args,
                                               const Environment& env);

// `todo --help` (command empty), `todo <command> --help` or `todo <group> --help` ("dlq").
std::string help_text(const std::string& command);

inline constexpr std::size_t kMinSecretBytes = 32;

}  // namespace todo::app
