// Rendering of problem+json: fields, headers, and a distinct slug for every error code.
#include "http/problem.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <set>

namespace todo::http {
namespace {

using domain::ErrorCode;

TEST(Problem, RendersAllMembersAndFieldErrors) {
  auto error = domain::validation_error({{"email", "is required"}, {"password", "is too short"}});
  Response res = problem_response(error, "/api/auth/register");
  EXPECT_EQ(res.status, 422);
  EXPECT_EQ(res.header("content-type"), "application/problem+json");
  auto body = boost::json::parse(res.body).as_object();
  EXPECT_EQ(body.at("type").as_string(), "validation-error");
  EXPECT_EQ(body.at("status").as_int64(), 422);
  EXPECT_EQ(body.at("instance").as_string(), "/api/auth/register");
  EXPECT_FALSE(body.at("title").as_string().empty());
  EXPECT_FALSE(body.at("detail").as_string().empty());
  const auto& errors = body.at("errors").as_array();
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].at("field").as_string(), "email");
  EXPECT_EQ(errors[1].at("reason").as_string(), "is too short");
}

TEST(Problem, OmitsErrorsWhenThereAreNoFieldErrors) {
  Response res = problem_response(domain::make_error(ErrorCode::kTaskNotFound, "gone"), "/x");
  auto body = boost::json::parse(res.body).as_object();
  EXPECT_FALSE(body.contains("errors"));
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(body.at("detail").as_string(), "gone");
}

TEST(Problem, RateLimitCarriesRetryAfter) {
  auto error = domain::make_error(ErrorCode::kRateLimited, "slow down");
  error.retry_after_seconds = 42;
  Response res = problem_response(error, "/api/auth/login");
  EXPECT_EQ(res.status, 429);
  EXPECT_EQ(res.header("retry-after"), "42");
}

TEST(Problem, EveryServiceUnavailableCarriesRetryAfter) {
  for (ErrorCode code : {ErrorCode::kOverloaded, ErrorCode::kUnavailable}) {
    Response res = problem_response(domain::make_error(code, "busy"), "/api/tasks");
    EXPECT_EQ(res.status, 503);
    EXPECT_EQ(res.header("retry-after"), "1");
  }
  auto later = domain::make_error(ErrorCode::kOverloaded, "busy");
  later.retry_after_seconds = 5;
  EXPECT_EQ(problem_response(later, "/api/tasks").header("retry-after"), "5");
  // Other statuses get none unless the error says so.
  EXPECT_FALSE(
      problem_response(domain::make_error(ErrorCode::kInternal, "bug"), "/x").header("retry-after"));
}

TEST(Problem, MissingTokenAsksForBearer) {
  Response res = problem_response(domain::make_error(ErrorCode::kTokenMissing, ""), "/api/me");
  EXPECT_EQ(res.status, 401);
  EXPECT_EQ(res.header("www-authenticate"), "Bearer");
}

TEST(Problem, EveryCodeHasItsOwnSlug) {
  std::set<std::string_view> slugs;
  int count = 0;
  for (int c = 0; c <= static_cast<int>(ErrorCode::kInternal); ++c) {
    auto kind = problem_kind(static_cast<ErrorCode>(c));
    EXPECT_GE(kind.status, 400);
    EXPECT_LT(kind.status, 600);
    slugs.insert(kind.slug);
    ++count;
  }
  EXPECT_EQ(slugs.size(), static_cast<std::size_t>(count));
}

}  // namespace
}  // namespace todo::http
