// Frames from task-updates CloudEvents and the parsing of client messages.
#include "services/sync/frames.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace todo::services::sync {
namespace {

namespace json = boost::json;

TEST(FramesTest, TaskSyncBecomesATaskFrame) {
  auto frame = frame_from_event(
      R"({"type":"com.todo.task.sync","data":{"task_id":"t1","user_id":"u1","sequence":2,)"
      R"("user_seq":7,"action":"updated","changed_fields":{"title":"x"},"task":{"id":"t1"}}})");
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->user_id, "u1");
  EXPECT_EQ(frame->seq, 7);
  EXPECT_EQ(json::parse(frame->text),
            json::parse(R"({"type":"task.updated","seq":7,"task_id":"t1","task":{"id":"t1"},)"
                        R"("changed_fields":{"title":"x"}})"));
}

TEST(FramesTest, ADeleteHasNoTask) {
  auto frame = frame_from_event(
      R"({"type":"com.todo.task.sync","data":{"task_id":"t1","user_id":"u1","user_seq":8,)"
      R"("action":"deleted","changed_fields":{}}})");
  ASSERT_TRUE(frame);
  auto parsed = json::parse(frame->text).as_object();
  EXPECT_EQ(parsed.at("type"), "task.deleted");
  EXPECT_FALSE(parsed.contains("task"));
}

TEST(FramesTest, OtherTypesGoOutAsTheirData) {
  auto frame = frame_from_event(
      R"({"type":"com.todo.reminder.fired","data":{"task_id":"t1","user_id":"u1","title":"x"}})");
  ASSERT_TRUE(frame);
  EXPECT_FALSE(frame->seq);
  EXPECT_EQ(json::parse(frame->text),
            json::parse(R"({"type":"reminder.fired","task_id":"t1","user_id":"u1","title":"x"})"));
}

TEST(FramesTest, EventsWithoutAUserAreRefused) {
  EXPECT_FALSE(frame_from_event("not json"));
  EXPECT_FALSE(frame_from_event(R"({"type":"com.todo.task.sync","data":{"task_id":"t"}})"));
  EXPECT_FALSE(frame_from_event(R"({"type":"com.todo.task.sync","data":{"user_id":"u"}})"));
}

TEST(FramesTest, ClientMessages) {
  EXPECT_TRUE(std::holds_alternative<LegacyPing>(parse_client_message("ping")));
  EXPECT_TRUE(std::holds_alternative<Ping>(parse_client_message(R"({"type":"ping"})")));
  auto resume = parse_client_message(R"({"type":"resume","since":42})");
  ASSERT_TRUE(std::holds_alternative<Resume>(resume));
  EXPECT_EQ(std::get<Resume>(resume).since, 42);
  auto auth = parse_client_message(R"({"type":"auth","token":"abc"})");
  ASSERT_TRUE(std::holds_alternative<Auth>(auth));
  EXPECT_EQ(std::get<Auth>(auth).token, "abc");
  EXPECT_EQ(std::get<Invalid>(parse_client_message("{")).code, "invalid-json");
  EXPECT_EQ(std::get<Invalid>(parse_client_message("[]")).code, "invalid-json");
  EXPECT_EQ(std::get<Invalid>(parse_client_message(R"({"type":"nope"})")).code, "unknown-type");
  EXPECT_EQ(std::get<Invalid>(parse_client_message(R"({"type":"resume","since":-1})")).code,
            "invalid-field");
  EXPECT_EQ(std::get<Invalid>(parse_client_message(R"({"type":"resume","since":1.5})")).code,
            "invalid-field");
  EXPECT_EQ(std::get<Invalid>(parse_client_message(R"({"type":"auth"})")).code, "invalid-field");
}

}  // namespace
}  // namespace todo::services::sync
