// The store tests' PostgreSQL server itself: a gtest death-test child (which re-executes this
// binary) joins its parent's server rather than starting one of its own.
#include "postgres_test_server.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace todo::store::testing {
namespace {

TEST(PostgresTestServer, ADeathTestChildJoinsItsParentsServer) {
  // Set by the parent only (the child inherits it): the parent's server, as the child must see it.
  ::setenv("TODO_TEST_PG_PARENT_URL", PostgresTestServer::instance().admin_url().c_str(),
           /*overwrite=*/0);
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(::_exit(PostgresTestServer::instance().admin_url() ==
                              std::string(::getenv("TODO_TEST_PG_PARENT_URL"))
                          ? 0
                          : 1),
              ::testing::ExitedWithCode(0), "");
  ::unsetenv("TODO_TEST_PG_PARENT_URL");
}

}  // namespace
}  // namespace todo::store::testing
