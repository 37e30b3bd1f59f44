// Table of flags with their environment variables; one parser for both sources.
#include "app/config.h"

#include <charconv>
#include <sstream>

namespace todo::app {
namespace {

using Setter = std::function<std::optional<std::string>(Config&, const std::string&)>;

struct Flag {
  std::string name;       // "--port"
  std::vector<std::string> env;  // "TODO_PORT"; the first is documented first
  std::string value_hint;
  std::string help;
  std::vector<std::string> commands;  // where it applies
  Setter set;                         // returns the reason when the value is bad
};

std::optional<std::string> parse_int(const std::string& text, int min, int max, int& out) {
  int v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v < min || v > max) {
    return "must be an integer from " + std::to_string(min) + " to " + std::to_string(max);
  }
  out = v;
  return std::nullopt;
}

const std::vector<Flag>& flags() {
  static const std::vector<Flag> kFlags = {
      {"--port", {"TODO_PORT"}, "PORT", "TCP port to listen on; 0 picks a free one (default 8000)",
       {"serve"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         int port = 0;
         if (auto e = parse_int(v, 0, 65535, port)) return e;
         c.port = static_cast<unsigned short>(port);
         return std::nullopt;
       }},
      {"--address", {"TODO_ADDRESS"}, "ADDR", "address to bind (default 0.0.0.0)", {"serve"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         if (v.empty()) return "must not be empty";
         c.address = v;
         return std::nullopt;
       }},
      {"--data-dir", {"TODO_DATA_DIR"}, "DIR", "directory of todo.db and the generated secret (default ./data)",
       {"serve", "migrate"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         if (v.empty()) return "must not be empty";
         c.data_dir = v;
         return std::nullopt;
       }},
      {"--jwt-secret", {"TODO_JWT_SECRET", "BETTER_AUTH_SECRET"}, "SECRET",
       "HS256 signing secret, at least 32 bytes (default: generated once, kept in the data dir)",
       {"serve"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         if (v.size() < kMinSecretBytes) {
           return "must be at least 32 bytes (got " + std::to_string(v.size()) + ")";
         }
         c.jwt_secret = v;
         return std::nullopt;
       }},
      {"--log-level", {"TODO_LOG_LEVEL"}, "LEVEL", "trace, debug, info, warn or error (default info)",
       {"serve", "migrate"},
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         auto level = log::parse_level(v);
         if (!level) return "must be one of trace, debug, info, warn, error";
         c.log_level = *level;
         return std::nullopt;
       }},
      {"--cors-origins", {"TODO_CORS_ORIGINS"}, "ORIGINS",
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
      {"--durability", {"TODO_DURABILITY"}, "MODE",
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
      {"--threads", {"TODO_THREADS"}, "N", "I/O threads (default: one per core)", {"serve"},
       [](Config& c, const std::string& v) { return parse_int(v, 0, 256, c.threads); }},
      {"--read-timeout", {"TODO_READ_TIMEOUT"}, "SECONDS",
       "time a client has to send one whole request (default 10)", {"serve"},
       [](Config& c, const std::string& v) { return parse_int(v, 1, 3600, c.read_timeout_seconds); }},
      {"--idle-timeout", {"TODO_IDLE_TIMEOUT"}, "SECONDS",
       "keep-alive connections without a request are closed after this (default 60)", {"serve"},
       [](Config& c, const std::string& v) { return parse_int(v, 1, 86400, c.idle_timeout_seconds); }},
      {"--login-limit-address", {"TODO_LOGIN_LIMIT_ADDRESS"}, "N",
       "login attempts allowed per client address per minute (default 30)", {"serve"},
       [](Config& c, const std::string& v) {
         return parse_int(v, 1, 1000000, c.login_limit_address);
       }},
      {"--login-limit-account", {"TODO_LOGIN_LIMIT_ACCOUNT"}, "N",
       "failed login attempts allowed per account per 15 minutes (default 10)", {"serve"},
       [](Config& c, const std::string& v) {
         return parse_int(v, 1, 1000000, c.login_limit_account);
       }},
      {"--event-retention-days", {"TODO_EVENT_RETENTION_DAYS"}, "DAYS",
       "events every consumer group has processed leave the log after this many days; replays "
       "work within it (default 7)",
       {"serve"},
       [](Config& c, const std::string& v) { return parse_int(v, 1, 36500, c.event_retention_days); }},
  };
  return kFlags;
}

const std::vector<std::pair<std::string, std::string>>& commands() {
  static const std::vector<std::pair<std::string, std::string>> kCommands = {
      {"serve", "run every service in one process on SQLite (the default)"},
      {"migrate", "create or upgrade the database schema, then exit"},
      {"version", "print the version"},
  };
  return kCommands;
}

bool applies(const Flag& f, const std::string& command) {
  for (const auto& c : f.commands) {
    if (c == command) return true;
  }
  return false;
}

}  // namespace

std::variant<Config, ConfigError> parse_config(const std::vector<std::string>& args,
                                               const Environment& env) {
  Config config;
  std::size_t i = 0;
  if (i < args.size() && !args[i].starts_with("-")) {
    config.command = args[i++];
  } else if (i < args.size() && (args[i] == "--help" || args[i] == "-h")) {
    config.command = "help";
    return config;
  } else if (i < args.size() && args[i] == "--version") {
    config.command = "version";
    return config;
  } else {
    config.command = "serve";
  }
  bool known = config.command == "help";
  for (const auto& [name, _] : commands()) known = known || name == config.command;
  if (!known) return ConfigError{"unknown command '" + config.command + "'; see todo --help"};

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
    if (arg == "--help" || arg == "-h") {
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
      return ConfigError{"unknown flag " + name + " for 'todo " + config.command +
                         "'; see todo " + config.command + " --help"};
    }
    if (!value) {
      if (i + 1 >= args.size()) return ConfigError{name + " needs a value (" + flag->value_hint + ")"};
      value = args[++i];
    }
    if (auto reason = flag->set(config, *value)) return ConfigError{name + " " + *reason};
  }
  return config;
}

std::string help_text(const std::string& command) {
  std::ostringstream out;
  if (command.empty() || command == "help") {
    out << "todo — a task manager: REST API, events, reminders, live sync and audit in one binary\n\n"
        << "Usage: todo [COMMAND] [FLAGS]\n\nCommands:\n";
    for (const auto& [name, help] : commands()) out << "  " << name << std::string(10 - name.size(), ' ') << help << "\n";
    out << "\nRun 'todo COMMAND --help' for the flags of one command.\n\nFlags (environment variable):\n";
  } else {
    for (const auto& [name, help] : commands()) {
      if (name == command) out << "todo " << name << " — " << help << "\n\n";
    }
    out << "Usage: todo " << command << " [FLAGS]\n\nFlags (environment variable):\n";
  }
  for (const Flag& f : flags()) {
    if (!command.empty() && command != "help" && !applies(f, command)) continue;
    std::string envs;
    for (const auto& e : f.env) envs += (envs.empty() ? "" : ", ") + e;
    out << "  " << f.name << " " << f.value_hint << "  (" << envs << ")\n      " << f.help << "\n";
  }
  return out.str();
}

}  // namespace todo::app
