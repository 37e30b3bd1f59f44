// json_object_problem: the same verdict as building the document with boost::json::parse (what
// the consumer runtime did before), with the same message, on payloads of every kind.
#include "bus/json_check.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <random>
#include <string>
#include <vector>

namespace todo::bus {
namespace {

// The old check, the reference.
std::optional<std::string> by_parsing(std::string_view payload) {
  boost::system::error_code ec;
  const auto parsed = boost::json::parse(payload, ec);
  if (ec) return "the event is not JSON: " + ec.message();
  if (!parsed.is_object()) return std::string("the event is not a JSON object");
  return std::nullopt;
}

TEST(JsonCheck, AnObjectPassesAndEverythingElseIsNamed) {
  EXPECT_EQ(json_object_problem(R"({"specversion":"1.0","data":{"a":[1,2.5,-3e2,true,null]}})"),
            std::nullopt);
  EXPECT_EQ(json_object_problem(" \n{} \t"), std::nullopt);
  EXPECT_EQ(json_object_problem("[1,2]"), "the event is not a JSON object");
  EXPECT_EQ(json_object_problem(R"("text")"), "the event is not a JSON object");
  EXPECT_EQ(json_object_problem("42"), "the event is not a JSON object");
  EXPECT_EQ(json_object_problem("null"), "the event is not a JSON object");
  for (const char* broken : {"", "{", "{} {}", "{}x", "{'a':1}", "{\"a\":1,}", "{\"a\" 1}",
                             "{\"a\":\"\xff\"}", "{\"a\":01}", "{/*c*/}", "nul"}) {
    const auto problem = json_object_problem(broken);
    ASSERT_TRUE(problem.has_value()) << broken;
    EXPECT_EQ(problem->rfind("the event is not JSON: ", 0), 0u) << *problem;
    EXPECT_EQ(problem, by_parsing(broken)) << broken;
  }
  // Deeper than boost::json::parse's default of 32 levels: refused the same way.
  const std::string deep = std::string(40, '[') + std::string(40, ']');
  EXPECT_EQ(json_object_problem("{\"a\":" + deep + "}"), by_parsing("{\"a\":" + deep + "}"));
  EXPECT_TRUE(json_object_problem("{\"a\":" + deep + "}").has_value());
}

// Random payloads from pieces of JSON and of broken JSON, and random mutations of real events:
// the verdict and the message are those of boost::json::parse.
TEST(JsonCheck, AgreesWithBuildingTheDocumentOnRandomPayloads) {
  std::mt19937 random(20261207);
  const std::vector<std::string> pieces = {
      "{", "}", "[", "]", ",", ":", "\"k\"", "\"v\\n\\u00e9\"", "1", "-0.5e3", "true", "null",
      " ", "\n", "\"\xc3\xa9\"", "\"\xc3\"", "/", "*", "x", "\"", "\\", "01", "1e", "{}", "[]"};
  const std::string event =
      R"({"specversion":"1.0","id":"0191","type":"com.todo.task.created","data":)"
      R"({"task_id":"t1","tags":["a","b"],"due":null,"n":[1,2.5,-3]}})";
  int objects = 0;
  for (int n = 0; n < 30000; ++n) {
    std::string payload;
    if (random() % 2 == 0) {
      const int count = static_cast<int>(random() % 10);
      for (int i = 0; i < count; ++i) payload += pieces[random() % pieces.size()];
    } else {
      payload = event;
      const int edits = static_cast<int>(random() % 3);
      for (int i = 0; i < edits; ++i) {
        const std::size_t at = random() % (payload.size() + 1);
        switch (random() % 3) {
          case 0: payload.insert(at, pieces[random() % pieces.size()]); break;
          case 1: if (at < payload.size()) payload.erase(at, 1); break;
          default: if (at < payload.size()) payload[at] = static_cast<char>(random() % 256);
        }
      }
    }
    const auto expected = by_parsing(payload);
    objects += expected ? 0 : 1;
    ASSERT_EQ(json_object_problem(payload), expected) << payload;
  }
  EXPECT_GT(objects, 1000);  // both verdicts were compared often
}

}  // namespace
}  // namespace todo::bus
