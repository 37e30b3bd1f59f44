#include "app/web_component.h"

#include "log/log.h"

namespace todo::app {
namespace {

// The whole app is held in memory; a build is a few hundred KiB, so this only stops a wrong
// --web-dir (a home directory, say) from filling the memory.
constexpr std::size_t kMaxWebBytes = 64 * 1024 * 1024;

}  // namespace

WebComponent::WebComponent(Core& core)
    : site_(http::StaticSite::load(core.config.web_dir, kMaxWebBytes)) {
  if (site_.built()) {
    log::info("serving the web app", {{"dir", site_.root().string()},
                                      {"files", static_cast<std::uint64_t>(site_.file_count())}});
  } else {
    log::warn("the web app is not built; / says so, the API works",
              {{"dir", site_.root().string()}});
  }
  core.router.set_fallback(http::Executor::kInline, [this](http::Request& request) {
    http::Response response = site_.serve(request);
    // Metrics count the app's files as one route; unknown paths stay "unmatched".
    if (response.status != 404) request.route = "web";
    return response;
  });
}

std::unique_ptr<Component> make_web_component(Core& core) {
  return std::make_unique<WebComponent>(core);
}

}  // namespace todo::app
