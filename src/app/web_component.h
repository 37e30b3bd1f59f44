// The web app's component: serves the built app (web/dist) at "/" as the router's fallback.
#pragma once

#include "app/component.h"
#include "app/core.h"
#include "http/static_site.h"

namespace todo::app {

class WebComponent final : public Component {
 public:
  explicit WebComponent(Core& core);

 private:
  http::StaticSite site_;
};

}  // namespace todo::app
