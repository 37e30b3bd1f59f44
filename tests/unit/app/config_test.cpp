// Flags, environment variables and their validation.
#include "app/config.h"

#include <gtest/gtest.h>

#include <map>

namespace todo::app {
namespace {

struct FakeEnv {
  std::map<std::string, std::string> vars;
  Environment fn() const {
    return [this](const char* name) -> const char* {
      auto it = vars.find(name);
      return it == vars.end() ? nullptr : it->second.c_str();
    };
  }
};

Config parse_ok(std::vector<std::string> args, const FakeEnv& env = {}) {
  auto result = parse_config(args, env.fn());
  if (auto* e = std::get_if<ConfigError>(&result)) {
    ADD_FAILURE() << e->message;
    return {};
  }
  return std::get<Config>(result);
}

std::string parse_error(std::vector<std::string> args, const FakeEnv& env = {}) {
  auto result = parse_config(args, env.fn());
  if (auto* e = std::get_if<ConfigError>(&result)) return e->message;
  ADD_FAILURE() << "expected an error";
  return {};
}

TEST(Config, DefaultsToServeOnPort8000WithDataDir) {
  Config c = parse_ok({});
  EXPECT_EQ(c.command, "serve");
  EXPECT_EQ(c.port, 8000);
  EXPECT_EQ(c.data_dir, "data");
  EXPECT_FALSE(c.jwt_secret);
  EXPECT_EQ(c.durability, store::Durability::kFull);
}

TEST(Config, FlagsInBothSyntaxes) {
  Config c = parse_ok({"serve", "--port", "0", "--data-dir=/tmp/x", "--durability=normal"});
  EXPECT_EQ(c.port, 0);
  EXPECT_EQ(c.data_dir, "/tmp/x");
  EXPECT_EQ(c.durability, store::Durability::kNormal);
}

TEST(Config, EnvironmentAppliesAndFlagsWin) {
  FakeEnv env{{{"TODO_PORT", "9000"}, {"TODO_LOG_LEVEL", "debug"}}};
  EXPECT_EQ(parse_ok({"serve"}, env).port, 9000);
  EXPECT_EQ(parse_ok({"serve"}, env).log_level, log::Level::kDebug);
  EXPECT_EQ(parse_ok({"serve", "--port", "9001"}, env).port, 9001);
}

TEST(Config, SecretFromEitherVariableMustBeLongEnough) {
  std::string good(32, 'k');
  EXPECT_EQ(parse_ok({"serve"}, FakeEnv{{{"BETTER_AUTH_SECRET", good}}}).jwt_secret, good);
  EXPECT_EQ(parse_ok({"serve"}, FakeEnv{{{"TODO_JWT_SECRET", good}}}).jwt_secret, good);
  auto message = parse_error({"serve"}, FakeEnv{{{"TODO_JWT_SECRET", "short"}}});
  EXPECT_NE(message.find("TODO_JWT_SECRET"), std::string::npos) << message;
  EXPECT_NE(parse_error({"serve", "--jwt-secret", "short"}).find("--jwt-secret"),
            std::string::npos);
}

TEST(Config, BadValuesNameTheFlag) {
  EXPECT_NE(parse_error({"serve", "--port", "abc"}).find("--port"), std::string::npos);
  EXPECT_NE(parse_error({"serve", "--port", "70000"}).find("--port"), std::string::npos);
  EXPECT_NE(parse_error({"serve", "--bogus"}).find("--bogus"), std::string::npos);
  EXPECT_NE(parse_error({"serve", "--log-level", "loud"}).find("--log-level"), std::string::npos);
  EXPECT_NE(parse_error({"serve", "--durability", "sometimes"}).find("--durability"),
            std::string::npos);
  EXPECT_NE(parse_error({"serve", "--cors-origins", "example.com"}).find("--cors-origins"),
            std::string::npos);
  EXPECT_NE(parse_error({"serve", "--port"}).find("--port"), std::string::npos);
  EXPECT_NE(parse_error({"launch"}).find("launch"), std::string::npos);
  EXPECT_NE(parse_error({"serve"}, FakeEnv{{{"TODO_PORT", "x"}}}).find("TODO_PORT"),
            std::string::npos);
}

TEST(Config, DatabaseUrlChoosesPostgresAndNeverEchoesItsPassword) {
  EXPECT_EQ(parse_ok({"serve"}).database_url, "");
  EXPECT_EQ(parse_ok({"migrate", "--database-url", "postgres://u:p@db:5432/todo?sslmode=require"})
                .database_url,
            "postgres://u:p@db:5432/todo?sslmode=require");
  EXPECT_EQ(parse_ok({"serve"}, FakeEnv{{{"DATABASE_URL", "postgresql://db/todo"}}}).database_url,
            "postgresql://db/todo");
  for (const char* bad : {"mysql://u:hunter2@db/todo", "postgres://u:hunter2@db/todo?bogus=1",
                          "postgres://u:hunter2@db/todo?sslmode=%zz"}) {
    const auto message = parse_error({"serve", "--database-url", bad});
    EXPECT_NE(message.find("--database-url"), std::string::npos) << message;
    EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
  }
  EXPECT_NE(parse_error({"serve"}, FakeEnv{{{"DATABASE_URL", "sqlite:x"}}}).find("DATABASE_URL"),
            std::string::npos);
  // The operator commands open the same database as the server they sit next to.
  for (auto command : {std::vector<std::string>{"events", "--topic", "task-events"},
                       std::vector<std::string>{"dlq", "list"},
                       std::vector<std::string>{"dlq", "replay", "--id", "x"},
                       std::vector<std::string>{"admin", "set-role", "--email", "a@b.c", "--role",
                                                "admin"}}) {
    command.insert(command.end(), {"--database-url", "postgres://db/todo"});
    EXPECT_EQ(parse_ok(command).database_url, "postgres://db/todo") << command.front();
  }
}

TEST(Config, TheRolesTakeServesFlagsWithTheirOwnPorts) {
  const std::string secret(32, 'k');
  const std::vector<std::string> shared = {"--database-url", "postgres://db/todo", "--jwt-secret",
                                           secret};
  const std::vector<std::pair<std::string, int>> roles = {
      {"api", 8000}, {"recurring", 8001}, {"notify", 8002}, {"sync", 8003}, {"audit", 8004}};
  for (const auto& [role, port] : roles) {
    std::vector<std::string> args = {role};
    args.insert(args.end(), shared.begin(), shared.end());
    Config c = parse_ok(args);
    EXPECT_EQ(c.command, role);
    EXPECT_EQ(c.port, port) << role;
    EXPECT_TRUE(is_role(role));
    args.insert(args.end(), {"--port", "0", "--smtp-url", "smtp://127.0.0.1:25", "--trusted-proxies",
                             "10.0.0.0/8", "--cors-origins", "https://app.example.com"});
    EXPECT_EQ(parse_ok(args).port, 0) << role;
    EXPECT_EQ(parse_ok({role}, FakeEnv{{{"DATABASE_URL", "postgres://db/todo"},
                                        {"TODO_JWT_SECRET", secret},
                                        {"TODO_PORT", "9100"}}})
                  .port,
              9100);
  }
  EXPECT_FALSE(is_role("serve"));
  EXPECT_FALSE(is_role("migrate"));
  EXPECT_EQ(parse_ok({"serve"}).port, 8000);
  EXPECT_NE(help_text("audit").find("--trusted-proxies"), std::string::npos);
  EXPECT_NE(help_text("").find("sync"), std::string::npos);
}

TEST(Config, TheRolesNeedPostgresAndASharedSecret) {
  const std::string secret(32, 'k');
  const auto sqlite = parse_error({"audit", "--jwt-secret", secret});
  EXPECT_NE(sqlite.find("--database-url"), std::string::npos) << sqlite;
  EXPECT_NE(sqlite.find("todo serve"), std::string::npos) << sqlite;
  const auto no_secret = parse_error({"api", "--database-url", "postgres://db/todo"});
  EXPECT_NE(no_secret.find("--jwt-secret"), std::string::npos) << no_secret;
  // Help needs neither.
  EXPECT_TRUE(parse_ok({"sync", "--help"}).help);
}

TEST(Config, TrustedProxies) {
  EXPECT_TRUE(parse_ok({"serve"}).trusted_proxies.empty());
  const Config c = parse_ok({"serve", "--trusted-proxies", "10.0.0.0/8, 2001:db8::/32,192.0.2.7"});
  EXPECT_TRUE(c.trusted_proxies.trusts("10.1.2.3"));
  EXPECT_TRUE(c.trusted_proxies.trusts("2001:db8::5"));
  EXPECT_TRUE(c.trusted_proxies.trusts("192.0.2.7"));
  EXPECT_FALSE(c.trusted_proxies.trusts("192.0.2.8"));
  EXPECT_TRUE(parse_ok({"serve"}, FakeEnv{{{"TODO_TRUSTED_PROXIES", "127.0.0.1"}}})
                  .trusted_proxies.trusts("127.0.0.1"));
  const auto bad = parse_error({"serve", "--trusted-proxies", "10.0.0.0/8,ingress.local"});
  EXPECT_NE(bad.find("--trusted-proxies"), std::string::npos) << bad;
  EXPECT_NE(bad.find("ingress.local"), std::string::npos) << bad;
  const auto bad_prefix = parse_error({"serve", "--trusted-proxies=10.0.0.0/40"});
  EXPECT_NE(bad_prefix.find("--trusted-proxies"), std::string::npos) << bad_prefix;
  const auto bad_env =
      parse_error({"serve"}, FakeEnv{{{"TODO_TRUSTED_PROXIES", "10.0.0.0/8 10.1.0.0/16"}}});
  EXPECT_NE(bad_env.find("TODO_TRUSTED_PROXIES"), std::string::npos) << bad_env;
  EXPECT_NE(parse_error({"migrate", "--trusted-proxies", "10.0.0.1"}).find("--trusted-proxies"),
            std::string::npos);
}

TEST(Config, FlagsOfOtherCommandsAreRejected) {
  EXPECT_NE(parse_error({"migrate", "--port", "1"}).find("--port"), std::string::npos);
}

TEST(Config, CorsOriginsAreSplitAndTrimmed) {
  Config c = parse_ok({"serve", "--cors-origins", "http://a.example, https://b.example:8443"});
  EXPECT_EQ(c.cors_origins,
            (std::vector<std::string>{"http://a.example", "https://b.example:8443"}));
}

TEST(Config, AuditRetentionDays) {
  EXPECT_EQ(parse_ok({"serve"}).audit_retention_days, 90);
  EXPECT_EQ(parse_ok({"serve", "--audit-retention-days", "7"}).audit_retention_days, 7);
  EXPECT_EQ(
      parse_ok({"serve"}, FakeEnv{{{"TODO_AUDIT_RETENTION_DAYS", "365"}}}).audit_retention_days,
      365);
  EXPECT_NE(parse_error({"serve", "--audit-retention-days", "0"}).find("--audit-retention-days"),
            std::string::npos);
  EXPECT_NE(parse_error({"serve", "--audit-retention-days=36501"}).find("1 to 36500"),
            std::string::npos);
  EXPECT_NE(parse_error({"serve"}, FakeEnv{{{"TODO_AUDIT_RETENTION_DAYS", "x"}}})
                .find("TODO_AUDIT_RETENTION_DAYS"),
            std::string::npos);
}

TEST(Config, QuotasHaveGenerousDefaultsAndTakeFlagsOrEnvironment) {
  const Config defaults = parse_ok({"serve"});
  EXPECT_EQ(defaults.quotas.tasks, 100000);
  EXPECT_EQ(defaults.quotas.tags, 1000);
  EXPECT_EQ(defaults.quotas.bytes, 64LL * 1024 * 1024);
  EXPECT_EQ(defaults.quotas.notification_targets, 50);
  const Config c = parse_ok({"serve", "--quota-tasks", "10", "--quota-tags=0", "--quota-bytes",
                             "3MiB", "--quota-notification-targets", "4"});
  EXPECT_EQ(c.quotas.tasks, 10);
  EXPECT_EQ(c.quotas.tags, 0);  // no limit
  EXPECT_EQ(c.quotas.bytes, 3 * 1024 * 1024);
  EXPECT_EQ(c.quotas.notification_targets, 4);
  EXPECT_EQ(parse_ok({"serve", "--quota-bytes", "1500"}).quotas.bytes, 1500);
  EXPECT_EQ(parse_ok({"serve", "--quota-bytes", "2G"}).quotas.bytes, 2LL << 30);
  EXPECT_EQ(parse_ok({"serve"}, FakeEnv{{{"TODO_QUOTA_TASKS", "7"}, {"TODO_QUOTA_BYTES", "1KiB"}}})
                .quotas.bytes,
            1024);
  EXPECT_NE(parse_error({"serve", "--quota-tasks", "-1"}).find("--quota-tasks"), std::string::npos);
  EXPECT_NE(parse_error({"serve", "--quota-bytes", "12MB"}).find("64MiB"), std::string::npos);
  EXPECT_NE(parse_error({"serve", "--quota-bytes", "MiB"}).find("--quota-bytes"),
            std::string::npos);
  EXPECT_NE(parse_error({"serve", "--quota-bytes", "99999999GiB"}).find("1 PiB"),
            std::string::npos);
}

TEST(Config, MetricsTokenAndAddress) {
  const Config defaults = parse_ok({"serve"});
  EXPECT_FALSE(defaults.metrics_token);
  EXPECT_FALSE(defaults.metrics_address);
  const Config c = parse_ok({"serve", "--metrics-token", "0123456789abcdef",
                             "--metrics-address", "127.0.0.1:9100"});
  EXPECT_EQ(c.metrics_token, "0123456789abcdef");
  ASSERT_TRUE(c.metrics_address);
  EXPECT_EQ(c.metrics_address->first, "127.0.0.1");
  EXPECT_EQ(c.metrics_address->second, 9100);
  const Config v6 = parse_ok({"serve"}, FakeEnv{{{"TODO_METRICS_ADDRESS", "[::1]:0"},
                                                  {"TODO_METRICS_TOKEN", "a-long-enough-token"}}});
  EXPECT_EQ(v6.metrics_address->first, "::1");
  EXPECT_EQ(v6.metrics_address->second, 0);
  EXPECT_EQ(v6.metrics_token, "a-long-enough-token");
  EXPECT_NE(parse_error({"serve", "--metrics-token", "short"}).find("at least 16"),
            std::string::npos);
  EXPECT_NE(parse_error({"serve", "--metrics-token", "has a space in it!"}).find("visible ASCII"),
            std::string::npos);
  EXPECT_NE(parse_error({"serve", "--metrics-address", "9100"}).find("HOST:PORT"),
            std::string::npos);
  EXPECT_NE(parse_error({"serve", "--metrics-address", "localhost:70000"}).find("port"),
            std::string::npos);
}

TEST(Config, BusRetryBackoff) {
  using std::chrono::milliseconds;
  EXPECT_EQ(parse_ok({"serve"}).bus_retry.backoff,
            (std::vector<milliseconds>{milliseconds(1000), milliseconds(5000), milliseconds(25000)}));
  EXPECT_EQ(parse_ok({"serve", "--bus-retry-backoff", "200ms, 1s,2m"}).bus_retry.backoff,
            (std::vector<milliseconds>{milliseconds(200), milliseconds(1000), milliseconds(120000)}));
  EXPECT_EQ(parse_ok({"serve"}, FakeEnv{{{"TODO_BUS_RETRY_BACKOFF", "1h"}}}).bus_retry.backoff,
            (std::vector<milliseconds>{milliseconds(3600000)}));
  EXPECT_EQ(parse_error({"serve", "--bus-retry-backoff", "5"}),
            "--bus-retry-backoff '5' needs a unit: ms, s, m or h");
  EXPECT_EQ(parse_error({"serve", "--bus-retry-backoff=1s,0s"}),
            "--bus-retry-backoff '0s' must be longer than zero");
  EXPECT_EQ(parse_error({"serve", "--bus-retry-backoff=1s,,2s"}),
            "--bus-retry-backoff '' is not a duration like 500ms, 5s, 2m or 1h");
  EXPECT_EQ(parse_error({"serve", "--bus-retry-backoff=25h"}),
            "--bus-retry-backoff '25h' is longer than a day");
  EXPECT_EQ(parse_error({"serve", "--bus-retry-backoff=99999999999999999999s"}),
            "--bus-retry-backoff '99999999999999999999s' is not a duration like 500ms, 5s, 2m or 1h");
  EXPECT_NE(parse_error({"serve"}, FakeEnv{{{"TODO_BUS_RETRY_BACKOFF", "-1s"}}})
                .find("TODO_BUS_RETRY_BACKOFF (--bus-retry-backoff) '-1s' must be longer than zero"),
            std::string::npos);
  EXPECT_NE(help_text("serve").find("--bus-retry-backoff"), std::string::npos);
}

TEST(Config, KafkaBusFlags) {
  EXPECT_EQ(parse_ok({"serve"}).bus, bus::BusKind::kLog);
  const auto kafka = parse_ok({"serve", "--bus", "kafka", "--kafka-brokers", "k1:9092,k2:9092"});
  EXPECT_EQ(kafka.bus, bus::BusKind::kKafka);
  EXPECT_EQ(kafka.kafka.brokers, "k1:9092,k2:9092");
  EXPECT_EQ(kafka.kafka.security_protocol, "plaintext");
  const auto sasl = parse_ok({"serve", "--kafka-security-protocol", "sasl_ssl",
                              "--kafka-sasl-mechanism", "SCRAM-SHA-512", "--kafka-username", "u",
                              "--kafka-ca-file", "/etc/ca.pem"},
                             FakeEnv{{{"TODO_BUS", "kafka"},
                                      {"TODO_KAFKA_BROKERS", "k:9093"},
                                      {"TODO_KAFKA_PASSWORD", "hunter2"}}});
  EXPECT_EQ(sasl.bus, bus::BusKind::kKafka);
  EXPECT_EQ(sasl.kafka.sasl_mechanism, "SCRAM-SHA-512");
  EXPECT_EQ(sasl.kafka.username, "u");
  EXPECT_EQ(sasl.kafka.password, "hunter2");
  EXPECT_EQ(sasl.kafka.ca_file, "/etc/ca.pem");
  EXPECT_TRUE(sasl.kafka.idempotence);
  EXPECT_FALSE(parse_ok({"serve", "--kafka-idempotence", "off"}).kafka.idempotence);
  EXPECT_FALSE(
      parse_ok({"serve"}, FakeEnv{{{"TODO_KAFKA_IDEMPOTENCE", "off"}}}).kafka.idempotence);
  EXPECT_TRUE(parse_ok({"serve", "--kafka-idempotence", "on"}).kafka.idempotence);
  EXPECT_EQ(sasl.kafka.fetch_wait, std::chrono::milliseconds(500));
  EXPECT_EQ(sasl.kafka.session_timeout, std::chrono::milliseconds(45000));
  EXPECT_EQ(parse_ok({"serve", "--kafka-session-timeout", "10s"}).kafka.session_timeout,
            std::chrono::milliseconds(10000));
  EXPECT_EQ(parse_error({"serve", "--kafka-session-timeout", "1s"}),
            "--kafka-session-timeout must be one duration from 6s to 5m, such as 10s or 45s");
  EXPECT_EQ(parse_ok({"serve", "--kafka-fetch-wait", "5ms"}).kafka.fetch_wait,
            std::chrono::milliseconds(5));
  EXPECT_EQ(parse_error({"serve", "--kafka-fetch-wait", "1m"}),
            "--kafka-fetch-wait must be one duration such as 10ms or 500ms (units ms, s; at most "
            "10s)");
  EXPECT_EQ(parse_error({"serve", "--kafka-idempotence", "no"}),
            "--kafka-idempotence must be on or off");

  EXPECT_EQ(parse_error({"serve", "--bus", "rabbit"}), "--bus must be log, kafka or dapr");
  EXPECT_NE(parse_error({"serve"}, FakeEnv{{{"TODO_BUS", "rabbit"}}}).find("TODO_BUS (--bus)"),
            std::string::npos);
  EXPECT_EQ(parse_error({"serve", "--bus", "kafka"}),
            "--bus kafka needs --kafka-brokers HOST:PORT,...");
  EXPECT_NE(parse_error({"serve", "--kafka-security-protocol", "tls"})
                .find("--kafka-security-protocol must be one of"),
            std::string::npos);
  EXPECT_NE(parse_error({"serve", "--kafka-sasl-mechanism", "GSSAPI"})
                .find("--kafka-sasl-mechanism must be one of"),
            std::string::npos);
  const auto missing = parse_error({"serve", "--bus", "kafka", "--kafka-brokers", "k:1",
                                    "--kafka-security-protocol", "sasl_plaintext",
                                    "--kafka-password", "hunter2"});
  EXPECT_EQ(missing, "--kafka-security-protocol sasl_plaintext needs --kafka-username and "
                     "--kafka-password");
  EXPECT_EQ(missing.find("hunter2"), std::string::npos);
  EXPECT_NE(help_text("serve").find("--kafka-brokers"), std::string::npos);
  EXPECT_NE(parse_error({"migrate", "--bus", "kafka"}).find("--bus"), std::string::npos);
}

TEST(Config, DaprBusFlags) {
  const auto defaults = parse_ok({"serve", "--bus", "dapr"});
  EXPECT_EQ(defaults.bus, bus::BusKind::kDapr);
  EXPECT_EQ(defaults.dapr.host, "127.0.0.1");
  EXPECT_EQ(defaults.dapr.http_port, 3500);
  EXPECT_EQ(defaults.dapr.pubsub, "todo-pubsub");
  EXPECT_EQ(defaults.dapr.fanout_pubsub, "todo-pubsub-fanout");
  EXPECT_EQ(defaults.dapr.api_token, "");
  EXPECT_EQ(defaults.dapr.app_token, "");

  // The variables the Dapr sidecar injector sets are read; our own names and flags win.
  const auto injected = parse_ok({"serve"}, FakeEnv{{{"TODO_BUS", "dapr"},
                                                     {"DAPR_HTTP_PORT", "3601"},
                                                     {"DAPR_API_TOKEN", "to-sidecar"},
                                                     {"APP_API_TOKEN", "from-sidecar"}}});
  EXPECT_EQ(injected.bus, bus::BusKind::kDapr);
  EXPECT_EQ(injected.dapr.http_port, 3601);
  EXPECT_EQ(injected.dapr.api_token, "to-sidecar");
  EXPECT_EQ(injected.dapr.app_token, "from-sidecar");
  const auto ours =
      parse_ok({"serve", "--dapr-http-port", "4000", "--dapr-host", "sidecar", "--dapr-pubsub",
                "kafka-1", "--dapr-fanout-pubsub", "kafka-2"},
               FakeEnv{{{"TODO_DAPR_HTTP_PORT", "3700"}, {"DAPR_HTTP_PORT", "3601"}}});
  EXPECT_EQ(ours.dapr.http_port, 4000);
  EXPECT_EQ(ours.dapr.host, "sidecar");
  EXPECT_EQ(ours.dapr.pubsub, "kafka-1");
  EXPECT_EQ(ours.dapr.fanout_pubsub, "kafka-2");
  EXPECT_EQ(
      parse_ok({"serve"}, FakeEnv{{{"TODO_DAPR_HTTP_PORT", "3700"}, {"DAPR_HTTP_PORT", "3601"}}})
          .dapr.http_port,
      3700);

  EXPECT_NE(parse_error({"serve", "--dapr-http-port", "0"}).find("--dapr-http-port"),
            std::string::npos);
  EXPECT_NE(parse_error({"serve"}, FakeEnv{{{"DAPR_HTTP_PORT", "abc"}}})
                .find("DAPR_HTTP_PORT (--dapr-http-port)"),
            std::string::npos);
  EXPECT_EQ(parse_error({"serve", "--dapr-pubsub", "Todo_PubSub"}),
            "--dapr-pubsub may contain only a-z, 0-9 and '-'");
  EXPECT_EQ(parse_error({"serve", "--dapr-fanout-pubsub", "-x"}),
            "--dapr-fanout-pubsub must start and end with a letter or digit");
  EXPECT_NE(parse_error({"serve", "--dapr-host", "a/b"}).find("--dapr-host"), std::string::npos);
  EXPECT_NE(help_text("serve").find("--dapr-app-token"), std::string::npos);
}

TEST(Config, NotificationFlags) {
  using std::chrono::milliseconds;
  const Config defaults = parse_ok({"serve"});
  EXPECT_EQ(defaults.reminder_grace, milliseconds(3600000));
  EXPECT_EQ(defaults.notify_retry_backoff,
            (std::vector<milliseconds>{milliseconds(60000), milliseconds(300000),
                                       milliseconds(1800000)}));
  EXPECT_TRUE(defaults.smtp_url.empty());
  EXPECT_FALSE(defaults.allow_private_webhooks);
  const Config c = parse_ok({"serve", "--reminder-grace", "30m", "--notify-retry-backoff",
                             "200ms,1s", "--smtp-url", "smtps://mail.example.com:465",
                             "--mail-from", "Todo <t@example.com>", "--allow-private-webhooks"});
  EXPECT_EQ(c.reminder_grace, milliseconds(1800000));
  EXPECT_EQ(c.notify_retry_backoff, (std::vector<milliseconds>{milliseconds(200), milliseconds(1000)}));
  EXPECT_EQ(c.smtp_url, "smtps://mail.example.com:465");
  EXPECT_EQ(c.mail_from, "Todo <t@example.com>");
  EXPECT_TRUE(c.allow_private_webhooks);
  EXPECT_EQ(parse_error({"serve", "--reminder-grace", "1h,2h"}),
            "--reminder-grace must be one duration such as 30m or 1h (units ms, s, m, h; at most "
            "24h)");
  EXPECT_EQ(parse_error({"serve", "--smtp-url", "http://mail.example.com"}),
            "--smtp-url must be smtp://host:port or smtps://host:port");
  EXPECT_EQ(parse_error({"serve", "--mail-from", "nobody"}),
            "--mail-from must be an e-mail address or a mailbox like Todo <todo@example.com>");
  EXPECT_FALSE(
      parse_ok({"serve"}, FakeEnv{{{"TODO_ALLOW_PRIVATE_WEBHOOKS", "0"}}}).allow_private_webhooks);
}

TEST(Config, HelpAndVersion) {
  EXPECT_EQ(parse_ok({"--help"}).command, "help");
  EXPECT_TRUE(parse_ok({"serve", "--help"}).help);
  EXPECT_EQ(parse_ok({"version"}).command, "version");
  std::string help = help_text("");
  for (const char* word : {"serve", "migrate", "version", "TODO_PORT", "BETTER_AUTH_SECRET"}) {
    EXPECT_NE(help.find(word), std::string::npos) << word;
  }
  EXPECT_NE(help_text("serve").find("--cors-origins"), std::string::npos);
  EXPECT_EQ(help_text("migrate").find("--port"), std::string::npos);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(Config, EventsTakesTopicGroupAndSwitches) {
  Config c =
      parse_ok({"events", "--topic", "task-events", "--group=audit-service", "--from-beginning",
                "--follow", "--envelope", "--data-dir", "/tmp/d", "--log-level", "warn"});
  EXPECT_EQ(c.command, "events");
  EXPECT_EQ(c.topic, "task-events");
  EXPECT_EQ(c.group, "audit-service");
  EXPECT_TRUE(c.from_beginning);
  EXPECT_TRUE(c.follow);
  EXPECT_TRUE(c.envelope);
  EXPECT_EQ(c.data_dir, "/tmp/d");
  EXPECT_EQ(c.log_level, log::Level::kWarn);
}

TEST(Config, EventsDefaultsToTheEndWithoutSwitches) {
  Config c = parse_ok({"events", "--topic=reminders"});
  EXPECT_EQ(c.topic, "reminders");
  EXPECT_FALSE(c.group);
  EXPECT_FALSE(c.from_beginning);
  EXPECT_FALSE(c.follow);
  EXPECT_FALSE(c.envelope);
}

TEST(Config, EventsNeedsATopic) {
  EXPECT_TRUE(contains(parse_error({"events"}), "--topic"));
  EXPECT_TRUE(contains(parse_error({"events", "--from-beginning"}), "--topic"));
  EXPECT_TRUE(contains(parse_error({"events", "--topic"}), "--topic"));
  EXPECT_TRUE(contains(parse_error({"events", "--topic="}), "--topic"));
  EXPECT_TRUE(contains(parse_error({"events", "--topic", "t", "--group="}), "--group"));
}

TEST(Config, SwitchesTakeNoValue) {
  EXPECT_TRUE(contains(parse_error({"events", "--topic", "t", "--follow=yes"}), "--follow"));
  EXPECT_TRUE(
      contains(parse_error({"events", "--topic", "t", "--from-beginning=1"}), "--from-beginning"));
  EXPECT_TRUE(contains(parse_error({"dlq", "replay", "--all=true"}), "--all"));
  // A word after a switch is not taken as its value.
  EXPECT_TRUE(contains(parse_error({"events", "--topic", "t", "--follow", "yes"}), "yes"));
}

TEST(Config, OperatorCommandsTakeTheDataDirFromTheEnvironment) {
  FakeEnv env{{{"TODO_DATA_DIR", "/srv/todo"},
               {"TODO_LOG_LEVEL", "error"},
               {"TODO_PORT", "not-a-port"}}};  // serve's variables do not apply
  for (std::vector<std::string> args :
       {std::vector<std::string>{"events", "--topic", "t"},
        {"dlq", "list"},
        {"dlq", "replay", "--all"},
        {"admin", "set-role", "--email", "a@example.com", "--role", "user"}}) {
    Config c = parse_ok(args, env);
    EXPECT_EQ(c.data_dir, "/srv/todo") << c.command;
    EXPECT_EQ(c.log_level, log::Level::kError) << c.command;
  }
  EXPECT_EQ(parse_ok({"dlq", "list", "--data-dir", "/x"}, env).data_dir, "/x");
}

TEST(Config, DlqListTakesAGroup) {
  Config c = parse_ok({"dlq", "list"});
  EXPECT_EQ(c.command, "dlq list");
  EXPECT_FALSE(c.group);
  EXPECT_EQ(parse_ok({"dlq", "list", "--group", "recurring-task-service"}).group,
            "recurring-task-service");
  EXPECT_TRUE(contains(parse_error({"dlq", "list", "--all"}), "--all"));
}

TEST(Config, DlqReplayNeedsExactlyOneOfIdAndAll) {
  Config one = parse_ok({"dlq", "replay", "--id", "0190-abc"});
  EXPECT_EQ(one.command, "dlq replay");
  EXPECT_EQ(one.dead_letter_id, "0190-abc");
  EXPECT_FALSE(one.all);
  Config all = parse_ok({"dlq", "replay", "--all"});
  EXPECT_TRUE(all.all);
  EXPECT_FALSE(all.dead_letter_id);
  for (std::vector<std::string> args :
       {std::vector<std::string>{"dlq", "replay"}, {"dlq", "replay", "--id", "x", "--all"}}) {
    std::string message = parse_error(args);
    EXPECT_TRUE(contains(message, "--id") && contains(message, "--all")) << message;
  }
  EXPECT_TRUE(contains(parse_error({"dlq", "replay", "--id="}), "--id"));
  EXPECT_TRUE(contains(parse_error({"dlq", "replay", "--id"}), "--id"));
}

TEST(Config, AdminSetRoleNormalizesTheEmailAndChecksTheRole) {
  Config c = parse_ok({"admin", "set-role", "--email", "  Ada@Example.COM ", "--role", "admin"});
  EXPECT_EQ(c.command, "admin set-role");
  EXPECT_EQ(c.email, "ada@example.com");
  EXPECT_EQ(c.role, domain::Role::kAdmin);
  EXPECT_EQ(parse_ok({"admin", "set-role", "--email=a@example.com", "--role=user"}).role,
            domain::Role::kUser);
  EXPECT_TRUE(contains(parse_error({"admin", "set-role", "--role", "admin"}), "--email"));
  EXPECT_TRUE(contains(parse_error({"admin", "set-role", "--email", "a@example.com"}), "--role"));
  std::string bad_role =
      parse_error({"admin", "set-role", "--email", "a@example.com", "--role", "root"});
  EXPECT_TRUE(contains(bad_role, "--role") && contains(bad_role, "admin or user")) << bad_role;
  EXPECT_TRUE(contains(
      parse_error({"admin", "set-role", "--email", "no-at-sign", "--role", "user"}), "--email"));
}

TEST(Config, CommandGroupsNeedAKnownSubcommand) {
  for (std::vector<std::string> args :
       {std::vector<std::string>{"dlq"}, {"dlq", "--all"}, {"dlq", "purge"}}) {
    std::string message = parse_error(args);
    EXPECT_TRUE(contains(message, "list") && contains(message, "replay")) << message;
  }
  std::string admin = parse_error({"admin", "promote"});
  EXPECT_TRUE(contains(admin, "promote") && contains(admin, "set-role")) << admin;
  EXPECT_TRUE(contains(parse_error({"admin"}), "set-role"));
}

TEST(Config, FlagsOfOneCommandAreRejectedByTheOthers) {
  EXPECT_TRUE(contains(parse_error({"events", "--topic", "t", "--port", "1"}), "--port"));
  EXPECT_TRUE(contains(parse_error({"serve", "--topic", "t"}), "--topic"));
  EXPECT_TRUE(contains(parse_error({"migrate", "--follow"}), "--follow"));
  EXPECT_TRUE(contains(parse_error({"dlq", "replay", "--all", "--group", "g"}), "--group"));
  EXPECT_TRUE(contains(parse_error({"admin", "set-role", "--email", "a@example.com", "--role",
                                    "user", "--topic", "t"}),
                       "--topic"));
}

TEST(Config, HelpOfTheOperatorCommands) {
  // Help is asked for, so a missing required flag is no error.
  Config replay_help = parse_ok({"dlq", "replay", "--help"});
  EXPECT_EQ(replay_help.command, "dlq replay");
  EXPECT_TRUE(replay_help.help);
  EXPECT_TRUE(parse_ok({"events", "--help"}).help);
  Config group_help = parse_ok({"dlq", "--help"});
  EXPECT_EQ(group_help.command, "dlq");
  EXPECT_TRUE(group_help.help);

  std::string all = help_text("");
  for (const char* word : {"events", "dlq list", "dlq replay", "admin set-role", "--topic",
                           "--from-beginning", "--envelope", "--email"}) {
    EXPECT_TRUE(contains(all, word)) << word;
  }
  std::string replay = help_text("dlq replay");
  for (const char* word : {"--id", "--all", "--data-dir", "TODO_DATA_DIR", "--log-level"}) {
    EXPECT_TRUE(contains(replay, word)) << word;
  }
  EXPECT_FALSE(contains(replay, "--topic"));
  EXPECT_FALSE(contains(replay, "--port"));
  std::string events = help_text("events");
  for (const char* word : {"--topic", "--group", "--from-beginning", "--follow", "--envelope"}) {
    EXPECT_TRUE(contains(events, word)) << word;
  }
  std::string dlq = help_text("dlq");
  EXPECT_TRUE(contains(dlq, "list") && contains(dlq, "replay")) << dlq;
  EXPECT_TRUE(contains(help_text("admin set-role"), "--role"));
}

}  // namespace
}  // namespace todo::app

namespace todo::app {
namespace {

TEST(Config, NotificationChannelFlags) {
  Config c =
      parse_ok({"serve", "--fcm-credentials", "/etc/todo/fcm.json", "--fcm-base-url",
                "http://127.0.0.1:9/", "--sendgrid-api-key", "SG.k", "--sendgrid-base-url",
                "http://127.0.0.1:8", "--vapid-private-key", "priv", "--vapid-public-key", "pub",
                "--vapid-subject", "mailto:ops@example.com", "--allow-private-webhooks"});
  EXPECT_EQ(c.fcm_credentials, "/etc/todo/fcm.json");
  EXPECT_EQ(c.fcm_base_url, "http://127.0.0.1:9");
  EXPECT_EQ(c.sendgrid_api_key, "SG.k");
  EXPECT_EQ(c.sendgrid_base_url, "http://127.0.0.1:8");
  EXPECT_EQ(c.vapid_private_key, "priv");
  EXPECT_EQ(c.vapid_public_key, "pub");
  EXPECT_EQ(c.vapid_subject, "mailto:ops@example.com");
  EXPECT_TRUE(c.allow_private_webhooks);

  Config d = parse_ok({"serve"});
  EXPECT_EQ(d.fcm_base_url, "https://fcm.googleapis.com");
  EXPECT_EQ(d.sendgrid_base_url, "https://api.sendgrid.com");
  EXPECT_FALSE(d.allow_private_webhooks);
  EXPECT_TRUE(
      parse_ok({"serve"}, FakeEnv{{{"TODO_ALLOW_PRIVATE_WEBHOOKS", "1"}}}).allow_private_webhooks);
  EXPECT_FALSE(
      parse_ok({"serve"}, FakeEnv{{{"TODO_ALLOW_PRIVATE_WEBHOOKS", "0"}}}).allow_private_webhooks);
  EXPECT_EQ(parse_ok({"serve"}, FakeEnv{{{"SENDGRID_API_KEY", "SG.env"}}}).sendgrid_api_key,
            "SG.env");

  EXPECT_EQ(parse_error({"serve", "--vapid-subject", "ops@example.com"}),
            "--vapid-subject must be a mailto: or https: URL");
  EXPECT_EQ(parse_error({"serve", "--sendgrid-base-url", "api.sendgrid.com"}),
            "--sendgrid-base-url must be an http(s) URL");
  EXPECT_EQ(parse_error({"serve", "--allow-private-webhooks=yes"}),
            "--allow-private-webhooks takes no value");
}

}  // namespace
}  // namespace todo::app
