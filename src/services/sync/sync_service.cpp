// The /ws/tasks handshake, the session callbacks, the fan-out and the worker of the sync service.
#include "services/sync/sync_service.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <sstream>

#include "http/problem.h"
#include "log/log.h"

namespace todo::services::sync {
namespace {

constexpr std::array<double, 12> kLatencyBuckets = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02,
                                                    0.05,   0.1,   0.25,  0.5,   1.0,  2.5};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Where the token came from decides the subprotocol echoed.
struct Presented {
  std::string token;
  bool subprotocol = false;
};

// ?token=, then `Sec-WebSocket-Protocol: bearer, <token>` (browsers cannot set headers), then
// `Authorization: Bearer <token>`.
std::optional<Presented> presented_token(const http::Request& request) {
  if (auto token = request.query_param("token"); token && !token->empty()) {
    return Presented{std::string(*token), false};
  }
  if (auto protocols = request.header("sec-websocket-protocol")) {
    std::string_view list = *protocols;
    auto comma = list.find(',');
    if (comma != std::string_view::npos && lower(trim(list.substr(0, comma))) == "bearer") {
      auto token = trim(list.substr(comma + 1));
      if (auto next = token.find(','); next != std::string_view::npos)
        token = trim(token.substr(0, next));
      if (!token.empty()) return Presented{std::string(token), true};
    }
  }
  if (auto header = request.header("authorization")) {
    std::string_view value = trim(*header);
    if (value.size() > 7 && lower(value.substr(0, 7)) == "bearer ") {
      auto token = trim(value.substr(7));
      if (!token.empty()) return Presented{std::string(token), false};
    }
  }
  return std::nullopt;
}

// Cross-site WebSocket hijacking: a browser always sends Origin, so a page of another site is
// refused. Clients that are not browsers send none and are let through (their token decides).
bool origin_allowed(const http::Request& request, const std::vector<std::string>& allowed) {
  auto origin = request.header("origin");
  if (!origin) return true;
  if (std::find(allowed.begin(), allowed.end(), *origin) != allowed.end()) return true;
  auto host = request.header("host");
  if (!host) return false;
  return *origin == "http://" + std::string(*host) || *origin == "https://" + std::string(*host);
}

std::string close_reason_label(int code) {
  switch (code) {
    case kTokenExpiredCode:
      return "token_expired";
    case http::close_codes::kSlowConsumer:
      return "slow_consumer";
    case http::close_codes::kTooBig:
      return "message_too_big";
    case http::close_codes::kUnsupportedData:
      return "binary_frame";
    case http::close_codes::kPolicy:
      return "policy";
    case http::close_codes::kGoingAway:
      return "going_away";
    case http::close_codes::kAbnormal:
      return "abnormal";
    case 1013:
      return "overloaded";
    default:
      return "closed";
  }
}

}  // namespace

std::string consumer_group(std::string_view instance_id) {
  return "sync-service-" + std::string(instance_id);
}

// One session's state, shared by its callbacks.
struct SyncService::Client {
  std::string user_id;
  std::mutex mutex;
  std::shared_ptr<Connection> connection;  // after on_open
  scheduler::TimerId expiry = 0;
  bool closed = false;
};

SyncService::SyncService(store::Database& database, const auth::JwtCodec& jwt,
                         const domain::Clock& clock, SyncOptions options)
    : database_(database),
      jwt_(jwt),
      clock_(clock),
      options_(std::move(options)),
      hub_(options_.limits),
      log_(database_, options_.max_replay_frames),
      timers_(clock, scheduler::SchedulerOptions{std::chrono::milliseconds(200)}),
      latency_buckets_(kLatencyBuckets.size(), 0) {}

SyncService::~SyncService() { stop(); }

void SyncService::start() {
  {
    std::lock_guard lock(jobs_mutex_);
    if (worker_.joinable()) return;
    stopping_ = false;
  }
  worker_ = std::thread([this] { work(); });
  timers_.start();
}

void SyncService::stop() {
  {
    std::lock_guard lock(jobs_mutex_);
    stopping_ = true;
    jobs_.clear();
  }
  jobs_ready_.notify_all();
  if (worker_.joinable()) worker_.join();
  timers_.stop();
}

bool SyncService::post(std::function<void()> job) {
  {
    std::lock_guard lock(jobs_mutex_);
    if (stopping_ || jobs_.size() >= options_.worker_queue_limit) return false;
    jobs_.push_back(std::move(job));
  }
  jobs_ready_.notify_one();
  return true;
}

void SyncService::work() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(jobs_mutex_);
      jobs_ready_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    try {
      job();
    } catch (const std::exception& e) {
      log::error("sync job failed", {{"error", e.what()}});
    }
  }
}

