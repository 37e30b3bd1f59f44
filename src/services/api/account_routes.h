// HTTP routes of accounts (/api/auth/*, /api/me): JSON in, AccountService, JSON out.
#pragma once

#include "http/router.h"
#include "services/api/account_service.h"
#include "services/api/authenticator.h"

namespace todo::services::api {

void add_account_routes(http::Router& router, AccountService& accounts,
                        const Authenticator& authenticator);

}  // namespace todo::services::api
