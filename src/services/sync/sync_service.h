// The sync service (DESIGN §6, ADR 0014): GET /ws/tasks pushes every change of a user to each
// open connection of that user. The handshake authenticates (token in ?token=, the
// `bearer, <token>` subprotocol or Authorization) and checks Origin and the connection limits;
// the task-updates fan-out (an ephemeral subscription) never waits for a client; hello and resume
// read the database on the service's own worker thread, never on an I/O thread; access-token
// expiry closes with 4401 on the scheduler (the injected clock).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "auth/jwt.h"
#include "bus/bus.h"
#include "domain/clock.h"
#include "http/websocket.h"
#include "scheduler/scheduler.h"
#include "services/sync/change_log.h"
#include "services/sync/hub.h"
#include "store/database.h"

namespace todo::services::sync {

inline constexpr std::string_view kRoute = "/ws/tasks";
inline constexpr int kTokenExpiredCode = 4401;

// The consumer group (subscription name) of one replica: every replica sees every update.
std::string consumer_group(std::string_view instance_id);

struct SyncOptions {
  std::vector<std::string> allowed_origins;  // exact origins; the request's own host is allowed
  HubLimits limits;
  // Frames a connection may be behind: held while catching up, replayed on resume (more missed
  // changes → resync-required). The transport's own send queue is bounded separately.
  std::size_t max_replay_frames = 1024;
  std::size_t worker_queue_limit = 10000;  // hello/resume jobs waiting; beyond → closed 1013
};

class SyncService {
 public:
  SyncService(store::Database& database, const auth::JwtCodec& jwt, const domain::Clock& clock,
              SyncOptions options);
  ~SyncService();  // stop()
  SyncService(const SyncService&) = delete;
  SyncService& operator=(const SyncService&) = delete;

  // The worker and the expiry timers. The sessions' callbacks need them: start before serving.
  void start();
  void stop();  // idempotent; sessions still open get no more hello or replay

  http::WebSocketHandler handler();
  // The task-updates fan-out (EphemeralHandler).
  void handle(const bus::Event& event);

  std::string prometheus_text() const;
  const Hub& hub() const { return hub_; }

 private:
  struct Client;
  std::variant<http::Response, http::WebSocketSession> upgrade(http::Request& request);
  void opened(const std::shared_ptr<Client>& client, std::shared_ptr<http::WebSocketSink> sink);
  void received(const std::shared_ptr<Client>& client, std::string_view text);
  void closed(const std::shared_ptr<Client>& client, int code);
  void resume(const std::shared_ptr<Client>& client, std::int64_t since);
  void swap_token(const std::shared_ptr<Client>& client, const std::string& token);
  void arm_expiry(const std::shared_ptr<Client>& client, std::int64_t exp);
  bool post(std::function<void()> job);
  void work();
  void count_close(int code);
  void observe_latency(double seconds);

  store::Database& database_;
  const auth::JwtCodec& jwt_;
  const domain::Clock& clock_;
  const SyncOptions options_;
  Hub hub_;
  ChangeLog log_;
  scheduler::Scheduler timers_;

  std::mutex jobs_mutex_;
  std::condition_variable jobs_ready_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::thread worker_;

  std::atomic<std::uint64_t> frames_sent_{0};
  std::atomic<std::uint64_t> events_handled_{0};
  mutable std::mutex metrics_mutex_;
  std::map<std::string, std::uint64_t> closes_;  // by reason
  std::vector<std::uint64_t> latency_buckets_;
  std::uint64_t latency_count_ = 0;
  double latency_sum_ = 0;
};

}  // namespace todo::services::sync