http::WebSocketHandler SyncService::handler() {
  return [this](http::Request& request) { return upgrade(request); };
}

std::variant<http::Response, http::WebSocketSession> SyncService::upgrade(http::Request& request) {
  using domain::ErrorCode;
  if (!origin_allowed(request, options_.allowed_origins)) {
    return http::problem_response(
        domain::make_error(
            ErrorCode::kForbidden,
            "origin: this origin may not open a WebSocket here (see --cors-origins)"),
        request.path);
  }
  auto presented = presented_token(request);
  if (!presented) {
    return http::problem_response(
        domain::make_error(ErrorCode::kTokenMissing,
                           "Send an access token: ?token=<token>, the subprotocols "
                           "`bearer, <token>`, or Authorization: Bearer <token>."),
        request.path);
  }
  auto claims = jwt_.verify(presented->token);
  if (!claims) return http::problem_response(claims.error(), request.path);

  const std::string user_id = claims->sub;
  switch (hub_.admit(user_id)) {
    case Hub::Admission::kAdmitted:
      break;
    case Hub::Admission::kUserFull: {
      auto error = domain::make_error(ErrorCode::kRateLimited,
                                      "This account has " +
                                          std::to_string(options_.limits.max_connections_per_user) +
                                          " open WebSocket connections; close one first.");
      error.retry_after_seconds = 5;
      return http::problem_response(error, request.path);
    }
    case Hub::Admission::kServerFull:
      return http::problem_response(
          domain::make_error(ErrorCode::kOverloaded,
                             "The server holds " + std::to_string(options_.limits.max_connections) +
                                 " WebSocket connections; retry later."),
          request.path);
  }

  auto client = std::make_shared<Client>();
  client->user_id = user_id;
  http::WebSocketSession session;
  if (presented->subprotocol) session.subprotocol = "bearer";
  const std::int64_t exp = claims->exp;
  session.on_open = [this, client, exp](std::shared_ptr<http::WebSocketSink> sink) {
    arm_expiry(client, exp);
    opened(client, std::move(sink));
  };
  session.on_message = [this, client](std::shared_ptr<http::WebSocketSink>, std::string_view text) {
    received(client, text);
  };
  session.on_close = [this, client](int code) { closed(client, code); };
  return session;
}

void SyncService::opened(const std::shared_ptr<Client>& client,
                         std::shared_ptr<http::WebSocketSink> sink) {
  auto connection =
      std::make_shared<Connection>(client->user_id, std::move(sink), options_.max_replay_frames);
  {
    std::lock_guard lock(client->mutex);
    if (client->closed) return;
    client->connection = connection;
  }
  // Registered before the counter is read: what commits after the read arrives live and is held
  // until the hello went out (the seam drops what the hello already covers).
  hub_.add(connection);
  const bool queued = post([this, connection] {
    const std::int64_t seq = log_.current_seq(connection->user_id());
    frames_sent_ += connection->release(seq, hello_frame(seq), {});
  });
  if (!queued) connection->sink().close(1013, "server busy; retry");
}

void SyncService::received(const std::shared_ptr<Client>& client, std::string_view text) {
  std::shared_ptr<Connection> connection;
  {
    std::lock_guard lock(client->mutex);
    connection = client->connection;
  }
  if (!connection) return;
  auto message = parse_client_message(text);
  if (std::holds_alternative<LegacyPing>(message)) {
    connection->send_control("pong");
  } else if (std::holds_alternative<Ping>(message)) {
    connection->send_control(pong_frame());
  } else if (auto* resume_message = std::get_if<Resume>(&message)) {
    resume(client, resume_message->since);
  } else if (auto* auth = std::get_if<Auth>(&message)) {
    swap_token(client, auth->token);
  } else {
    const auto& invalid = std::get<Invalid>(message);
    connection->send_control(error_frame(invalid.code, invalid.message));
  }
}

void SyncService::resume(const std::shared_ptr<Client>& client, std::int64_t since) {
  std::shared_ptr<Connection> connection;
  {
    std::lock_guard lock(client->mutex);
    connection = client->connection;
  }
  const bool queued = post([this, connection, since] {
    connection->hold();
    Replay replay = log_.since(connection->user_id(), since);
    if (replay.resync_reason) {
      frames_sent_ += connection->release(std::nullopt,
                                          resync_required_frame(since, *replay.resync_reason), {});
      return;
    }
    frames_sent_ += connection->release(since, std::nullopt, replay.frames);
  });
  if (!queued)
    connection->send_control(error_frame("overloaded", "The server is busy; resume again later."));
}

