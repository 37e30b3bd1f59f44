// JSON-lines logger writing to stderr with one write(2) per line.
#include "log/log.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <cstdio>
#include <ctime>
#include <string>
#include <utility>
#include <unistd.h>

namespace todo::log {
namespace {

std::atomic<Level> g_level{Level::kInfo};

void write_all(std::string_view text) {
  while (!text.empty()) {
    ssize_t n = ::write(STDERR_FILENO, text.data(), text.size());
    if (n <= 0) return;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Lines below warn are buffered and written by a background thread every 20 ms (or at 64 KiB), so
// the access log costs no system call per request; warnings and errors are written at once,
// after everything buffered before them. flush() runs at exit.
class Sink {
 public:
  Sink() : thread_([this] { run(); }) {}
  ~Sink() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
    flush();
  }
  void add(std::string_view line, bool urgent) {
    std::lock_guard lock(mutex_);
    pending_ += line;
    if (urgent) {
      write_all(pending_);
      pending_.clear();
    } else if (pending_.size() >= kFlushBytes) {
      wake_.notify_one();
    }
  }
  void flush() {
    std::lock_guard lock(mutex_);
    write_all(pending_);
    pending_.clear();
  }

 private:
  static constexpr std::size_t kFlushBytes = 64 * 1024;
  void run() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      wake_.wait_for(lock, std::chrono::milliseconds(20));
      write_all(pending_);
      pending_.clear();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::string pending_;
  bool stopping_ = false;
  std::thread thread_;
};

Sink& sink() {
  static Sink instance;
  return instance;
}

void append_escaped(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
}

std::string_view level_name(Level level) {
  switch (level) {
    case Level::kTrace: return "trace";
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

void append_timestamp(std::string& out) {
  using namespace std::chrono;
  auto now = system_clock::now();
  auto secs = system_clock::to_time_t(now);
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  out += buf;
}

}  // namespace

std::optional<Level> parse_level(std::string_view text) {
  for (Level l : {Level::kTrace, Level::kDebug, Level::kInfo, Level::kWarn, Level::kError}) {
    if (level_name(l) == text) return l;
  }
  return std::nullopt;
}

void set_level(Level level) { g_level.store(level, std::memory_order_relaxed); }

bool enabled(Level level) { return level >= g_level.load(std::memory_order_relaxed); }

void write(Level level, std::string_view msg, std::initializer_list<Field> fields) {
  std::string line;
  line.reserve(160);
  line += "{\"ts\":\"";
  append_timestamp(line);
  line += "\",\"level\":\"";
  line += level_name(level);
  line += "\",\"msg\":\"";
  append_escaped(line, msg);
  line += '"';
  for (const Field& f : fields) {
    line += ",\"";
    append_escaped(line, f.key);
    line += "\":";
    if (auto* s = std::get_if<std::string_view>(&f.value)) {
      line += '"';
      append_escaped(line, *s);
      line += '"';
    } else if (auto* i = std::get_if<std::int64_t>(&f.value)) {
      line += std::to_string(*i);
    } else if (auto* d = std::get_if<double>(&f.value)) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.3f", *d);
      line += buf;
    } else {
      line += std::get<bool>(f.value) ? "true" : "false";
    }
  }
  line += "}\n";
  sink().add(line, level >= Level::kWarn);
}

void flush() { sink().flush(); }

std::uint64_t Recurring::occurred() {
  std::lock_guard lock(mutex_);
  ++count_;
  auto now = std::chrono::steady_clock::now();
  if (logged_ && now - last_ < interval_) return 0;
  logged_ = true;
  last_ = now;
  return std::exchange(count_, 0);
}

}  // namespace todo::log
