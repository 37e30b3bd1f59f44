// The `todo` command line: parse and validate the configuration, then run one command.
#include "app/commands.h"
#include "app/component.h"
#include "app/config.h"
#include "app/operator_commands.h"
#include "log/log.h"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <iostream>
#include <map>

int main(int argc, char** argv) {
  using namespace todo;
  std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed = app::parse_config(args, [](const char* name) { return std::getenv(name); });
  if (auto* error = std::get_if<app::ConfigError>(&parsed)) {
    std::cerr << "todo: " << error->message << "\n";
    return 2;
  }
  const auto& config = std::get<app::Config>(parsed);
  if (config.command == "help" || config.help) {
    std::cout << app::help_text(config.command == "help" ? "" : config.command);
    return 0;
  }
  if (config.command == "version") {
    std::cout << "todo " << TODO_VERSION << "\n";
    return 0;
  }
  log::set_level(config.log_level);
  // The operator commands answer a person at a terminal: their errors are one plain line.
  static const std::map<std::string, std::function<int(const app::Config&)>> kOperatorCommands = {
      {"events", app::run_events},
      {"dlq list", app::run_dlq_list},
      {"dlq replay", app::run_dlq_replay},
      {"admin set-role", app::run_admin_set_role},
  };
  if (auto it = kOperatorCommands.find(config.command); it != kOperatorCommands.end()) {
    try {
      int code = it->second(config);
      log::flush();
      return code;
    } catch (const std::exception& e) {
      log::flush();
      std::cerr << "todo: " << config.command << " failed: " << e.what() << "\n";
      return 1;
    }
  }
  try {
    int code = config.command == "migrate" ? app::run_migrate(config) : app::run_serve(config);
    log::flush();
    return code;
  } catch (const app::StartupError& e) {
    log::flush();
    std::cerr << "todo: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    log::error("fatal", {{"command", config.command}, {"error", e.what()}});
    return 1;
  }
}