void SyncService::swap_token(const std::shared_ptr<Client>& client, const std::string& token) {
  std::shared_ptr<Connection> connection;
  {
    std::lock_guard lock(client->mutex);
    connection = client->connection;
  }
  auto claims = jwt_.verify(token);
  if (!claims) {
    const auto kind = http::problem_kind(claims.error().code);
    connection->send_control(error_frame(kind.slug, "token: " + claims.error().detail));
    return;
  }
  if (claims->sub != client->user_id) {
    connection->sink().close(http::close_codes::kPolicy, "the token belongs to another account");
    return;
  }
  arm_expiry(client, claims->exp);
  std::ostringstream ack;
  ack << R"({"type":"authenticated","exp":)" << claims->exp << '}';
  connection->send_control(ack.str());
}

void SyncService::arm_expiry(const std::shared_ptr<Client>& client, std::int64_t exp) {
  const auto when = domain::Timestamp(std::chrono::seconds(exp));
  std::weak_ptr<Client> weak = client;
  auto id = timers_.at(when, [weak] {
    auto expired = weak.lock();
    if (!expired) return;
    std::shared_ptr<Connection> connection;
    {
      std::lock_guard lock(expired->mutex);
      connection = expired->connection;
    }
    if (connection) connection->sink().close(kTokenExpiredCode, "access token expired");
  });
  scheduler::TimerId previous = 0;
  {
    std::lock_guard lock(client->mutex);
    previous = client->expiry;
    client->expiry = id;
    if (client->closed) previous = id;  // closed meanwhile: this one goes too
  }
  if (previous != 0) timers_.cancel(previous);
}

void SyncService::closed(const std::shared_ptr<Client>& client, int code) {
  std::shared_ptr<Connection> connection;
  scheduler::TimerId expiry = 0;
  {
    std::lock_guard lock(client->mutex);
    client->closed = true;
    connection = std::move(client->connection);
    expiry = client->expiry;
  }
  if (expiry != 0) timers_.cancel(expiry);
  if (connection) hub_.remove(connection);
  hub_.release(client->user_id);
  count_close(code);
}

void SyncService::handle(const bus::Event& event) {
  auto frame = frame_from_event(event.payload);
  if (!frame) {
    log::warn("task-updates event without a user skipped",
              {{"topic", event.topic}, {"offset", event.offset}, {"event_id", event.id}});
    return;
  }
  frame->time = event.published_at;
  ++events_handled_;
  const std::size_t sent = hub_.publish(*frame);
  if (sent == 0) return;
  frames_sent_ += sent;
  observe_latency(std::chrono::duration<double>(clock_.now() - event.published_at).count());
}

void SyncService::count_close(int code) {
  std::lock_guard lock(metrics_mutex_);
  ++closes_[close_reason_label(code)];
}

void SyncService::observe_latency(double seconds) {
  if (seconds < 0) seconds = 0;
  std::lock_guard lock(metrics_mutex_);
  for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
    if (seconds <= kLatencyBuckets[i]) {
      ++latency_buckets_[i];
      break;
    }
  }
  ++latency_count_;
  latency_sum_ += seconds;
}

std::string SyncService::prometheus_text() const {
  std::ostringstream out;
  out << "# HELP todo_sync_connections Open WebSocket connections of /ws/tasks.\n"
      << "# TYPE todo_sync_connections gauge\n"
      << "todo_sync_connections " << hub_.open() << '\n'
      << "# HELP todo_sync_frames_sent_total Frames queued to WebSocket clients.\n"
      << "# TYPE todo_sync_frames_sent_total counter\n"
      << "todo_sync_frames_sent_total " << frames_sent_.load() << '\n'
      << "# HELP todo_sync_events_total task-updates events fanned out.\n"
      << "# TYPE todo_sync_events_total counter\n"
      << "todo_sync_events_total " << events_handled_.load() << '\n';
  std::lock_guard lock(metrics_mutex_);
  out << "# HELP todo_sync_closes_total WebSocket connections closed, by reason.\n"
      << "# TYPE todo_sync_closes_total counter\n";
  for (const auto& [reason, count] : closes_) {
    out << "todo_sync_closes_total{reason=\"" << reason << "\"} " << count << '\n';
  }
  out << "# HELP todo_sync_fanout_seconds From an event's commit to its frames being queued.\n"
      << "# TYPE todo_sync_fanout_seconds histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
    cumulative += latency_buckets_[i];
    out << "todo_sync_fanout_seconds_bucket{le=\"" << kLatencyBuckets[i] << "\"} " << cumulative
        << '\n';
  }
  out << "todo_sync_fanout_seconds_bucket{le=\"+Inf\"} " << latency_count_ << '\n'
      << "todo_sync_fanout_seconds_sum " << latency_sum_ << '\n'
      << "todo_sync_fanout_seconds_count " << latency_count_ << '\n';
  return out.str();
}

}  // namespace todo::services::sync
