// Fan-out by user and the replay/live seam of each connection.
#include "services/sync/hub.h"

#include <algorithm>

namespace todo::services::sync {

Connection::Connection(std::string user_id, std::shared_ptr<http::WebSocketSink> sink,
                       std::size_t max_held_frames)
    : user_id_(std::move(user_id)), sink_(std::move(sink)), max_held_frames_(max_held_frames) {}

bool Connection::send_locked(const Frame& frame) {
  if (frame.seq) {
    if (last_seq_ && *frame.seq <= *last_seq_) return false;  // already sent (the seam)
    last_seq_ = frame.seq;
  }
  sink_->send(frame.text);
  return true;
}

bool Connection::deliver(const Frame& frame) {
  std::lock_guard lock(mutex_);
  if (overflowed_) return false;
  if (!holding_) return send_locked(frame);
  if (held_.size() >= max_held_frames_) {
    // Catching up takes longer than the client's queue could have absorbed: it resumes.
    overflowed_ = true;
    held_.clear();
    sink_->close(http::close_codes::kSlowConsumer,
                 "slow consumer: too many changes while catching up");
    return false;
  }
  held_.push_back(frame);
  return false;
}

void Connection::hold() {
  std::lock_guard lock(mutex_);
  holding_ = true;
}

std::size_t Connection::release(std::optional<std::int64_t> since, std::optional<std::string> first,
                                const std::vector<Frame>& replayed) {
  std::lock_guard lock(mutex_);
  if (overflowed_) return 0;
  std::size_t sent = 0;
  // A resume rewinds the connection to the client's position (docs/adr/0014-live-sync.md).
  if (since) last_seq_ = since;
  if (first) {
    sink_->send(std::move(*first));
    ++sent;
  }
  for (const Frame& frame : replayed) sent += send_locked(frame) ? 1 : 0;
  for (const Frame& frame : held_) sent += send_locked(frame) ? 1 : 0;
  std::vector<Frame>().swap(held_);  // give the memory back: most connections never hold again
  holding_ = false;
  return sent;
}

void Connection::send_control(std::string text) {
  std::lock_guard lock(mutex_);
  if (overflowed_) return;
  sink_->send(std::move(text));
}

std::optional<std::int64_t> Connection::last_seq() const {
  std::lock_guard lock(mutex_);
  return last_seq_;
}

Hub::Admission Hub::admit(const std::string& user_id) {
  std::lock_guard lock(mutex_);
  if (admitted_ >= limits_.max_connections) return Admission::kServerFull;
  auto& mine = admitted_per_user_[user_id];
  if (mine >= limits_.max_connections_per_user) return Admission::kUserFull;
  ++mine;
  ++admitted_;
  return Admission::kAdmitted;
}

void Hub::release(const std::string& user_id) {
  std::lock_guard lock(mutex_);
  auto it = admitted_per_user_.find(user_id);
  if (it == admitted_per_user_.end()) return;
  --admitted_;
  if (--it->second == 0) admitted_per_user_.erase(it);
}

void Hub::add(const std::shared_ptr<Connection>& connection) {
  std::lock_guard lock(mutex_);
  by_user_[connection->user_id()].push_back(connection);
}

void Hub::remove(const std::shared_ptr<Connection>& connection) {
  std::lock_guard lock(mutex_);
  auto it = by_user_.find(connection->user_id());
  if (it == by_user_.end()) return;
  std::erase(it->second, connection);
  if (it->second.empty()) by_user_.erase(it);
}

std::size_t Hub::publish(const Frame& frame) {
  std::vector<std::shared_ptr<Connection>> targets;
  {
    std::lock_guard lock(mutex_);
    auto it = by_user_.find(frame.user_id);
    if (it == by_user_.end()) return 0;
    targets = it->second;
  }
  std::size_t sent = 0;
  for (const auto& connection : targets) sent += connection->deliver(frame) ? 1 : 0;
  return sent;
}

std::size_t Hub::open() const {
  std::lock_guard lock(mutex_);
  return admitted_;
}

std::size_t Hub::users() const {
  std::lock_guard lock(mutex_);
  return by_user_.size();
}

}  // namespace todo::services::sync
