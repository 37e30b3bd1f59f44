// Command-line and environment configuration of `todo`, validated before anything starts.
#pragma once

#include "log/log.h"
#include "store/database.h"

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace todo::app {

struct Config {
  std::string command;  // serve | migrate | version | help
  bool help = false;    // `todo <command> --help`
  std::string address = "0.0.0.0";
  unsigned short port = 8000;
  std::filesystem::path data_dir = "data";
  std::optional<std::string> jwt_secret;  // nullopt: serve generates one and keeps it in data_dir
  log::Level log_level = log::Level::kInfo;
  std::vector<std::string> cors_origins;
  store::Durability durability = store::Durability::kFull;
  int threads = 0;  // I/O threads; 0 = one per core
  int read_timeout_seconds = 10;
  int idle_timeout_seconds = 60;
  int login_limit_address = 30;  // attempts per client address per minute
  int login_limit_account = 10;  // failed attempts per account per 15 minutes
  int event_retention_days = 7;  // consumed events older than this leave the log
};

struct ConfigError {
  std::string message;  // one line naming the flag or variable and what is wrong
};

using Environment = std::function<const char*(const char*)>;

// args excludes the program name. Flags win over environment variables, which win over defaults.
std::variant<Config, ConfigError> parse_config(const std::vector<std::string>& args,
                                               const Environment& env);

// `todo --help` (command empty) or `todo <command> --help`.
std::string help_text(const std::string& command);

inline constexpr std::size_t kMinSecretBytes = 32;

}  // namespace todo::app
