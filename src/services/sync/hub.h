// The connections of the sync service, by user, and the per-connection order of frames: what
// arrives live while the connection is catching up (before hello, during a resume) is held and
// merged at the seam — frames with a seq at or below the last one sent are dropped, so a
// connection sees its user's seq strictly increasing and without gaps. Nothing here blocks: a
// frame is queued on the connection's sink, which closes a client that falls behind.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "http/websocket.h"
#include "services/sync/frames.h"

namespace todo::services::sync {

class Connection {
 public:
  Connection(std::string user_id, std::shared_ptr<http::WebSocketSink> sink,
             std::size_t max_held_frames);

  const std::string& user_id() const { return user_id_; }
  http::WebSocketSink& sink() { return *sink_; }

  // A live frame of this user: sent now, or held while catching up. Returns true when sent.
  bool deliver(const Frame& frame);
  // Starts catching up: live frames are held from now on.
  void hold();
  // The seam. `since` is where the client stands (nullopt: where the connection stands);
  // `first` is sent first (the hello, a resync-required), then `replayed` (the frames after
  // `since`, ascending), then the held frames newer than the last one sent, and the connection is
  // live again. Returns the frames sent.
  std::size_t release(std::optional<std::int64_t> since, std::optional<std::string> first,
                      const std::vector<Frame>& replayed);
  // Sends a control frame (pong, error, resync-required) in order with the others.
  void send_control(std::string text);
  std::optional<std::int64_t> last_seq() const;

 private:
  bool send_locked(const Frame& frame);  // mutex_ held

  const std::string user_id_;
  const std::shared_ptr<http::WebSocketSink> sink_;
  const std::size_t max_held_frames_;
  mutable std::mutex mutex_;
  bool holding_ = true;  // until the hello
  bool overflowed_ = false;
  std::optional<std::int64_t> last_seq_;
  std::vector<Frame> held_;  // not a deque: an empty deque costs ~600 bytes per connection
};

struct HubLimits {
  std::size_t max_connections = 10000;
  std::size_t max_connections_per_user = 32;
};

class Hub {
 public:
  explicit Hub(HubLimits limits) : limits_(limits) {}

  enum class Admission { kAdmitted, kUserFull, kServerFull };
  // Counts a connection in before its handshake completes; release() once it ended.
  Admission admit(const std::string& user_id);
  void release(const std::string& user_id);

  void add(const std::shared_ptr<Connection>& connection);
  void remove(const std::shared_ptr<Connection>& connection);

  // Every connection of the frame's user; returns how many frames went out (held ones not).
  std::size_t publish(const Frame& frame);

  std::size_t open() const;  // admitted connections
  std::size_t users() const;
  const HubLimits& limits() const { return limits_; }

 private:
  const HubLimits limits_;
  mutable std::mutex mutex_;
  std::size_t admitted_ = 0;
  std::map<std::string, std::size_t, std::less<>> admitted_per_user_;
  std::map<std::string, std::vector<std::shared_ptr<Connection>>, std::less<>> by_user_;
};

}  // namespace todo::services::sync
