// The account that owns the tasks in the task and recurring unit tests, stored in the database.
#pragma once

#include "domain/clock.h"
#include "domain/user.h"
#include "store/database.h"
#include "store/user_repository.h"

namespace todo::testing {

inline domain::User insert_task_owner(store::Database& database, domain::Timestamp created_at) {
  domain::User owner;
  owner.id = "01900000-0000-7000-8000-000000000001";
  owner.email = "owner@example.com";
  owner.password_hash = "x";
  owner.created_at = created_at;
  database.write([&](store::Transaction& tx) { store::UserRepository{}.insert(tx, owner); });
  return owner;
}

}  // namespace todo::testing
