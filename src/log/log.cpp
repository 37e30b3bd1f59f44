// JSON-lines logger writing to stderr through a bounded, non-blocking sink (log/sink.h).
#include "log/log.h"

#include "log/sink.h"

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>

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

void write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

constexpr std::size_t kFlushBytes = 64 * 1024;
constexpr std::size_t kSinkCapacity = 4 * 1024 * 1024;

}  // namespace

// Lines are buffered and written by a background thread 20 ms after the first of them (or at
// 64 KiB, or at once for a warning or error), so the access log costs no system call per request
// and no I/O thread ever waits for stderr or for a lock: lines go onto a lock-free queue (a
// Treiber stack the writer takes whole and reverses, so lines keep the order they were added in).
// With nothing to write the thread sleeps until a line comes: an idle server does not wake for it.
struct Sink::Line {
  Line* next;
  std::size_t size;
  char* text() { return reinterpret_cast<char*>(this + 1); }
  static Line* make(std::string_view line) {
    auto* l = static_cast<Line*>(::operator new(sizeof(Line) + line.size()));
    l->next = nullptr;
    l->size = line.size();
    std::memcpy(l->text(), line.data(), line.size());
    return l;
  }
  static void destroy(Line* l) { ::operator delete(l); }
};

Sink::Sink(int fd, std::size_t capacity) : fd_(fd), capacity_(capacity), thread_([this] { run(); }) {}

Sink::~Sink() {
  {
    std::lock_guard lock(mutex_);
    stopping_.store(true);
  }
  wake_.notify_one();
  doorbell_.fetch_add(1);
  doorbell_.notify_one();
  thread_.join();
  flush();
}

void Sink::wake_batching() {
  { std::lock_guard lock(mutex_); }  // the writer is either before its check or waiting
  wake_.notify_one();
}

void Sink::add(std::string_view line, bool urgent) {
  const std::size_t before = pending_bytes_.fetch_add(line.size());
  if (before + line.size() > capacity_) {
    pending_bytes_.fetch_sub(line.size());
    dropped_.fetch_add(1);
    dropped_total_.fetch_add(1);
    return;
  }
  Line* node = Line::make(line);
  node->next = newest_.load(std::memory_order_relaxed);
  while (!newest_.compare_exchange_weak(node->next, node, std::memory_order_release,
                                        std::memory_order_relaxed)) {
  }
  // The first line wakes the sleeping writer, which then gives the batch its 20 ms.
  if (before == 0) {
    doorbell_.fetch_add(1);
    doorbell_.notify_one();
  }
  if (urgent) {
    urgent_.store(true);
    wake_batching();
  } else if (before < kFlushBytes && before + line.size() >= kFlushBytes) {
    wake_batching();
  }
}

void Sink::flush() { write_pending(); }

std::uint64_t Sink::dropped_total() const { return dropped_total_.load(); }

void Sink::write_pending() {
  std::lock_guard writing(write_mutex_);
  urgent_.store(false);
  Line* line = newest_.exchange(nullptr, std::memory_order_acquire);
  Line* oldest = nullptr;
  std::size_t bytes = 0;
  while (line) {  // newest first → oldest first
    Line* next = line->next;
    line->next = oldest;
    oldest = line;
    bytes += line->size;
    line = next;
  }
  batch_.clear();
  batch_.reserve(bytes);
  while (oldest) {
    Line* next = oldest->next;
    batch_.append(oldest->text(), oldest->size);
    Line::destroy(oldest);
    oldest = next;
  }
  pending_bytes_.fetch_sub(bytes);
  const std::uint64_t dropped = dropped_.exchange(0);
  write_all(fd_, batch_);
  if (batch_.capacity() > kFlushBytes * 4) std::string().swap(batch_);  // after a burst
  if (dropped > 0) {
    // Said once the reader keeps up again (this write returned), not once per dropped line.
    std::string notice = "{\"level\":\"warn\",\"msg\":\"log lines dropped\",\"count\":" +
                         std::to_string(dropped) + "}\n";
    write_all(fd_, notice);
  }
}

