// The server writes a response's head itself (one gather write with the body): the bytes must be
// exactly those Beast's serializer writes for the same message, whatever its fields.
#include "http/response_head.h"

#include <gtest/gtest.h>

#include <boost/beast/http/write.hpp>

#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace todo::http {
namespace {

namespace bhttp = boost::beast::http;
using Message = bhttp::response<bhttp::string_body>;

std::string by_beast(const Message& m) {
  std::ostringstream out;
  out << m;
  return out.str();
}

std::string by_us(const Message& m) { return detail::response_head(m) + m.body(); }

Message with(int status, std::string body) {
  Message m{static_cast<bhttp::status>(status), 11};
  m.set(bhttp::field::server, "todo");
  m.body() = std::move(body);
  return m;
}

TEST(ResponseHead, IsWhatBeastWritesForAnOrdinaryResponse) {
  Message m = with(200, R"({"status":"ok"})");
  m.set("content-type", "application/json");
  m.set("x-request-id", "0123456789abcdef");
  m.prepare_payload();
  m.keep_alive(true);
  EXPECT_EQ(by_us(m), by_beast(m));
  EXPECT_EQ(by_us(m).substr(0, 17), "HTTP/1.1 200 OK\r\n");
}

TEST(ResponseHead, KeepsTheOrderOfReplacedFieldsAndTheConnectionClose) {
  Message m = with(404, "{}");
  m.set("vary", "Origin");
  m.set("content-type", "application/problem+json");
  m.set("vary", "Accept");  // replaced: moves to the end, as Beast does
  m.set("content-length", "999");
  m.prepare_payload();  // Content-Length replaces the lower-case one
  m.keep_alive(false);
  EXPECT_EQ(by_us(m), by_beast(m));
  EXPECT_NE(by_us(m).find("Connection: close\r\n"), std::string::npos);
}

TEST(ResponseHead, HeadResponsesAndStatusesWithoutABody) {
  Message head = with(200, "");
  head.content_length(1234);
  EXPECT_EQ(by_us(head), by_beast(head));
  Message no_content = with(204, "");
  no_content.prepare_payload();
  EXPECT_EQ(by_us(no_content), by_beast(no_content));
  Message not_modified = with(304, "");
  not_modified.set("etag", "\"v3\"");
  not_modified.prepare_payload();
  EXPECT_EQ(by_us(not_modified), by_beast(not_modified));
}

TEST(ResponseHead, StatusesWithoutAStandardReasonAndHttp10) {
  for (int status : {101, 299, 429, 503, 599}) {
    Message m = with(status, "x");
    m.prepare_payload();
    EXPECT_EQ(by_us(m), by_beast(m)) << status;
  }
  Message old{bhttp::status::ok, 10};
  old.body() = "hello";
  old.prepare_payload();
  old.keep_alive(true);
  EXPECT_EQ(by_us(old), by_beast(old));
  EXPECT_EQ(by_us(old).substr(0, 9), "HTTP/1.0 ");
}

// The server writes the head straight from its Response; beast_message() is the message it used to
// build for that, and Beast's serializer the reference. Random responses: statuses with and
// without a body, fields set twice in different cases, fields Beast itself sets or edits, HEAD
// requests and connections that end.
TEST(ResponseHead, FromTheResponseIsWhatBeastWritesForTheMessageItUsedToBuild) {
  std::mt19937 random(20261207);
  const std::vector<std::string> names = {
      "content-type", "Content-Type", "etag", "vary", "VARY", "server", "Server", "content-length",
      "Content-Length", "x-request-id", "location", "cache-control", "retry-after", "connection",
      "Connection", "transfer-encoding", "idempotent-replayed", "x-custom"};
  const std::vector<std::string> values = {"", "application/json", "close", "keep-alive",
                                           "chunked", "\"v3\"", "1", "text/html; charset=utf-8",
                                           "a, b", std::string(300, 'x')};
  const std::vector<int> statuses = {100, 101, 200, 201, 204, 299, 301, 304, 400, 404, 408,
                                     429, 500, 503, 599};
  const std::vector<std::string> bodies = {"", "{}", R"({"status":"ok"})", std::string(5000, 'b')};
  int compared = 0;
  for (int n = 0; n < 5000; ++n) {
    Response response;
    response.status = statuses[random() % statuses.size()];
    response.body = bodies[random() % bodies.size()];
    const int fields = static_cast<int>(random() % 8);
    for (int i = 0; i < fields; ++i) {
      response.headers.push_back(
          Header{names[random() % names.size()], values[random() % values.size()]});
    }
    const bool keep_alive = random() % 2 == 0;
    const bool head_request = random() % 4 == 0;
    std::string expected;
    bool beast_refused = false;
    try {
      expected = by_beast(detail::beast_message(response, keep_alive, head_request));
    } catch (const std::exception&) {
      beast_refused = true;
    }
    if (beast_refused) {
      EXPECT_ANY_THROW(detail::response_head(response, keep_alive, head_request));
      continue;
    }
    ++compared;
    const std::string ours = detail::response_head(response, keep_alive, head_request) +
                             (head_request ? "" : response.body);
    ASSERT_EQ(ours, expected) << "status " << response.status << ", keep-alive " << keep_alive
                              << ", HEAD " << head_request;
  }
  EXPECT_GT(compared, 3500);
}

}  // namespace
}  // namespace todo::http
