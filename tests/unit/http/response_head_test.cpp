// The server writes a response's head itself (one gather write with the body): the bytes must be
// exactly those Beast's serializer writes for the same message, whatever its fields.
#include "http/response_head.h"

#include <gtest/gtest.h>

#include <boost/beast/http/write.hpp>

#include <sstream>
#include <string>

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

}  // namespace
}  // namespace todo::http
