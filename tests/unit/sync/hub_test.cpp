// The per-connection seam of live sync: frames held before the hello and during a resume, merged
// without gap or duplicate; fan-out by user only; the admission limits.
#include "services/sync/hub.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace todo::services::sync {
namespace {

class RecordingSink : public http::WebSocketSink {
 public:
  void send(std::string text) override { sent.push_back(std::move(text)); }
  void close(int code, std::string) override { closed_with = code; }
  std::vector<std::string> sent;
  int closed_with = 0;
};

Frame frame(const std::string& user, std::int64_t seq) {
  return Frame{user, seq, "f" + std::to_string(seq), {}};
}

std::vector<Frame> frames(const std::string& user, std::int64_t from, std::int64_t to) {
  std::vector<Frame> out;
  for (auto s = from; s <= to; ++s) out.push_back(frame(user, s));
  return out;
}

TEST(ConnectionTest, HoldsLiveFramesUntilTheHelloAndDropsThoseItCovers) {
  auto sink = std::make_shared<RecordingSink>();
  Connection c("u", sink, 100);
  EXPECT_FALSE(c.deliver(frame("u", 4)));  // committed before the counter was read
  EXPECT_FALSE(c.deliver(frame("u", 5)));
  EXPECT_FALSE(c.deliver(frame("u", 6)));  // committed after
  EXPECT_TRUE(sink->sent.empty());
  c.release(5, std::string("hello5"), {});
  EXPECT_EQ(sink->sent, (std::vector<std::string>{"hello5", "f6"}));
  EXPECT_TRUE(c.deliver(frame("u", 7)));
  EXPECT_FALSE(c.deliver(frame("u", 7)));  // never twice
  EXPECT_EQ(sink->sent.back(), "f7");
}

TEST(ConnectionTest, ResumeReplaysThenMergesHeldFramesWithoutGapOrDuplicate) {
  auto sink = std::make_shared<RecordingSink>();
  Connection c("u", sink, 100);
  c.release(10, std::string("hello"), {});
  sink->sent.clear();
  c.hold();
  // Live frames arriving while the log is read: 11 and 12 are also in the replay.
  c.deliver(frame("u", 11));
  c.deliver(frame("u", 12));
  c.deliver(frame("u", 13));
  c.release(7, std::nullopt, frames("u", 8, 12));
  EXPECT_EQ(sink->sent, (std::vector<std::string>{"f8", "f9", "f10", "f11", "f12", "f13"}));
  EXPECT_EQ(c.last_seq(), 13);
}

TEST(ConnectionTest, ResyncKeepsTheConnectionsPositionAndFlushesHeldFrames) {
  auto sink = std::make_shared<RecordingSink>();
  Connection c("u", sink, 100);
  c.release(3, std::string("hello"), {});
  c.hold();
  c.deliver(frame("u", 4));
  c.release(std::nullopt, std::string("resync"), {});
  EXPECT_EQ(sink->sent, (std::vector<std::string>{"hello", "resync", "f4"}));
}

TEST(ConnectionTest, FramesWithoutSeqAreNeverDropped) {
  auto sink = std::make_shared<RecordingSink>();
  Connection c("u", sink, 100);
  c.release(3, std::string("hello"), {});
  EXPECT_TRUE(c.deliver(Frame{"u", std::nullopt, "reminder", {}}));
  EXPECT_TRUE(c.deliver(Frame{"u", std::nullopt, "reminder", {}}));
  EXPECT_EQ(sink->sent.size(), 3u);
}

TEST(ConnectionTest, TooManyHeldFramesCloseAsSlowConsumer) {
  auto sink = std::make_shared<RecordingSink>();
  Connection c("u", sink, 3);
  for (int s = 1; s <= 4; ++s) c.deliver(frame("u", s));
  EXPECT_EQ(sink->closed_with, http::close_codes::kSlowConsumer);
  EXPECT_EQ(c.release(0, std::string("hello"), {}), 0u);
  EXPECT_TRUE(sink->sent.empty());
}

TEST(HubTest, PublishesToTheFramesUserOnly) {
  Hub hub(HubLimits{});
  auto a1 = std::make_shared<RecordingSink>(), a2 = std::make_shared<RecordingSink>(),
       b = std::make_shared<RecordingSink>();
  auto ca1 = std::make_shared<Connection>("a", a1, 10);
  auto ca2 = std::make_shared<Connection>("a", a2, 10);
  auto cb = std::make_shared<Connection>("b", b, 10);
  for (auto& c : {ca1, ca2, cb}) {
    hub.add(c);
    c->release(0, std::string("hello"), {});
  }
  EXPECT_EQ(hub.publish(frame("a", 1)), 2u);
  EXPECT_EQ(hub.publish(frame("c", 1)), 0u);
  EXPECT_EQ(a1->sent.back(), "f1");
  EXPECT_EQ(a2->sent.back(), "f1");
  EXPECT_EQ(b->sent, (std::vector<std::string>{"hello"}));
  hub.remove(ca1);
  EXPECT_EQ(hub.publish(frame("a", 2)), 1u);
  EXPECT_EQ(a1->sent.back(), "f1");
}

TEST(HubTest, AdmitsWithinThePerUserAndTotalLimits) {
  Hub hub(HubLimits{3, 2});
  EXPECT_EQ(hub.admit("a"), Hub::Admission::kAdmitted);
  EXPECT_EQ(hub.admit("a"), Hub::Admission::kAdmitted);
  EXPECT_EQ(hub.admit("a"), Hub::Admission::kUserFull);
  EXPECT_EQ(hub.admit("b"), Hub::Admission::kAdmitted);
  EXPECT_EQ(hub.admit("c"), Hub::Admission::kServerFull);
  hub.release("a");
  EXPECT_EQ(hub.open(), 2u);
  EXPECT_EQ(hub.admit("c"), Hub::Admission::kAdmitted);
}

}  // namespace
}  // namespace todo::services::sync
