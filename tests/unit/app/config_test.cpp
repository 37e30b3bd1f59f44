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

TEST(Config, FlagsOfOtherCommandsAreRejected) {
  EXPECT_NE(parse_error({"migrate", "--port", "1"}).find("--port"), std::string::npos);
}

TEST(Config, CorsOriginsAreSplitAndTrimmed) {
  Config c = parse_ok({"serve", "--cors-origins", "http://a.example, https://b.example:8443"});
  EXPECT_EQ(c.cors_origins,
            (std::vector<std::string>{"http://a.example", "https://b.example:8443"}));
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

}  // namespace
}  // namespace todo::app
