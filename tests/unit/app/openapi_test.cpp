// /openapi.json documents exactly the routes `todo serve` serves (every component, on the log bus
// and on the Dapr bus), no more and no less.
#include "app/application.h"
#include "services/api/operations_routes.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include <stdlib.h>

namespace todo::app {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

TEST(OpenApi, DocumentsEveryRoutedOperationAndNothingElse) {
  // Routed by some configuration: the log bus's routes, and the push routes only --bus dapr adds.
  std::set<std::string> routed;
  for (auto bus : {bus::BusKind::kLog, bus::BusKind::kDapr}) {
    std::string pattern = (std::filesystem::temp_directory_path() / "todo-openapi-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    std::filesystem::path dir = pattern;
    Config config;
    config.data_dir = dir;
    config.jwt_secret = std::string(32, 's');
    config.bus = bus;
    {
      Application app(config, every_component());
      for (const auto& route : app.router().routes()) {
        routed.insert(lower(http::to_string(route.method)) + " " + route.pattern);
      }
    }
    std::filesystem::remove_all(dir);
  }
  EXPECT_TRUE(routed.count("get /dapr/subscribe")) << "the Dapr bus routes its subscriptions";

  auto doc = boost::json::parse(services::api::openapi_document()).as_object();
  EXPECT_TRUE(doc.at("openapi").as_string().starts_with("3.1"));
  std::set<std::string> documented;
  for (const auto& [path, item] : doc.at("paths").as_object()) {
    for (const auto& [method, op] : item.as_object()) {
      if (method == "parameters" || method == "summary" || method == "description") continue;
      documented.insert(std::string(method) + " " + std::string(path));
      EXPECT_TRUE(op.as_object().contains("responses")) << method << " " << path;
    }
  }
  for (const auto& r : routed) EXPECT_TRUE(documented.count(r)) << "undocumented route: " << r;
  for (const auto& d : documented) EXPECT_TRUE(routed.count(d)) << "documented but not routed: " << d;
}

}  // namespace
}  // namespace todo::app
