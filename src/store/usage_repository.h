// The usage of each account against its quotas (user_usage, user_tags; migration 0008), kept by
// every task write in the same transaction. A quota is checked by the statement that moves the
// usage, so two writes racing for the last slot cannot both pass it.
#pragma once

#include <string_view>

#include "domain/error.h"
#include "domain/quota.h"
#include "store/database.h"

namespace todo::store {

class UsageRepository {
 public:
  // Moves the owner's usage by `change` in the caller's write transaction, statements only. When
  // the change would take a quota it grows beyond `limits`, writes nothing and returns
  // quota-exceeded naming that quota, its limit and the current usage.
  domain::Result<void> apply(Transaction& s, std::string_view user_id,
                             const domain::UsageChange& change,
                             const domain::QuotaLimits& limits) const;
  // The owner's usage (zero when the account has never written a task).
  domain::Usage find(Transaction& s, std::string_view user_id) const;
};

}  // namespace todo::store