void Sink::run() {
  for (;;) {
    const std::uint32_t bell = doorbell_.load();
    if (stopping_.load()) return;
    if (pending_bytes_.load() == 0) {
      doorbell_.wait(bell);
      continue;
    }
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, std::chrono::milliseconds(20), [this] {
        return stopping_.load() || urgent_.load() || pending_bytes_.load() >= kFlushBytes;
      });
      if (stopping_.load()) return;
    }
    write_pending();
  }
}

namespace {

Sink& sink() {
  static Sink instance(STDERR_FILENO, kSinkCapacity);
  return instance;
}

bool needs_escape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

// Whether any of the 8 bytes of `w` is below 0x20, a quote or a backslash (exact: a flagged word
// is then looked at byte by byte).
bool word_needs_escape(std::uint64_t w) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ull;
  constexpr std::uint64_t kHighs = 0x8080808080808080ull;
  auto has_zero_byte = [](std::uint64_t v) { return (v - kOnes) & ~v & kHighs; };
  const std::uint64_t below_space = (w - kOnes * 0x20) & ~w & kHighs;
  return (below_space | has_zero_byte(w ^ (kOnes * '"')) | has_zero_byte(w ^ (kOnes * '\\'))) != 0;
}

// Appends the runs that need no escaping whole, skipping them eight bytes at a time: most text
// (routes, ids, paths) is one run.
void append_escaped(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  const char* data = text.data();
  const std::size_t size = text.size();
  std::size_t start = 0;
  std::size_t i = 0;
  while (i < size) {
    if (size - i >= 8) {
      std::uint64_t word;
      std::memcpy(&word, data + i, 8);
      if (!word_needs_escape(word)) {
        i += 8;
        continue;
      }
    }
    const auto c = static_cast<unsigned char>(data[i]);
    if (!needs_escape(c)) {
      ++i;
      continue;
    }
    out.append(data + start, i - start);
    start = ++i;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xf];
    }
  }
  out.append(data + start, size - start);
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

// The date and time to the second are formatted once a second per thread; only the milliseconds
// change between the lines of one second.
void append_timestamp(std::string& out) {
  using namespace std::chrono;
  auto now = system_clock::now();
  auto secs = system_clock::to_time_t(now);
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  thread_local std::time_t formatted_secs = -1;
  thread_local char prefix[48] = {};  // "YYYY-MM-DDTHH:MM:SS."
  thread_local int prefix_size = 0;
  if (ms < 0 || secs < 0) {  // before 1970: never on a real clock; formatted as it always was
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms));
    out += buf;
    return;
  }
  if (secs != formatted_secs) {
    std::tm tm{};
    gmtime_r(&secs, &tm);
    prefix_size = std::snprintf(prefix, sizeof prefix, "%04d-%02d-%02dT%02d:%02d:%02d.",
                                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                                tm.tm_min, tm.tm_sec);
    formatted_secs = secs;
  }
  out.append(prefix, static_cast<std::size_t>(prefix_size));
  const char digits[4] = {static_cast<char>('0' + ms / 100), static_cast<char>('0' + ms / 10 % 10),
                          static_cast<char>('0' + ms % 10), 'Z'};
  out.append(digits, 4);
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
  // A local buffer, not a thread_local one: a line may be logged while this thread's
  // thread_locals are being destroyed (at exit).
  std::string line;
  line.reserve(256);
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
      char buf[24];
      auto end = std::to_chars(buf, buf + sizeof buf, *i).ptr;
      line.append(buf, end);
    } else if (auto* d = std::get_if<double>(&f.value)) {
      // What printf's "%.3f" writes, without printf's cost.
      char buf[352];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *d, std::chars_format::fixed, 3);
      if (ec == std::errc()) {
        line.append(buf, end);
      } else {
        std::snprintf(buf, sizeof buf, "%.3f", *d);
        line += buf;
      }
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
